"""Safety and moderation (issue 20): the site-wide banner, the ban list, abuse reports from the
public and the log of every moderation action."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SiteBannerQuerySet(models.QuerySet):
    def current(self, now=None):
        now = now or timezone.now()
        return self.filter(starts_at__lte=now).filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))


class SiteBanner(models.Model):
    """A message on every page for a while: a storm, an outage, a phone line down."""

    message = models.CharField(max_length=500)
    link = models.URLField(blank=True)
    starts_at = models.DateTimeField(default=timezone.now)
    ends_at = models.DateTimeField(null=True, blank=True, help_text=_("Empty: until removed."))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = SiteBannerQuerySet.as_manager()

    class Meta:
        verbose_name = _("site banner")
        verbose_name_plural = _("site banners")
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gt=models.F("starts_at")),
                name="sitebanner_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return self.message[:60]


class Ban(models.Model):
    """A sender whose reports are kept for staff but never published, mailed to others or sent
    to the city's system. By account, or by email address (anonymous reports give one)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    email = models.EmailField(blank=True, help_text=_("Lower case; also matches accounts."))
    reason = models.CharField(max_length=255)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("ban")
        verbose_name_plural = _("bans")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False) | ~Q(email=""), name="ban_names_someone"
            )
        ]

    def __str__(self) -> str:
        return str(self.user or self.email)

    def save(self, *args, **kwargs):
        self.email = (self.email or "").strip().lower()
        super().save(*args, **kwargs)


class AbuseReason(models.TextChoices):
    PERSONAL = "personal", _("It shows personal details (a phone number, a face, a plate)")
    OFFENSIVE = "offensive", _("It is offensive or abusive")
    SPAM = "spam", _("It is spam or advertising")
    FALSE = "false", _("It is false or misleading")
    OTHER = "other", _("Something else")


class AbuseReportQuerySet(models.QuerySet):
    def waiting(self):
        return self.filter(resolved_at__isnull=True)


class AbuseReport(models.Model):
    """Someone telling the moderators a public report, update or photo should not be there.
    Who sent it is kept for rate limits and staff alone, and never shown anywhere."""

    issue = models.ForeignKey(
        "issues.Issue", verbose_name=_("issue"), on_delete=models.CASCADE, related_name="+"
    )
    comment = models.ForeignKey(
        "issues.Comment",
        verbose_name=_("comment"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    photo = models.ForeignKey(
        "issues.Photo",
        verbose_name=_("photo"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    reason = models.CharField(_("reason"), max_length=20, choices=AbuseReason.choices)
    details = models.TextField(_("details"), blank=True, max_length=1000)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sent by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("resolved by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = AbuseReportQuerySet.as_manager()

    class Meta:
        verbose_name = _("abuse report")
        verbose_name_plural = _("abuse reports")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["resolved_at", "created_at"], name="abuse_waiting")]

    def __str__(self) -> str:
        what = "photo" if self.photo_id else "update" if self.comment_id else "report"
        return f"{self.get_reason_display()}: {what} on {self.issue_id}"

    @property
    def target_label(self) -> str:
        if self.photo_id:
            return str(_("photo"))
        if self.comment_id:
            return str(_("update"))
        return str(_("report"))


class ModerationKind(models.TextChoices):
    HIDE = "hide", _("hidden")
    SHOW = "show", _("shown again")
    RELEASE = "release", _("released for publication")
    EDIT_TEXT = "edit_text", _("text edited")
    REMOVE_NAME = "remove_name", _("reporter's name removed")
    REDACT_PHOTO = "redact_photo", _("photo redacted")
    RESOLVE_ABUSE = "resolve_abuse", _("abuse report closed")
    BAN = "ban", _("sender banned")


class ModerationAction(models.Model):
    """One moderation step on an issue, its update or its photo: who, when, why, and for an edit
    the text before and after. Staff only; the public sees "edited by moderator"."""

    issue = models.ForeignKey(
        "issues.Issue", on_delete=models.CASCADE, related_name="moderation_actions"
    )
    comment = models.ForeignKey(
        "issues.Comment", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    photo = models.ForeignKey(
        "issues.Photo", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=ModerationKind.choices)
    reason = models.CharField(max_length=255, blank=True)
    before = models.TextField(blank=True)
    after = models.TextField(blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("moderation action")
        verbose_name_plural = _("moderation actions")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["issue", "at"], name="moderation_issue_at")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.issue_id}"
