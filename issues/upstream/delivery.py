"""Delivering the city's outbox: each report created upstream exactly once, or visibly failed.

A worker claims a row in a short transaction (never holding a lock while the city's server is
asked), and before every POST it commits `maybe_sent`. What the answer means decides the rest
(issues/upstream/client.py sorts it):

- an id: the report is sent; the id is the issue's city reference;
- a token: it was created; GET tokens/{token} is asked (now and on later attempts) until it
  gives the id; it is never posted again;
- NotSent (refused connection, 429): nothing reached the city; try again after a backoff;
- Uncertain (timeout, broken connection, 5xx, garbage, an answer cut off): it may exist upstream,
  so the next attempt first looks for it (`find_sent`: their requests of that code since the first
  POST, whose description carries our reference) and adopts its id if found;
- Refused (4xx): the city said no; the row fails with their reason for staff to read, and "Send
  again" is theirs once the mapping or the key is fixed.

An endpoint that keeps failing tells its departments once per bad spell (alerts.py).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from datetime import timedelta
from enum import Enum

from celery import shared_task
from django.conf import settings
from django.db import IntegrityError, connections, transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from departments.models import ServiceTypeUpstream
from issues.models import (
    CityUpdate,
    UpstreamKind,
    UpstreamSend,
    UpstreamState,
)
from issues.notify.delivery import backoff
from issues.upstream import alerts, payloads
from issues.upstream.client import Client, NotSent, Refused, UpstreamError

log = logging.getLogger(__name__)

BATCH = 50
# Clock differences between us and the city: the search for a lost report starts this much
# before our first POST.
SEARCH_MARGIN = timedelta(minutes=30)
SEARCH_PAGE_SIZE = 100
SEARCH_MAX_PAGES = 20
WAIT_FOR_REPORT = timedelta(minutes=1)
# How long a worker's claim lasts. No request starts unless it can end (the endpoint's timeout,
# at most 300 s) before the claim does, so a second worker can never POST beside a slow first one.
LEASE = timedelta(minutes=10)


class Found(Enum):
    ABSENT = "absent"
    UNKNOWN = "unknown"


class Undecided(Exception):
    """Not a failure of the endpoint: the city has not given a token's id yet, or its list cannot
    say whether an earlier attempt arrived. The row waits and asks again."""


# -- handing rows to a worker --------------------------------------------------------------


def schedule(ids: list[int]) -> None:
    """Hand the rows to a worker when the transaction commits. In the embedded mode (no broker)
    a thread of this process sends them, so a resident's request never waits for the city."""
    ids = list(ids)

    def _hand_over() -> None:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            threading.Thread(target=_deliver_in_thread, args=(ids,), daemon=True).start()
            return
        try:
            send_to_city.delay(ids)
        except Exception:
            log.warning("Broker unavailable; %d send(s) left to the re-queue", len(ids))

    transaction.on_commit(_hand_over)


def _deliver_in_thread(ids: list[int]) -> None:
    try:
        deliver_many(ids)
    except Exception:
        log.exception("Sending to the city's system failed in the background")
    finally:
        connections.close_all()  # this thread's own connections: nobody else will close them


def requeue_due(limit: int = 1000) -> int:
    """Beat's job: hand over every due row (new ones whose broker message was lost, retries whose
    time came). Returns how many were handed over."""
    now = timezone.now()
    ids = list(
        UpstreamSend.objects.filter(
            state=UpstreamState.PENDING, next_attempt_at__lte=now, endpoint__active=True
        )
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        if settings.CELERY_TASK_ALWAYS_EAGER:
            deliver_many(batch)
            continue
        try:
            send_to_city.delay(batch)
        except Exception:
            log.warning("Broker unavailable; the city's outbox waits for the next re-queue")
            return start
    return len(ids)


def send_again(rows, *, confirmed_absent: bool = False) -> int:
    """Staff's "send again": failed rows go back in the queue. A row that may have reached the
    city still looks for it there first, unless staff checked the city's system and say it is
    not there (`confirmed_absent`)."""
    ids = list(rows.filter(state=UpstreamState.FAILED).values_list("pk", flat=True))
    changes = {
        "state": UpstreamState.PENDING,
        "attempts": 0,
        "next_attempt_at": timezone.now(),
        "last_error": "",
        "claimed_until": None,
    }
    if confirmed_absent:
        changes["maybe_sent"] = False
    UpstreamSend.objects.filter(pk__in=ids).update(**changes)
    if ids:
        schedule(ids)
    return len(ids)


@shared_task(name="issues.tasks.send_to_city", ignore_result=True)
def send_to_city(ids: list[int]) -> dict[str, int]:
    """The worker's entry point. The row, not the task, remembers what was sent, so a task
    delivered twice sends nothing twice."""
    return deliver_many(ids)


def deliver_many(ids) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row_id in ids:
        state = deliver(row_id)
        counts[state] = counts.get(state, 0) + 1
    return counts


# -- one row -------------------------------------------------------------------------------


def _claim(row_id: int) -> UpstreamSend | None:
    now = timezone.now()
    claimed = (
        UpstreamSend.objects.filter(
            pk=row_id,
            state=UpstreamState.PENDING,
            next_attempt_at__lte=now,
            endpoint__active=True,
        )
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claimed_until=now + LEASE, attempts=F("attempts") + 1)
    )
    if not claimed:
        return None
    row = UpstreamSend.objects.select_related(
        "endpoint",
        "issue__service_type",
        "issue__reporter",
        "comment__author",
        "status_change",
    ).get(pk=row_id)
    row.deadline = time.monotonic() + LEASE.total_seconds()
    return row


