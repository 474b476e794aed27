"""Adoption: a resident takes on an asset's care, logs visits, gives it up; staff end it.

Each write locks the asset's row, so two people adopting the last place at once cannot both
get it, and keeps Asset.adopter_count (what maps and ward figures read) equal to the number of
active adoptions. A visit that finds the asset needing repair reports it against the asset in
the same transaction, through create_issue like any report.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import roles
from departments.asset_cells import count_adoption_change
from departments.models import Asset, ServiceType
from departments.translations import translated
from issues.models import (
    VISIT_NOTE_MAX,
    Adopter,
    Adoption,
    EndReason,
    Source,
    Visit,
    VisitOutcome,
)
from issues.photos import PreparedPhoto, attach_files
from issues.services.reports import create_issue

# A visit logged from a phone whose clock runs a little fast is still "now".
CLOCK_SLACK = timedelta(minutes=10)


def _lock_asset(asset: Asset) -> Asset:
    return Asset.objects.select_for_update().select_related("layer").get(pk=asset.pk)


def _recount(asset: Asset) -> int:
    """Set the asset's adopter count from its active adoptions (under the asset's lock)."""
    count = Adoption.objects.active().filter(asset=asset).count()
    # The map's cells first: a recount of the layer's cells running now makes this wait.
    count_adoption_change(asset, was_adopted=asset.adopter_count > 0, is_adopted=count > 0)
    Asset.objects.filter(pk=asset.pk).update(adopter_count=count)
    asset.adopter_count = count
    return count


def adopt_asset(*, asset: Asset, user, show_name: bool | None = None) -> Adoption:
    """`user` adopts `asset` on its layer's terms: the care task, a visit every so many days.

    Refused when the layer is not adoptable, when the asset already has as many adopters as
    its layer allows, or when the person already looks after it. `show_name` sets whether the
    adopter's name appears in public (all their adoptions; unchanged when None)."""
    if not (user and user.is_authenticated and user.is_active):
        raise PermissionDenied(_("Sign in to adopt."))
    with transaction.atomic():
        locked = _lock_asset(asset)
        layer = locked.layer
        label = translated(layer, "asset_label")
        if not layer.adoptable:
            raise ValidationError({"asset": _("A %(label)s cannot be adopted.") % {"label": label}})
        adopter, _created = Adopter.objects.get_or_create(user=user)
        active = Adoption.objects.active().filter(asset=locked)
        if active.filter(adopter=adopter).exists():
            raise ValidationError(
                {"asset": _("You already look after this %(label)s.") % {"label": label}}
            )
        if active.count() >= layer.max_adopters:
            raise ValidationError(
                {
                    "asset": _(
                        "This %(label)s already has as many adopters as it can have. "
                        "Pick another one nearby."
                    )
                    % {"label": label}
                }
            )
        if show_name is not None and show_name != adopter.show_name:
            adopter.show_name = show_name
            adopter.save(update_fields=["show_name"])
        now = timezone.now()
        adoption = Adoption.objects.create(
            asset=locked,
            adopter=adopter,
            care_task=layer.care_task
            or _("Keep an eye on this %(label)s and tell the city what needs fixing.")
            % {"label": label},
            every_days=layer.care_every_days,
            started_at=now,
            next_due_at=now + timedelta(days=layer.care_every_days),
        )
        _recount(locked)
    asset.adopter_count = locked.adopter_count
    return adoption


def _require_adopter(adoption: Adoption, by) -> None:
    if not (by and by.is_authenticated and adoption.adopter.user_id == by.pk):
        raise PermissionDenied(_("Only the adopter can do this."))
    if not adoption.is_active:
        raise ValidationError(_("This adoption has ended."))


