"""What happens to a report after it is made: comments (with internal notes and official
replies), status changes (its history) and votes."""

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import public_name
from departments.models import Priority
from departments.translations import translated
from issues.models.reports import DESCRIPTION_MAX, Issue, Moderated, Resolution, Status


class CommentQuerySet(models.QuerySet):
    def public(self) -> "CommentQuerySet":
        """What anyone may read: neither a staff-only note nor hidden by a moderator."""
        return self.filter(is_internal=False, is_hidden=False)


class UpdateKind(models.TextChoices):
    """What a resident's update says besides its text: a plain comment, "still there" (the
    problem persists, open or closed), or "it's fixed" on an open report. Neither changes the
    status: staff read them in the history and decide (docs/residents.md)."""

    COMMENT = "", _("Comment")
    STILL_THERE = "still_there", _("Still there")
    FIXED = "fixed", _("Says it's fixed")


class Comment(Moderated):
    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    body = models.TextField(validators=[MaxLengthValidator(DESCRIPTION_MAX)])
    is_internal = models.BooleanField(
        _("internal staff note"), default=False, help_text=_("Never shown outside the staff.")
    )
    # A public comment by the department's staff is an official reply: the public sees the
    # department, never the staffer's name (docs/residents.md); the author stays for staff.
    official_department = models.ForeignKey(
        "departments.Department",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    kind = models.CharField(max_length=12, choices=UpdateKind.choices, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    objects = CommentQuerySet.as_manager()

    class Meta:
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["issue", "created_at"], name="comment_issue_created")]

    def __str__(self) -> str:
        kind = "note" if self.is_internal else "comment"
        return f"{kind} {self.pk} on {self.issue_id}"

    @property
    def public_author(self) -> str:
        """Who the public sees as the writer: the department for an official reply."""
        return public_author(
            # The department's name in the reader's language (departments/translations.py).
            official_name=translated(self.official_department, "name")
            if self.official_department_id
            else None,
            display_name=self.author.display_name if self.author_id else "",
        )


def public_author(*, official_name: str | None, display_name: str) -> str:
    """A comment's writer as the public sees them, from what was read of it (a model or a row
    of values, selectors.public_timeline): the department that replied (`official_name`, None
    for a resident's comment), else the author's display name (User.public_name: never the
    email address), else "a resident"."""
    if official_name is not None:
        return official_name
    return str(public_name(display_name))


class StatusChange(models.Model):
    """One step of an issue's history: a status change and/or a transfer between departments."""

    # Indexed by change_issue_created (issue, created_at) below, which leads with the issue.
    issue = models.ForeignKey(
        Issue, on_delete=models.CASCADE, related_name="status_changes", db_index=False
    )
    from_status = models.CharField(max_length=20, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=Status.choices)
    from_department = models.ForeignKey(
        "departments.Department", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    to_department = models.ForeignKey(
        "departments.Department", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    message = models.TextField(_("public message"), blank=True)
    # Set when the change came from the city's own system (polled or pushed): its name. Empty for
    # changes made here, whose author is `changed_by` (or the system acting for the reporter).
    source = models.CharField(_("from"), max_length=120, blank=True)
    # A close records its resolution; a re-categorisation the type before and after.
    resolution = models.CharField(max_length=20, choices=Resolution.choices, blank=True)
    from_service_type = models.ForeignKey(
        "departments.ServiceType",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    to_service_type = models.ForeignKey(
        "departments.ServiceType",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["issue", "created_at"], name="change_issue_created")]

    def __str__(self) -> str:
        return f"{self.issue_id}: {self.from_status or '-'} -> {self.to_status}"

    @property
    def is_transfer(self) -> bool:
        return self.transfers(self.from_department_id, self.to_department_id)

    @staticmethod
    def transfers(from_department_id: int | None, to_department_id: int | None) -> bool:
        """is_transfer, from the two ids (a timeline that reads changes as values)."""
        return bool(to_department_id and to_department_id != from_department_id)


class Vote(models.Model):
    """ "I have this too": one per account per issue."""

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="votes")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="votes"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("vote")
        verbose_name_plural = _("votes")
        constraints = [models.UniqueConstraint(fields=["issue", "user"], name="vote_once")]

    def __str__(self) -> str:
        return f"vote {self.user_id} on {self.issue_id}"


class StaffChange(models.Model):
    """A step of an issue's history that only its department sees: who it was given to (by hand,
    or by which routing rule) and its priority. Kept apart from StatusChange, which is public
    history: staff names and priorities never reach a public page, feed or the API."""

    class Kind(models.TextChoices):
        ASSIGNEE = "assignee", _("assignment")
        PRIORITY = "priority", _("priority")

    issue = models.ForeignKey(
        Issue, on_delete=models.CASCADE, related_name="staff_changes", db_index=False
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The rule that decided it (None: by hand); its name is kept as it read then, so the
    # timeline still says why after the rule is renamed or deleted.
    rule = models.ForeignKey(
        "departments.RoutingRule",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    rule_name = models.CharField(max_length=120, blank=True)
    from_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    to_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    from_priority = models.CharField(max_length=10, choices=Priority.choices, blank=True)
    to_priority = models.CharField(max_length=10, choices=Priority.choices, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("staff change")
        verbose_name_plural = _("staff changes")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["issue", "created_at"], name="staffchange_issue_created")]

    def __str__(self) -> str:
        return f"{self.issue_id}: {self.kind}"

    @classmethod
    def of_assignee(
        cls, issue: Issue, *, from_assignee_id: int | None, by=None, rule=None, at=None
    ) -> "StaffChange":
        """The (unsaved) record of `issue` going from `from_assignee_id` to its assignee now:
        by hand (`by`), by a rule, or by the system (neither)."""
        return cls(
            issue=issue,
            kind=cls.Kind.ASSIGNEE,
            changed_by=by,
            rule=rule,
            rule_name=rule.name if rule is not None else "",
            from_assignee_id=from_assignee_id,
            to_assignee_id=issue.assignee_id,
            created_at=at or timezone.now(),
        )

    @classmethod
    def of_priority(
        cls, issue: Issue, *, from_priority: str, by=None, rule=None, at=None
    ) -> "StaffChange":
        """The (unsaved) record of `issue` going from `from_priority` to its priority now."""
        return cls(
            issue=issue,
            kind=cls.Kind.PRIORITY,
            changed_by=by,
            rule=rule,
            rule_name=rule.name if rule is not None else "",
            from_priority=from_priority,
            to_priority=issue.priority,
            created_at=at or timezone.now(),
        )
