"""Alerts around a place: creating one (confirmed at once for an account, by a signed emailed
link for a bare address), confirming it, and deleting it. Matching reports to alerts is
issues/notify/areas.py's; the feeds and pages are issues/views/alerts.py's."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from departments.models import ServiceType
from issues.models import (
    ALERT_RADIUS_MAX_M,
    ALERT_RADIUS_MIN_M,
    AlertFrequency,
    AreaAlert,
    NotificationEvent,
)
from issues.notify.delivery import schedule_delivery
from issues.notify.drafts import write_row
from issues.notify.links import alert_confirm_url
from issues.notify.recipients import Recipient, allowed

# One person cannot hold more than this many alerts: each one is work on every new report.
MAX_ALERTS_PER_ADDRESS = 20


def _validate(latitude: float, longitude: float, radius_m: int, frequency: str) -> None:
    errors = {}
    if not -90 <= latitude <= 90:
        errors["latitude"] = _("Latitude must be between -90 and 90.")
    if not -180 <= longitude <= 180:
        errors["longitude"] = _("Longitude must be between -180 and 180.")
    if not ALERT_RADIUS_MIN_M <= radius_m <= ALERT_RADIUS_MAX_M:
        errors["radius_m"] = _("The radius must be between %(min)s m and %(max)s m.") % {
            "min": ALERT_RADIUS_MIN_M,
            "max": ALERT_RADIUS_MAX_M,
        }
    if frequency not in AlertFrequency.values:
        errors["frequency"] = _("Choose how often to hear: at once, daily or weekly.")
    if errors:
        raise ValidationError(errors)


def create_alert(
    *,
    latitude: float,
    longitude: float,
    radius_m: int,
    user=None,
    email: str = "",
    service_types: Iterable[ServiceType] = (),
    include_updates: bool = False,
    frequency: str = AlertFrequency.INSTANT,
    label: str = "",
) -> AreaAlert:
    """Watch a circle on the map. A signed-in account's alert works at once; an address-only
    alert is inert until the link emailed to the address is followed (nothing else is sent)."""
    _validate(latitude, longitude, radius_m, frequency)
    email = "" if user is not None else (email or "").strip().lower()
    if user is None and not email:
        raise ValidationError({"email": _("An email address is needed for an alert.")})
    owned = AreaAlert.objects.filter(user=user) if user else AreaAlert.objects.filter(email=email)
    if owned.count() >= MAX_ALERTS_PER_ADDRESS:
        raise ValidationError(
            _("You already have %(n)s alerts; delete one before adding another.")
            % {"n": MAX_ALERTS_PER_ADDRESS}
        )
    with transaction.atomic():
        alert = AreaAlert.objects.create(
            user=user,
            email=email,
            latitude=latitude,
            longitude=longitude,
            radius_m=radius_m,
            include_updates=include_updates,
            frequency=frequency,
            label=label.strip()[:120]
            or _("%(r)s m around %(lat).5f, %(lon).5f")
            % {"r": radius_m, "lat": latitude, "lon": longitude},
            confirmed_at=timezone.now() if user is not None else None,
        )
        alert.service_types.set(list(service_types))
        if user is None:
            _queue_confirmation(alert)
    return alert


def _queue_confirmation(alert: AreaAlert) -> None:
    recipient = Recipient(email=alert.email, language=alert.language)
    if not allowed([recipient], personal=False):
        return  # an address that opted out of everything gets nothing, not even this
    row = write_row(
        event=NotificationEvent.ALERT_CONFIRM,
        ref=f"{alert.pk}",
        recipient=recipient,
        context={"alert": alert, "confirm_url": alert_confirm_url(alert)},
        unsubscribe_scope=("all", None),
    )
    if row is not None:
        schedule_delivery([row.pk])


def confirm_alert(*, alert: AreaAlert) -> AreaAlert:
    """The address owner followed the link: the alert starts. Idempotent."""
    if alert.confirmed_at is None:
        alert.confirmed_at = timezone.now()
        alert.save(update_fields=["confirmed_at"])
    return alert


def delete_alert(*, alert: AreaAlert, user) -> None:
    """Delete one of the signed-in person's own alerts."""
    if alert.user_id != getattr(user, "pk", None):
        raise ValidationError(_("This alert is not yours."))
    alert.delete()
