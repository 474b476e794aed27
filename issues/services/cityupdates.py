"""Hearing back from the city's system: its status changes and public notes, read by beat's poll
or pushed to us, applied through the one status-change service with their source recorded, so
followers get exactly the emails they would if staff had clicked.

Each update is recorded (CityUpdate, unique per issue and update key) in the transaction that
applies it: the same update seen twice (the poll's overlap, a push and a poll of the same update,
our own update reported back) changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from departments.attributes import parse_w3c_datetime
from departments.models import UpstreamEndpoint
from issues.models import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    CityUpdate,
    Issue,
    Status,
    StatusChange,
    UpstreamHealth,
)
from issues.services.workflow import ALLOWED_TRANSITIONS, add_status_note, change_status, lock_issue
from issues.upstream import alerts
from issues.upstream.client import Client, UpstreamError

log = logging.getLogger(__name__)

# The words cities use (GeoReport's open/closed, FixMyStreet's extended statuses, ours) for
# our statuses. "open" only ever reopens: an open issue stays at whatever open step it is.
STATUS_WORDS = {
    Status.OPEN: {"open", "opened", "reopen", "reopened", "confirmed", "new"},
    Status.ACKNOWLEDGED: {
        "acknowledged",
        "investigating",
        "action scheduled",
        "planned",
        "for triage",
        "assigned",
    },
    Status.IN_PROGRESS: {"in progress", "started", "work in progress"},
    Status.CLOSED: {
        "closed",
        "fixed",
        "resolved",
        "completed",
        "duplicate",
        "not councils responsibility",
        "not responsible",
        "no further action",
        "unable to fix",
        "internal referral",
        "cancelled",
        "archived",
    },
}
WORD_TO_STATUS = {word: status for status, words in STATUS_WORDS.items() for word in words}
# The poll asks again from a little before the last update it read: updates that arrive late
# upstream are not missed, and the ones read twice are known.
POLL_OVERLAP = timedelta(minutes=10)
FIRST_POLL_WINDOW = timedelta(days=1)
IDS_PER_REQUEST = 50
CLOSED_STILL_POLLED = timedelta(days=30)


def status_from_word(word: str | None) -> str | None:
    return WORD_TO_STATUS.get(" ".join((word or "").lower().replace("_", " ").split()))


def _target(current: str, wanted: str | None) -> str | None:
    """The status the update moves the issue to, or None to leave it."""
    if wanted is None or wanted == current:
        return None
    if wanted == Status.OPEN:
        return Status.OPEN if current in CLOSED_STATUSES and current != Status.ARCHIVED else None
    if wanted in ALLOWED_TRANSITIONS[current]:
        return wanted
    if current == Status.CLOSED and wanted in OPEN_STATUSES:
        return Status.OPEN  # the city took it up again: reopen; its next update says how far
    return None


def apply_city_update(
    *,
    issue: Issue,
    update_key: str,
    status_word: str | None,
    text: str = "",
    at: datetime | None = None,
    source: str,
    channel: str,
    notes_alone: bool = True,
) -> StatusChange | None:
    """Apply one update from the city's system to an issue; the change made, or None when it was
    seen before or says nothing new. `notes_alone=False` ignores words that come without a
    change of status (a request list repeats its status_notes on every read)."""
    text = (text or "").strip()
    with transaction.atomic():
        locked = lock_issue(issue)
        try:
            with transaction.atomic():
                record = CityUpdate.objects.create(
                    issue=locked, update_key=update_key[:200], channel=channel
                )
        except IntegrityError:
            return None
        when = _when(locked, at)
        target = _target(locked.status, status_from_word(status_word))
        change = None
        if target is not None:
            change = change_status(issue=locked, to=target, message=text, at=when, source=source)
        elif text and notes_alone and text != locked.status_notes:
            change = add_status_note(issue=locked, message=text, source=source, at=when)
        if change is not None:
            record.status_change = change
            record.save(update_fields=["status_change"])
    if change is not None:
        for name in ("status", "status_notes", "updated_at", "closed_at", "followup_sent_at"):
            setattr(issue, name, getattr(locked, name))
    return change


def _when(issue: Issue, at: datetime | None) -> datetime:
    """The city's time of the update, kept between our issue's last change and now, so the
    history stays in order whatever the city's clock says."""
    now = timezone.now()
    if at is None:
        return now
    return min(now, max(at, issue.updated_at))


# -- the poll ------------------------------------------------------------------------------


@dataclass
class PollResult:
    endpoint: str
    read: int = 0
    applied: int = 0
    errors: list[str] = field(default_factory=list)


