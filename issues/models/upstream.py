"""The city's own 311 system, as issues see it: the outbox of what goes up (reports, comments
and status changes), each endpoint's health and how far its updates were read, and every update
heard back, kept so the same update never applies twice.

Delivery and polling live in issues/upstream/ and issues/services/cityupdates.py; docs/open311.md
says how each failure is detected and why no report is created twice upstream.
"""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from issues.models.reports import Issue
from issues.models.updates import Comment, StatusChange


class UpstreamKind(models.TextChoices):
    REPORT = "report", _("Report")
    UPDATE = "update", _("Comment or status change")


class UpstreamState(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class UpstreamSend(models.Model):
    """One report, comment or status change to send to the city's system, written in the
    transaction that made it and delivered after commit (issues/upstream/delivery.py).

    `maybe_sent` is the guard against a second copy upstream: it is set, and committed, before
    every POST, and cleared only when the answer proves nothing was created (the connection was
    refused, or the city refused the request). While it is set, the next attempt first looks for
    the report upstream and adopts the id it finds instead of posting again.
    """

    issue = models.ForeignKey(
        Issue, on_delete=models.CASCADE, related_name="upstream_sends", verbose_name=_("issue")
    )
    endpoint = models.ForeignKey(
        "departments.UpstreamEndpoint",
        on_delete=models.CASCADE,
        related_name="sends",
        verbose_name=_("endpoint"),
    )
    kind = models.CharField(max_length=10, choices=UpstreamKind.choices, verbose_name=_("kind"))
    status_change = models.ForeignKey(
        StatusChange,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("status change"),
    )
    comment = models.ForeignKey(
        Comment,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("comment"),
    )
    dedupe_key = models.CharField(max_length=120, unique=True, verbose_name=_("dedupe key"))
    state = models.CharField(
        max_length=10,
        choices=UpstreamState.choices,
        default=UpstreamState.PENDING,
        verbose_name=_("state"),
    )
    attempts = models.PositiveSmallIntegerField(default=0, verbose_name=_("attempts"))
    next_attempt_at = models.DateTimeField(default=timezone.now, verbose_name=_("next attempt at"))
    # A worker's claim: rows are claimed and released in short transactions, never held locked
    # while the city's server is asked (which can take the whole timeout).
    claimed_until = models.DateTimeField(null=True, blank=True, verbose_name=_("claimed until"))
    maybe_sent = models.BooleanField(default=False, verbose_name=_("maybe sent"))
    first_posted_at = models.DateTimeField(null=True, blank=True, verbose_name=_("first posted at"))
    token = models.CharField(max_length=100, blank=True, verbose_name=_("token"))
    remote_id = models.CharField(
        _("their id"),
        max_length=100,
        blank=True,
        help_text=_("The city's service_request_id (a report) or update_id (an update)."),
    )
    last_error = models.TextField(blank=True, verbose_name=_("last error"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    sent_at = models.DateTimeField(null=True, blank=True, verbose_name=_("sent at"))

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="upstream_due"),
            models.Index(fields=["issue", "kind"], name="upstream_issue_kind"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state__in=[s.value for s in UpstreamState]),
                name="upstream_state_valid",
            ),
        ]
        verbose_name = _("send to the city's system")
        verbose_name_plural = _("sends to the city's system")

    def __str__(self) -> str:
        return f"{self.kind} of {self.issue_id} to {self.endpoint_id} ({self.state})"


class UpstreamHealth(models.Model):
    """How an endpoint is doing (for the workbench and the department's alert) and how far its
    updates have been read."""

    endpoint = models.OneToOneField(
        "departments.UpstreamEndpoint",
        on_delete=models.CASCADE,
        related_name="health",
        verbose_name=_("endpoint"),
    )
    consecutive_failures = models.PositiveIntegerField(
        default=0, verbose_name=_("consecutive failures")
    )
    failing_since = models.DateTimeField(null=True, blank=True, verbose_name=_("failing since"))
    last_error = models.TextField(blank=True, verbose_name=_("last error"))
    last_success_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last success at"))
    alerted_at = models.DateTimeField(null=True, blank=True, verbose_name=_("alerted at"))
    # The latest updated_datetime read from the city: the next poll asks from a little before it.
    updates_read_until = models.DateTimeField(
        null=True, blank=True, verbose_name=_("updates read until")
    )
    last_polled_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last polled at"))

    class Meta:
        verbose_name = _("city system health")
        verbose_name_plural = _("city system health")

    def __str__(self) -> str:
        return f"health of {self.endpoint_id}"


class CityUpdate(models.Model):
    """An update about one of our issues from the city's system (read by the poll, pushed to us,
    or our own update reported back): its key is unique per issue, so seeing it again changes
    nothing."""

    class Channel(models.TextChoices):
        POLL = "poll", _("Read from the city")
        PUSH = "push", _("Pushed by the city")
        ECHO = "echo", _("Our own update, as the city numbered it")

    issue = models.ForeignKey(
        Issue, on_delete=models.CASCADE, related_name="city_updates", verbose_name=_("issue")
    )
    update_key = models.CharField(max_length=200, verbose_name=_("update key"))
    channel = models.CharField(max_length=5, choices=Channel.choices, verbose_name=_("channel"))
    status_change = models.ForeignKey(
        StatusChange,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("status change"),
    )
    received_at = models.DateTimeField(default=timezone.now, verbose_name=_("received at"))

    class Meta:
        verbose_name = _("update from the city")
        verbose_name_plural = _("updates from the city")
        constraints = [
            models.UniqueConstraint(fields=["issue", "update_key"], name="city_update_once"),
        ]

    def __str__(self) -> str:
        return f"{self.update_key} on {self.issue_id}"
