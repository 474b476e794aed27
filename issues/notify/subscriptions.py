"""Following and unfollowing: issues and wards, by account or by bare address, and what an
unsubscribe link stops (or its "undo" restores)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _

from departments.models import Department, Ward
from issues.models import Adoption, AreaAlert, EmailOptOut, Issue, Subscription
from issues.notify.recipients import opt_outs


def follow_issue(*, issue: Issue, user=None, email: str = "") -> Subscription:
    """Follow an issue (an account, or a bare address for anonymous reporters)."""
    return _subscribe(issue=issue, user=user, email=email)


def watch_ward(*, ward: Ward, user=None, email: str = "") -> Subscription:
    """Hear about every new report in a ward."""
    return _subscribe(ward=ward, user=user, email=email)


def _subscribe(*, issue=None, ward=None, user=None, email: str = "") -> Subscription:
    if user is not None:
        lookup = {"user": user}
    else:
        email = (email or "").strip().lower()
        if not email:
            raise ValidationError({"email": _("An email address is needed to follow.")})
        lookup = {"user": None, "email": email}
    subscription, _created = Subscription.objects.get_or_create(issue=issue, ward=ward, **lookup)
    return subscription


def unfollow(*, subscription: Subscription) -> None:
    subscription.delete()


def unfollow_issue(*, issue: Issue, user) -> int:
    deleted, _ = Subscription.objects.filter(issue=issue, user=user).delete()
    return deleted


def unwatch_ward(*, ward: Ward, user) -> int:
    deleted, _ = Subscription.objects.filter(ward=ward, user=user).delete()
    return deleted


def _subscriptions_of(email: str, **target):
    return Subscription.objects.filter(
        Q(user__isnull=True, email=email) | Q(user__email=email), **target
    )


def unsubscribe(*, email: str, scope: str, target_id: int | None = None) -> int:
    """Stop the mail an unsubscribe link names. Idempotent; returns how many things changed.

    issue: stop following the issue; ward: stop watching the ward; digest: an alderman's daily
    digest and hotspot alerts; department: the department's feed of new issues (its contact
    address only); escalation: a staff member's overdue-issue escalations; adoption: that
    adoption's visit reminders (the adoption goes on); all: every email to the address
    (EmailOptOut)."""
    email = email.lower()
    if scope == "issue":
        return _subscriptions_of(email, issue_id=target_id).delete()[0]
    if scope == "ward":
        return _subscriptions_of(email, ward_id=target_id).delete()[0]
    if scope == "digest":
        return (
            get_user_model()
            .objects.filter(email=email, notify_ward_digest=True)
            .update(notify_ward_digest=False)
        )
    if scope == "escalation":
        return (
            get_user_model()
            .objects.filter(email__iexact=email, notify_escalations=True)
            .update(notify_escalations=False)
        )
    if scope == "department":
        return Department.objects.filter(
            pk=target_id, contact_email__iexact=email, notify_new_issues=True
        ).update(notify_new_issues=False)
    if scope == "adoption":
        return _reminders(email, target_id).filter(send_reminders=True).update(send_reminders=False)
    if scope == "alert":
        return _alerts_of(email, target_id).filter(active=True).update(active=False)
    if scope == "all":
        if opt_outs().filter(address=email).exists():
            return 0
        return int(EmailOptOut.objects.get_or_create(email=email)[1])
    raise ValueError(f"unknown unsubscribe scope {scope!r}")


def resubscribe(*, email: str, scope: str, target_id: int | None = None) -> int:
    """Undo `unsubscribe` (a click by mistake): following again is what the follow button does."""
    email = email.lower()
    if scope in ("issue", "ward"):
        model = Issue if scope == "issue" else Ward
        target = model.objects.filter(pk=target_id).first()
        if target is None:
            return 0
        user = get_user_model().objects.filter(email=email, is_active=True).first()
        who = {"user": user} if user else {"email": email}
        if scope == "issue":
            follow_issue(issue=target, **who)
        else:
            watch_ward(ward=target, **who)
        return 1
    if scope == "digest":
        return get_user_model().objects.filter(email=email).update(notify_ward_digest=True)
    if scope == "escalation":
        return get_user_model().objects.filter(email__iexact=email).update(notify_escalations=True)
    if scope == "department":
        return Department.objects.filter(pk=target_id, contact_email__iexact=email).update(
            notify_new_issues=True
        )
    if scope == "adoption":
        return _reminders(email, target_id).update(send_reminders=True)
    if scope == "alert":
        return _alerts_of(email, target_id).update(active=True)
    if scope == "all":
        return EmailOptOut.objects.filter(email__iexact=email).delete()[0]
    raise ValueError(f"unknown unsubscribe scope {scope!r}")


def _reminders(email: str, adoption_id: int | None):
    return Adoption.objects.filter(pk=adoption_id, adopter__user__email=email)


def _alerts_of(email: str, alert_id: int | None):
    return AreaAlert.objects.filter(
        Q(user__isnull=True, email=email) | Q(user__email=email), pk=alert_id
    )