def poll_all() -> list[PollResult]:
    """Beat's job: read every active endpoint's updates."""
    return [poll_endpoint(e) for e in UpstreamEndpoint.objects.filter(active=True).order_by("pk")]


def poll_endpoint(endpoint: UpstreamEndpoint) -> PollResult:
    result = PollResult(endpoint=endpoint.name)
    try:
        client = Client(endpoint)
        if endpoint.fetch_updates:
            _poll_updates(client, endpoint, result)
        else:
            _poll_requests(client, endpoint, result)
    except UpstreamError as exc:
        result.errors.append(str(exc))
        alerts.failed(endpoint, f"Reading updates: {exc}")
        log.warning("Polling %s failed: %s", endpoint, exc)
        return result
    alerts.succeeded(endpoint)
    return result


def _issues_by_their_id(endpoint: UpstreamEndpoint, ids) -> dict[str, Issue]:
    issues = Issue.objects.filter(
        external_source=f"upstream:{endpoint.pk}", external_id__in=[i for i in ids if i]
    )
    return {issue.external_id: issue for issue in issues}


def _poll_updates(client: Client, endpoint: UpstreamEndpoint, result: PollResult) -> None:
    """mySociety's servicerequestupdates: every update since the last one read, oldest first."""
    health = alerts.health_of(endpoint)
    now = timezone.now()
    since = (health.updates_read_until or now - FIRST_POLL_WINDOW) - POLL_OVERLAP
    updates = [
        u
        for u in client.updates(
            start_date=since.isoformat(timespec="seconds"),
            end_date=(now + POLL_OVERLAP).isoformat(timespec="seconds"),
        )
        if isinstance(u, dict) and u.get("update_id") and u.get("service_request_id")
    ]
    for update in updates:
        update["at"] = parse_w3c_datetime(str(update.get("updated_datetime") or ""))
    updates.sort(key=lambda u: (u["at"] or now, str(u["update_id"])))
    issues = _issues_by_their_id(endpoint, {str(u["service_request_id"]) for u in updates})
    newest = health.updates_read_until
    for update in updates:
        result.read += 1
        issue = issues.get(str(update["service_request_id"]))
        if issue is not None and apply_city_update(
            issue=issue,
            update_key=str(update["update_id"]),
            status_word=update.get("status"),
            text=str(update.get("description") or ""),
            at=update["at"],
            source=endpoint.name,
            channel=CityUpdate.Channel.POLL,
        ):
            result.applied += 1
        if update["at"] and update["at"] <= now and (newest is None or update["at"] > newest):
            newest = update["at"]
    UpstreamHealth.objects.filter(pk=health.pk).update(
        updates_read_until=newest, last_polled_at=now
    )


def _poll_requests(client: Client, endpoint: UpstreamEndpoint, result: PollResult) -> None:
    """Plain GeoReport: ask for our reports there by id and follow their open/closed."""
    now = timezone.now()
    ids = list(
        Issue.objects.filter(external_source=f"upstream:{endpoint.pk}")
        .exclude(status=Status.ARCHIVED)
        .exclude(closed_at__lt=now - CLOSED_STILL_POLLED)
        .order_by("pk")
        .values_list("external_id", flat=True)
    )
    for start in range(0, len(ids), IDS_PER_REQUEST):
        chunk = ids[start : start + IDS_PER_REQUEST]
        requests = [
            r
            for r in client.requests(service_request_id=",".join(chunk))
            if isinstance(r, dict) and r.get("service_request_id")
        ]
        issues = _issues_by_their_id(endpoint, {str(r["service_request_id"]) for r in requests})
        for request in requests:
            result.read += 1
            issue = issues.get(str(request["service_request_id"]))
            if issue is not None and _apply_request(issue, request, endpoint):
                result.applied += 1
    alerts.health_of(endpoint)
    UpstreamHealth.objects.filter(endpoint=endpoint).update(last_polled_at=now)


def _apply_request(issue: Issue, request: dict, endpoint: UpstreamEndpoint):
    status = str(request.get("status") or "").lower()
    at = parse_w3c_datetime(str(request.get("updated_datetime") or ""))
    if status == "open" and issue.closed_at and at and at <= issue.closed_at:
        return None  # closed here after the city's last word: not the city's reopening
    return apply_city_update(
        issue=issue,
        update_key=f"request:{status}:{request.get('updated_datetime') or ''}",
        status_word=status,
        text=str(request.get("status_notes") or ""),
        at=at,
        source=endpoint.name,
        channel=CityUpdate.Channel.POLL,
        notes_alone=False,
    )
