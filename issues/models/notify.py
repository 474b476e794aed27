"""Who hears about what, and the outbox: subscriptions, opt-outs and one row per email to send.

The rows are written by issues/notify (events, digests, alerts) inside the transaction that causes
them, and delivered by its workers (issues/notify/delivery.py).
"""

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from issues.models.reports import Issue


def new_token() -> str:
    return secrets.token_urlsafe(24)


def current_language() -> str:
    """The language active when a subscription or alert is made (the page's): an address with
    no account is written to in it (issues/notify/recipients.py: language_for)."""
    language = translation.get_language() or ""
    return language if language in dict(settings.LANGUAGES) else ""


class Subscription(models.Model):
    """Someone (an account or a bare email address) following an issue or a ward."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="subscriptions",
        verbose_name=_("account"),
    )
    email = models.EmailField(_("email address"), blank=True)
    issue = models.ForeignKey(
        Issue,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="subscriptions",
        verbose_name=_("issue"),
    )
    ward = models.ForeignKey(
        "departments.Ward",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="subscriptions",
        verbose_name=_("ward"),
    )
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    # The language of the page it was made on: the emails' language for an address with no
    # account (an account's own choice wins). Blank: unknown, the city's default.
    language = models.CharField(_("language"), max_length=16, blank=True, default=current_language)

    class Meta:
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(user__isnull=False) & models.Q(email=""))
                | (models.Q(user__isnull=True) & ~models.Q(email="")),
                name="subscription_user_xor_email",
            ),
            models.CheckConstraint(
                condition=(models.Q(issue__isnull=False) & models.Q(ward__isnull=True))
                | (models.Q(issue__isnull=True) & models.Q(ward__isnull=False)),
                name="subscription_issue_xor_ward",
            ),
            models.UniqueConstraint(
                fields=["user", "issue"],
                condition=models.Q(user__isnull=False, issue__isnull=False),
                name="subscription_user_issue_once",
            ),
            models.UniqueConstraint(
                fields=["user", "ward"],
                condition=models.Q(user__isnull=False, ward__isnull=False),
                name="subscription_user_ward_once",
            ),
            models.UniqueConstraint(
                fields=["email", "issue"],
                condition=models.Q(user__isnull=True, issue__isnull=False),
                name="subscription_email_issue_once",
            ),
            models.UniqueConstraint(
                fields=["email", "ward"],
                condition=models.Q(user__isnull=True, ward__isnull=False),
                name="subscription_email_ward_once",
            ),
        ]

    def __str__(self) -> str:
        who = (self.user_id and f"user {self.user_id}") or self.email
        what = (self.issue_id and f"issue {self.issue_id}") or f"ward {self.ward_id}"
        return f"{who} follows {what}"

    @property
    def address(self) -> str:
        return self.user.email if self.user_id else self.email


class EmailOptOut(models.Model):
    """An address that unsubscribed from everything: checked before any notification is queued."""

    email = models.EmailField(_("email address"), unique=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("email opt-out")
        verbose_name_plural = _("email opt-outs")

    def __str__(self) -> str:
        return self.email


class NotificationEvent(models.TextChoices):
    ISSUE_CREATED = "issue_created", _("Report received")
    STATUS_CHANGED = "status_changed", _("Status changed")
    COMMENT_ADDED = "comment_added", _("Public comment")
    WARD_NEW_ISSUE = "ward_new_issue", _("New issue in a watched ward")
    DEPARTMENT_NEW_ISSUE = "department_new_issue", _("New issue for the department")
    DEPARTMENT_TRANSFER = "department_transfer", _("Issue transferred to the department")
    WARD_DIGEST = "ward_digest", _("Daily ward digest")
    FIXED_FOLLOWUP = "fixed_followup", _("Is it fixed?")
    HOTSPOT = "hotspot", _("Hotspot alert")
    UPSTREAM_FAILING = "upstream_failing", _("The city's system keeps failing")
    ADOPTION_REMINDER = "adoption_reminder", _("Adopted asset: a visit is due")
    ACCOUNT = "account", _("Account email")
    AREA_ALERT = "area_alert", _("New report or update in an alert area")
    ALERT_CONFIRM = "alert_confirm", _("Confirm an alert")
    ALERT_DIGEST = "alert_digest", _("Alert areas: daily or weekly summary")
    ISSUE_REOPENED = "issue_reopened", _("Issue reopened (to its department and assignee)")
    REPORT_CONFIRM = "report_confirm", _("Confirm an anonymous report")
    OVERDUE_ESCALATION = "overdue_escalation", _("Overdue issue escalated (to staff)")


# Mail to a department's own address: it links to the staff workbench, and a hidden issue still
# reaches it (the staff see hidden issues).
STAFF_EVENTS = (
    NotificationEvent.DEPARTMENT_NEW_ISSUE,
    NotificationEvent.DEPARTMENT_TRANSFER,
    NotificationEvent.ISSUE_REOPENED,
)


class NotificationState(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    # Not sent on purpose (issues/notify/withdrawal.py): the issue was hidden, the recipient
    # unsubscribed... Kept apart from failures, which someone has to look at.
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Notification(models.Model):
    """The outbox: one email to one recipient about one event, written in the event's transaction.

    A task sends pending rows; `dedupe_key` (unique) makes a second row for the same event and
    recipient impossible, and the pending -> sent transition happens under a row lock, so an email
    cannot go out twice. Beat re-queues rows left pending when the broker or a worker was down.
    """

    event = models.CharField(_("event"), max_length=32, choices=NotificationEvent.choices)
    dedupe_key = models.CharField(max_length=200, unique=True)
    recipient_email = models.EmailField(_("recipient"))
    recipient_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recipient's account"),
    )
    issue = models.ForeignKey(
        Issue,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("issue"),
    )
    ward = models.ForeignKey(
        "departments.Ward",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("ward"),
    )
    subject = models.CharField(_("subject"), max_length=255)
    body_text = models.TextField(_("text"))
    body_html = models.TextField(_("HTML"), blank=True)
    unsubscribe_url = models.URLField(_("unsubscribe link"), max_length=500, blank=True)
    # An intent: what the worker must render before sending (issues/notify/rendering.py); empty
    # once rendered, and for rows rendered when written.
    render_context = models.JSONField(default=dict, blank=True)
    state = models.CharField(
        _("state"),
        max_length=10,
        choices=NotificationState.choices,
        default=NotificationState.PENDING,
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("email in the outbox")
        verbose_name_plural = _("email outbox")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="outbox_due")]

    def __str__(self) -> str:
        return f"{self.event} to {self.recipient_email} ({self.state})"