def log_visit(
    *,
    adoption: Adoption,
    by,
    outcome: str,
    note: str = "",
    photo: PreparedPhoto | None = None,
    repair_type: ServiceType | None = None,
    visited_at: datetime | None = None,
) -> Visit:
    """The adopter was there: the visit, its note and photo, and the next visit's due date.

    "Needs repair" also reports the asset to the city, as the adopter, with the note and the
    photo, under `repair_type` (one of the layer's types; the only one when there is one)."""
    _require_adopter(adoption, by)
    now = timezone.now()
    visited_at = visited_at or now
    note = (note or "").replace("\r\n", "\n").strip()
    errors = _visit_errors(adoption, outcome, note, visited_at, now)
    if outcome == VisitOutcome.NEEDS_REPAIR:
        repair_type = repair_type or _only_repair_type(adoption)
        if repair_type is None or repair_type.asset_layer_id != adoption.asset.layer_id:
            errors["repair_type"] = [_("Say what needs repairing.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        visit = Visit(adoption=adoption, visited_at=visited_at, outcome=outcome, note=note)
        if outcome == VisitOutcome.NEEDS_REPAIR:
            visit.issue = create_issue(
                service_type=repair_type,
                latitude=None,
                longitude=None,
                asset=adoption.asset,
                description=note or _("Found needing repair by its adopter."),
                reporter=by,
                photos=[photo] if photo else (),
                source=Source.WEB,
            )
        if photo is not None:
            attach_files(visit, photo)
        visit.save()
        due = visited_at + timedelta(days=adoption.every_days)
        if due > adoption.next_due_at:
            adoption.next_due_at = due
            adoption.save(update_fields=["next_due_at"])
    return visit


def _visit_errors(
    adoption: Adoption, outcome: str, note: str, visited_at: datetime, now: datetime
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if outcome not in VisitOutcome.values:
        errors["outcome"] = [_("Say how you found it.")]
    if len(note) > VISIT_NOTE_MAX:
        errors["note"] = [
            _("The note is %(n)d characters; at most %(max)d.")
            % {"n": len(note), "max": VISIT_NOTE_MAX}
        ]
    if "\x00" in note:
        errors["note"] = [_("Null characters are not allowed.")]
    if visited_at > now + CLOCK_SLACK:
        errors["visited_at"] = [_("A visit cannot be in the future.")]
    elif visited_at < adoption.started_at - CLOCK_SLACK:
        errors["visited_at"] = [_("That is before you adopted it.")]
    return errors


def _only_repair_type(adoption: Adoption) -> ServiceType | None:
    types = list(adoption.asset.layer.service_types.filter(active=True)[:2])
    return types[0] if len(types) == 1 else None


def _end(adoption: Adoption, *, by, reason: str, note: str) -> Adoption:
    with transaction.atomic():
        locked_asset = _lock_asset(adoption.asset)
        locked = Adoption.objects.select_for_update().get(pk=adoption.pk)
        if not locked.is_active:
            raise ValidationError(_("This adoption has already ended."))
        locked.ended_at = timezone.now()
        locked.ended_by = by
        locked.end_reason = reason
        locked.end_note = note[:255]
        locked.save(update_fields=["ended_at", "ended_by", "end_reason", "end_note"])
        _recount(locked_asset)
    adoption.ended_at, adoption.end_reason = locked.ended_at, locked.end_reason
    adoption.asset.adopter_count = locked_asset.adopter_count
    return adoption


def give_up_adoption(*, adoption: Adoption, by, note: str = "") -> Adoption:
    """The adopter stops looking after the asset; its place is free for someone else."""
    _require_adopter(adoption, by)
    return _end(adoption, by=by, reason=EndReason.GAVE_UP, note=(note or "").strip())


def can_end_adoptions(user, asset: Asset) -> bool:
    """Admins, and staff of a department whose types are reported against the asset's layer."""
    if roles.is_admin(user):
        return True
    departments = roles.department_ids(user)
    return (
        bool(departments)
        and asset.layer.service_types.filter(department_id__in=departments).exists()
    )


def end_adoption(*, adoption: Adoption, by, note: str) -> Adoption:
    """Staff end an adoption (the asset is removed, the adopter cannot be reached...), saying
    why; the reason is public on the asset's history, so write it for the neighbours."""
    if not can_end_adoptions(by, adoption.asset):
        raise PermissionDenied(_("Only the city's staff for this layer can end an adoption."))
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": _("Say why the adoption ends.")})
    return _end(adoption, by=by, reason=EndReason.ENDED_BY_CITY, note=note)


def set_name_shown(*, user, show: bool) -> Adopter:
    """Whether the adopter's name appears on their assets and their page, or "a neighbour"."""
    adopter, _created = Adopter.objects.get_or_create(user=user)
    if adopter.show_name != show:
        adopter.show_name = show
        adopter.save(update_fields=["show_name"])
    return adopter