def _in_time(row: UpstreamSend) -> None:
    """Refuse to start a request that could outlast the claim; the next attempt goes on."""
    if time.monotonic() + row.endpoint.timeout_seconds > getattr(row, "deadline", math.inf):
        raise Undecided("This attempt ran out of time; the next one goes on from here.")


def deliver(row_id: int) -> str:
    """Send one due row. Returns its state afterwards ('skipped' if not due or claimed)."""
    row = _claim(row_id)
    if row is None:
        return "skipped"
    try:
        if row.kind == UpstreamKind.REPORT:
            _send_report(row)
        else:
            _send_update(row)
    except Refused as exc:
        _fail(row, f"The city refused it: {exc}")
        alerts.succeeded(row.endpoint)  # it answered: the endpoint works
    except Undecided as exc:
        _retry(row, str(exc))
    except UpstreamError as exc:
        _retry(row, str(exc))
        alerts.failed(row.endpoint, str(exc))
    except Exception as exc:
        # A bug here must not leave the row claimed for good.
        log.exception("Sending %s to the city failed", row.pk)
        _retry(row, f"{type(exc).__name__}: {exc}")
    return row.state


def _send_report(row: UpstreamSend) -> None:
    client = Client(row.endpoint)
    if row.token:
        _resolve_token(row, client)
        return
    mapping = ServiceTypeUpstream.objects.filter(service_type=row.issue.service_type_id).first()
    service_code = payloads.their_service_code(row.issue, mapping)
    if row.maybe_sent:
        found = find_sent(client, row, service_code)
        if found is Found.UNKNOWN:
            raise Undecided(
                "An earlier attempt may have reached the city, and its list of requests cannot "
                "say whether it did; not sent again."
            )
        if found is not Found.ABSENT:
            _sent(row, found)
            alerts.succeeded(row.endpoint)
            return
    form = payloads.report_form(row.issue, endpoint=row.endpoint, mapping=mapping)
    _in_time(row)
    _mark_posting(row)
    try:
        answer = client.post_request(form)
    except (NotSent, Refused):
        UpstreamSend.objects.filter(pk=row.pk).update(maybe_sent=False)
        raise
    alerts.succeeded(row.endpoint)
    created = answer[0] if answer and isinstance(answer[0], dict) else {}
    if created.get("service_request_id"):
        _sent(row, str(created["service_request_id"]))
    elif created.get("token"):
        row.token = str(created["token"])[:100]
        UpstreamSend.objects.filter(pk=row.pk).update(token=row.token)
        _resolve_token(row, client)
    else:
        # A "blackbox" service: created, with no id to know it by.
        _sent(row, "")


def _resolve_token(row: UpstreamSend, client: Client) -> None:
    _in_time(row)
    try:
        answer = client.token(row.token)
    except Refused as exc:  # the report exists (it has a token): never fail it for this
        raise Undecided(f"The city did not resolve token {row.token}: {exc}") from None
    first = answer[0] if answer and isinstance(answer[0], dict) else {}
    if not first.get("service_request_id"):
        raise Undecided(f"The city has not yet given an id for token {row.token}.")
    _sent(row, str(first["service_request_id"]))


def find_sent(client: Client, row: UpstreamSend, service_code: str):
    """Look for the report among the city's requests of its code since our first POST: the one
    whose description carries our reference. Its id, Found.ABSENT when the city lists requests
    with their descriptions and ours is not among them, Found.UNKNOWN when the list cannot tell
    (it shows no descriptions, or refuses to list)."""
    since = (row.first_posted_at or row.created_at) - SEARCH_MARGIN
    public_id = row.issue.public_id
    seen: set[str] = set()
    described = False
    for page in range(1, SEARCH_MAX_PAGES + 1):
        _in_time(row)
        try:
            requests = client.requests(
                service_code=service_code,
                start_date=since.isoformat(timespec="seconds"),
                end_date=(timezone.now() + SEARCH_MARGIN).isoformat(timespec="seconds"),
                page_size=SEARCH_PAGE_SIZE,
                page=page,
            )
        except Refused:
            return Found.UNKNOWN  # a city that does not list its requests cannot be asked
        fresh = [r for r in requests if isinstance(r, dict)]
        ids = {str(r.get("service_request_id")) for r in fresh}
        if not fresh or ids <= seen:
            break  # the end, or a server that ignores `page`
        seen |= ids
        for request in fresh:
            text = request.get("description") or ""
            described = described or bool(text)
            if public_id in text and request.get("service_request_id"):
                return str(request["service_request_id"])
        if len(fresh) < SEARCH_PAGE_SIZE:
            break
    return Found.ABSENT if described or not seen else Found.UNKNOWN


