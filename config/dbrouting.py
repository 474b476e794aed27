"""Primary and read replica (DATABASE_REPLICA_URL): which query goes where.

One rule, decided once per request by `ReplicaReadsMiddleware`: a request is a *public read*
when the page cache could answer it without knowing who sent it (`issues.pagecache.
is_anonymous_read`: GET/HEAD, no session, no flash messages, no Authorization), it is not for a
staff or account screen (`DATABASE_PRIMARY_PATHS`), and the browser has not written anything in
the last `DATABASE_REPLICA_PIN_SECONDS` (the pin cookie). Only such a request's reads may go to
the replica: the pages, Open311 GET, feeds and downloads that anonymous readers and harvesters
make, which is nearly all of the read load.

Everything else reads the primary: every write; every read inside a transaction (a service's
"check, then write"); every read after this request wrote (a GET link that confirms a report,
then shows it); anything outside a request (Celery tasks, commands, beat); and, for the pin
window after any write, the writer's following requests, so the reporter sees their new report
at once even when the replica lags. A public page may be a little stale during lag: accepted.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.core.signals import request_finished
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpRequest, HttpResponse

from issues.pagecache import is_anonymous_read

REPLICA = "replica"
PIN_COOKIE = "civicfix_primary"


@dataclass
class RequestRouting:
    public_read: bool = False
    wrote: bool = False


# Per request (set by the middleware, cleared when the response is closed, which for a streamed
# download is after its last row): outside a request the default sends everything to the primary.
_routing: ContextVar[RequestRouting | None] = ContextVar("civicfix_db_routing", default=None)


def replica_reads_on() -> bool:
    return (
        bool(getattr(settings, "DATABASE_REPLICA_READS", False)) and REPLICA in settings.DATABASES
    )


def is_public_read(request: HttpRequest) -> bool:
    return (
        is_anonymous_read(request)
        and PIN_COOKIE not in request.COOKIES
        and not request.path.startswith(tuple(settings.DATABASE_PRIMARY_PATHS))
    )


class PrimaryReplicaRouter:
    """Named in DATABASE_ROUTERS only when DATABASE_REPLICA_URL is set."""

    def db_for_read(self, model, **hints) -> str:
        state = _routing.get()
        if (
            state is not None
            and state.public_read
            and not state.wrote
            and not connections[DEFAULT_DB_ALIAS].in_atomic_block
            and replica_reads_on()
        ):
            return REPLICA
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints) -> str:
        state = _routing.get()
        if state is not None:
            state.wrote = True
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        return True  # one database, two copies of it

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool:
        return db == DEFAULT_DB_ALIAS  # the replica gets the schema by streaming


class ReplicaReadsMiddleware:
    """Marks the request public or not, and pins a browser that wrote to the primary for a
    while. Without a replica it does nothing."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not replica_reads_on():
            return self.get_response(request)
        state = RequestRouting(public_read=is_public_read(request))
        _routing.set(state)
        response = self.get_response(request)
        if state.wrote or request.method not in ("GET", "HEAD", "OPTIONS"):
            response.set_cookie(
                PIN_COOKIE,
                "1",
                max_age=settings.DATABASE_REPLICA_PIN_SECONDS,
                httponly=True,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        return response


def _request_done(**kwargs) -> None:
    _routing.set(None)


request_finished.connect(_request_done, dispatch_uid="civicfix_db_routing_done")
