"""Residents who adopt an asset (a bus shelter, a storm drain) and look after it: the adopter,
each adoption with its care task and rhythm, and the visits they log.

Written only by issues/services/adoption.py, which keeps Asset.adopter_count in step and makes
a "needs repair" visit a report against the asset in the same transaction.
"""

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from issues.models.photos import photo_path, thumbnail_path
from issues.models.reports import PUBLIC_ID_ALPHABET, Issue

VISIT_NOTE_MAX = 1000


def new_adopter_id() -> str:
    """The adopter page's address: random, so adopters cannot be counted through or guessed."""
    return "".join(secrets.choice(PUBLIC_ID_ALPHABET) for _ in range(10))


class Adopter(models.Model):
    """A resident who has adopted: how they appear in public. Their name is shown only if they
    chose so; otherwise every page and download calls them "a neighbour"."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="adopter",
        verbose_name=_("account"),
    )
    public_id = models.CharField(
        _("public id"), max_length=12, unique=True, default=new_adopter_id, editable=False
    )
    show_name = models.BooleanField(_("show my name on the assets I adopt"), default=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("adopter")
        verbose_name_plural = _("adopters")

    def __str__(self) -> str:
        return f"adopter {self.public_id}"

    def get_absolute_url(self) -> str:
        return reverse("issues:adopter", kwargs={"public_id": self.public_id})

    @property
    def public_name(self) -> str:
        return str(self.user.public_name) if self.show_name else str(_("a neighbour"))


class EndReason(models.TextChoices):
    GAVE_UP = "gave_up", _("Given up by the adopter")
    ENDED_BY_CITY = "ended_by_city", _("Ended by the city")


class AdoptionQuerySet(models.QuerySet):
    def active(self):
        return self.filter(ended_at__isnull=True)


class Adoption(models.Model):
    """One person looking after one asset, on the terms they agreed to: a care task and a
    rhythm. A visit due and not logged earns one reminder per due date."""

    asset = models.ForeignKey(
        "departments.Asset",
        on_delete=models.CASCADE,
        related_name="adoptions",
        verbose_name=_("asset"),
    )
    adopter = models.ForeignKey(
        Adopter, on_delete=models.CASCADE, related_name="adoptions", verbose_name=_("adopter")
    )
    care_task = models.CharField(_("care task"), max_length=255)
    every_days = models.PositiveSmallIntegerField(_("visit every (days)"))
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    next_due_at = models.DateTimeField(
        _("next visit due"), help_text=_("When the next visit is due.")
    )
    send_reminders = models.BooleanField(
        _("send reminders"),
        default=True,
        help_text=_("Off when the adopter used the reminder's unsubscribe link."),
    )
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("ended by"),
    )
    end_reason = models.CharField(
        _("how it ended"), max_length=20, choices=EndReason.choices, blank=True
    )
    end_note = models.CharField(_("why it ended"), max_length=255, blank=True)

    objects = AdoptionQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("adoption")
        verbose_name_plural = _("adoptions")
        indexes = [
            # The reminder job reads the active adoptions whose visit is due.
            models.Index(
                fields=["next_due_at"],
                condition=models.Q(ended_at__isnull=True),
                name="adoption_active_due",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["asset", "adopter"],
                condition=models.Q(ended_at__isnull=True),
                name="adoption_active_once",
            ),
            models.CheckConstraint(condition=models.Q(every_days__gte=1), name="adoption_every_1"),
            models.CheckConstraint(
                condition=(models.Q(ended_at__isnull=True) & models.Q(end_reason=""))
                | (models.Q(ended_at__isnull=False) & ~models.Q(end_reason="")),
                name="adoption_ended_with_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"adoption {self.pk} of asset {self.asset_id}"

    @property
    def is_active(self) -> bool:
        return self.ended_at is None

    def due_date(self, now: datetime) -> datetime | None:
        """The due date a reminder sent at `now` is about: the next visit's, or, when that has
        passed unvisited, the latest date in its rhythm since then. None when nothing is due.
        So a lapsed adopter hears once per period, never twice about the same date."""
        if now < self.next_due_at:
            return None
        periods = (now - self.next_due_at) // timedelta(days=self.every_days)
        return self.next_due_at + periods * timedelta(days=self.every_days)


class VisitOutcome(models.TextChoices):
    CLEANED = "cleaned", _("Cleaned it")
    ALL_GOOD = "all_good", _("Checked it: all good")
    NEEDS_REPAIR = "needs_repair", _("It needs a repair")


class Visit(models.Model):
    """An adopter's visit, with an optional note and photo. "Needs repair" made `issue`."""

    adoption = models.ForeignKey(
        Adoption, on_delete=models.CASCADE, related_name="visits", verbose_name=_("adoption")
    )
    visited_at = models.DateTimeField(_("visited"), default=timezone.now)
    outcome = models.CharField(_("outcome"), max_length=20, choices=VisitOutcome.choices)
    note = models.TextField(_("note"), blank=True, validators=[MaxLengthValidator(VISIT_NOTE_MAX)])
    image = models.ImageField(
        _("photo"), upload_to=photo_path, width_field="width", height_field="height", blank=True
    )
    thumbnail = models.ImageField(_("thumbnail"), upload_to=thumbnail_path, blank=True)
    width = models.PositiveIntegerField(_("width"), default=0)
    height = models.PositiveIntegerField(_("height"), default=0)
    issue = models.ForeignKey(
        Issue,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="visits",
        verbose_name=_("repair report"),
    )

    class Meta:
        ordering = ["-visited_at", "-id"]
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        indexes = [models.Index(fields=["adoption", "visited_at"], name="visit_adoption_at")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(outcome__in=[o.value for o in VisitOutcome]),
                name="visit_outcome_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"visit {self.pk} to adoption {self.adoption_id}"