def _send_update(row: UpstreamSend) -> None:
    report = (
        UpstreamSend.objects.filter(issue=row.issue_id, endpoint=row.endpoint_id, kind="report")
        .order_by("-pk")
        .first()
    )
    if report is None or report.state == UpstreamState.FAILED:
        _fail(row, "The report itself did not reach the city, so its updates cannot.")
        return
    if report.state != UpstreamState.SENT or not report.remote_id:
        _wait(row)
        return
    if row.comment_id is not None:
        ref, at, text, author = (
            f"c{row.comment_id}",
            row.comment.created_at,
            row.comment.body,
            (row.comment.author),
        )
        status = row.issue.status
    else:
        change = row.status_change
        ref, at, author = f"s{change.pk}", change.created_at, change.changed_by
        text, status = change.message, change.to_status
    form = payloads.update_form(
        issue=row.issue,
        their_id=report.remote_id,
        update_id=ref,
        at=timezone.localtime(at),
        status=status,
        text=text,
        author=author,
        endpoint=row.endpoint,
    )
    _in_time(row)
    _mark_posting(row)
    answer = Client(row.endpoint).post_update(form)
    alerts.succeeded(row.endpoint)
    first = answer[0] if answer and isinstance(answer[0], dict) else {}
    their_update = str(first.get("update_id") or "")[:100]
    with transaction.atomic():
        if their_update:
            # The city will list this update among its own: known, so polling skips it.
            CityUpdate.objects.get_or_create(
                issue_id=row.issue_id,
                update_key=their_update,
                defaults={"channel": CityUpdate.Channel.ECHO},
            )
        _finish(row, state=UpstreamState.SENT, remote_id=their_update)


# -- recording what happened ---------------------------------------------------------------


def _mark_posting(row: UpstreamSend) -> None:
    """Committed before the POST: whatever happens next, the next attempt knows to look."""
    now = timezone.now()
    UpstreamSend.objects.filter(pk=row.pk).update(
        maybe_sent=True, first_posted_at=Coalesce("first_posted_at", Value(now))
    )
    row.first_posted_at = row.first_posted_at or now


def _sent(row: UpstreamSend, remote_id: str) -> None:
    """The report exists upstream: its id becomes the issue's city reference."""
    try:
        with transaction.atomic():
            if remote_id:
                # Only these two columns are written, so the loaded issue needs no lock; saved
                # (not updated) so the issue's cached public page shows the reference.
                issue = row.issue
                issue.external_source = f"upstream:{row.endpoint_id}"
                issue.external_id = remote_id[:64]
                issue.save(update_fields=["external_source", "external_id"])
            _finish(row, state=UpstreamState.SENT, remote_id=remote_id)
    except IntegrityError:
        _fail(row, f"The city's id {remote_id} is already another report's city reference.")


def _finish(row: UpstreamSend, *, state: str, remote_id: str = "", error: str = "") -> None:
    now = timezone.now()
    row.state = state
    UpstreamSend.objects.filter(pk=row.pk).update(
        state=state,
        remote_id=remote_id[:100],
        last_error=error[:2000],
        sent_at=now if state == UpstreamState.SENT else None,
        maybe_sent=False if state == UpstreamState.SENT else F("maybe_sent"),
        claimed_until=None,
    )


def _fail(row: UpstreamSend, error: str) -> None:
    log.warning("Send %s to the city failed: %s", row.pk, error)
    _finish(row, state=UpstreamState.FAILED, error=error)


def _retry(row: UpstreamSend, error: str) -> None:
    attempts = row.attempts  # counted by the claim
    if attempts >= settings.UPSTREAM_MAX_ATTEMPTS:
        _fail(row, f"Gave up after {attempts} attempts. Last: {error}")
        return
    log.info("Send %s to the city will be retried: %s", row.pk, error)
    UpstreamSend.objects.filter(pk=row.pk).update(
        last_error=error[:2000],
        next_attempt_at=timezone.now() + backoff(attempts),
        claimed_until=None,
    )


def _wait(row: UpstreamSend) -> None:
    # An update waits for its report; waiting is not an attempt.
    UpstreamSend.objects.filter(pk=row.pk).update(
        attempts=F("attempts") - 1,
        next_attempt_at=timezone.now() + WAIT_FOR_REPORT,
        last_error="Waiting for the report to reach the city.",
        claimed_until=None,
    )
