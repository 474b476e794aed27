"""Signed links in emails: unsubscribe (one issue, a ward, the digest, a department's feed or
everything) and the "Is it fixed?" answers. Nobody signs in to use them: the signature is the proof.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

from departments.models import Department, Ward
from issues.models import Adoption, AreaAlert, Issue

UNSUBSCRIBE_SALT = "civicfix.unsubscribe"
FOLLOWUP_SALT = "civicfix.followup"
# What an unsubscribe link can stop: one issue, one watched ward, the aldermen's digest, a
# department's feed of new issues, one adoption's reminders, one alert area, a staff member's
# overdue escalations, or everything sent to the address.
SCOPES = ("issue", "ward", "digest", "department", "adoption", "alert", "escalation", "all")


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def unsubscribe_token(*, email: str, scope: str, target_id: int | None = None) -> str:
    """A signed, sign-in-free token. It never expires: an old email's link must keep working."""
    if scope not in SCOPES:
        raise ValueError(f"unknown unsubscribe scope {scope!r}")
    return signing.dumps({"e": email.lower(), "s": scope, "t": target_id}, salt=UNSUBSCRIBE_SALT)


def read_unsubscribe_token(token: str) -> dict:
    """The token's content; raises signing.BadSignature for a forged or mangled token."""
    data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    if not isinstance(data, dict) or data.get("s") not in SCOPES or not data.get("e"):
        raise signing.BadSignature("Not an unsubscribe token.")
    return data


def scope_target_label(scope: str, target_id: int | None) -> str:
    """The public name of what an unsubscribe link is about: an issue's id, a ward's or a
    department's name; "" for the digest, everything, or a target that is gone."""
    model, field = {
        "issue": (Issue, "public_id"),
        "ward": (Ward, "name"),
        "department": (Department, "name"),
        "adoption": (Adoption, "asset__name"),
        "alert": (AreaAlert, "label"),
    }.get(scope, (None, ""))
    if model is None:
        return ""
    found = model.objects.filter(pk=target_id).values_list(field, flat=True).first()
    return found or ""


def unsubscribe_url(*, email: str, scope: str, target_id: int | None = None) -> str:
    token = unsubscribe_token(email=email, scope=scope, target_id=target_id)
    return absolute(reverse("notify:unsubscribe", kwargs={"token": token}))


def followup_token(issue: Issue) -> str:
    """Signed issue + closing time: an answer to an old closing cannot reopen a later one."""
    return signing.dumps(
        {"i": issue.pk, "c": issue.closed_at.isoformat() if issue.closed_at else ""},
        salt=FOLLOWUP_SALT,
    )


def read_followup_token(token: str) -> tuple[Issue | None, bool]:
    """(issue, current): the issue the token names (None if gone), and whether the token still
    matches its latest closing. Raises signing.BadSignature for a forged or mangled token."""
    data = signing.loads(token, salt=FOLLOWUP_SALT)
    if not isinstance(data, dict) or not isinstance(data.get("i"), int):
        raise signing.BadSignature("Not a follow-up token.")
    issue = Issue.objects.select_related("service_type").filter(pk=data["i"]).first()
    if issue is None:
        return None, False
    current = bool(issue.closed_at) and issue.closed_at.isoformat() == data.get("c")
    return issue, current


def followup_urls(issue: Issue) -> dict[str, str]:
    """The "yes, fixed" and "not fixed" links of a follow-up email (issues/views/followup.py)."""
    token = followup_token(issue)
    return {
        f"{answer}_url": absolute(
            reverse("issues:fixed", kwargs={"token": token, "answer": answer})
        )
        for answer in ("yes", "no")
    }


REPORT_CONFIRM_SALT = "civicfix.report-confirm"


def report_confirm_url(issue: Issue) -> str:
    """The signed link that publishes an anonymous report of a type that asks for it."""
    token = signing.dumps({"i": issue.pk}, salt=REPORT_CONFIRM_SALT)
    return absolute(reverse("issues:confirm_report", kwargs={"token": token}))


def read_report_confirm_token(token: str) -> Issue | None:
    """The issue a confirmation token names (None if gone, e.g. expired and deleted). Raises
    signing.BadSignature for a forged or mangled token, SignatureExpired for a stale one."""
    max_age = settings.REPORT_CONFIRM_HOURS * 3600
    data = signing.loads(token, salt=REPORT_CONFIRM_SALT, max_age=max_age)
    if not isinstance(data, dict) or not isinstance(data.get("i"), int):
        raise signing.BadSignature("Not a report confirmation token.")
    return Issue.objects.select_related("service_type").filter(pk=data["i"]).first()


ALERT_CONFIRM_SALT = "civicfix.alert-confirm"
# A confirmation link older than this is refused: the address owner has to ask again.
ALERT_CONFIRM_MAX_AGE = 7 * 24 * 3600


def alert_confirm_url(alert: AreaAlert) -> str:
    """The signed link that turns an address-only alert on (issues/views/alerts.py)."""
    token = signing.dumps({"a": alert.pk, "e": alert.email.lower()}, salt=ALERT_CONFIRM_SALT)
    return absolute(reverse("issues:alert_confirm", kwargs={"token": token}))


def read_alert_confirm_token(token: str) -> AreaAlert | None:
    """The alert a confirmation token names, if it still exists for the same address. Raises
    signing.BadSignature (or its SignatureExpired) for a forged, mangled or stale token."""
    data = signing.loads(token, salt=ALERT_CONFIRM_SALT, max_age=ALERT_CONFIRM_MAX_AGE)
    if not isinstance(data, dict) or not isinstance(data.get("a"), int):
        raise signing.BadSignature("Not an alert confirmation token.")
    return AreaAlert.objects.filter(pk=data["a"], email=data.get("e") or "-").first()


NOT_FIXED_SALT = "civicfix.not-fixed"


def not_fixed_max_age() -> int:
    """A "Not fixed?" link lives as long as the reporter may reopen: REPORTER_REOPEN_DAYS."""
    return settings.REPORTER_REOPEN_DAYS * 24 * 3600


def not_fixed_url(issue: Issue, email: str) -> str:
    """The closing email's "Not fixed?" link for the reporter: names the issue, this closing and
    the address it was sent to, so it cannot reopen a later closing or be used by someone else."""
    token = signing.dumps(
        {
            "i": issue.pk,
            "c": issue.closed_at.isoformat() if issue.closed_at else "",
            "e": email.lower(),
        },
        salt=NOT_FIXED_SALT,
    )
    return absolute(reverse("issues:not_fixed", kwargs={"token": token}))


def read_not_fixed_token(token: str) -> tuple[Issue | None, bool, str]:
    """(issue, current, email): the issue (None if gone), whether the link is for its latest
    closing, and the address it was sent to. Raises signing.BadSignature for a forged or mangled
    token and SignatureExpired (a BadSignature) for one older than not_fixed_max_age()."""
    data = signing.loads(token, salt=NOT_FIXED_SALT, max_age=not_fixed_max_age())
    if not isinstance(data, dict) or not isinstance(data.get("i"), int) or not data.get("e"):
        raise signing.BadSignature("Not a not-fixed token.")
    issue = Issue.objects.select_related("service_type").filter(pk=data["i"]).first()
    if issue is None:
        return None, False, data["e"]
    current = bool(issue.closed_at) and issue.closed_at.isoformat() == data.get("c")
    return issue, current, data["e"]
