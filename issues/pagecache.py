"""The public response cache: what an anonymous reader sees, rendered once per data version.

Most readers of CivicFix are anonymous (residents on phones, open-data clients, aldermen
browsing), and for them a page is a function of the data and the clock only. Rendering a
template or serialising 100 requests costs 10-50 times a view that renders nothing, so the
answer is kept in the cache together with the data version it was rendered at, and served again
while that version is current:

- **global** pages (lists, maps, dashboards, Open311 lists, feeds) carry a counter bumped
  whenever a public-facing row is saved or deleted through the ORM (issues, comments, photos,
  votes, history, wards and their aldermen, service types, departments, people's names);
- **issue** pages (the issue page, an Open311 single request) carry that issue's counter (it,
  its comments, photos, votes and history) and the catalogue's (types, departments, wards,
  people), so a report elsewhere does not throw them away;
- every key changes with the minute, because pages show relative times ("3 days ago") and
  overdue flags: what only the clock changes is at most a minute late, and so is a write no
  counter sees (raw SQL; bulk imports should call bump_all()). Entries expire after
  ENTRY_SECONDS.

A hit is one cache round trip (the entry and the counters in one get_many) and no query: on a
2-CPU box each round trip to PostgreSQL or Redis costs about as much as a trivial view. A page
GZipMiddleware compresses is kept plain and gzipped as it would send them, each made once: the
copy the miss's client takes when the page is stored (and sent on the miss too), the other from
it when a client of the other kind first asks; a hit reads only the copy its Accept-Encoding
takes. A page the middleware leaves alone (short, or no smaller) is kept once.

Only anonymous GET/HEAD requests are served or stored (no session, messages or Authorization),
and only 200 responses that set no cookie, queued no message and used no CSRF token
(Django 5 flags that as CSRF_COOKIE_NEEDS_UPDATE). Responses carry a weak ETag of the key and
version, answered with 304 when a client sends it back.

The counters are bumped twice per write: at once (so a write shows inside its own transaction,
as in tests) and again after commit, because a reader between the two could have rendered the
old rows under the new counter.
"""

from __future__ import annotations

import contextvars
import functools
import gzip
import hashlib
import logging
import re
import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import DEFAULT_CACHE_ALIAS, cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.middleware.gzip import GZipMiddleware, re_accepts_gzip
from django.urls import Resolver404, resolve
from django.utils import translation
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.http import parse_etags
from django.utils.module_loading import import_string

from departments.models import Asset, AssetLayer, Department, ServiceAttribute, ServiceType, Ward
from issues.models import (
    PUBLIC_ID_ALPHABET,
    Adopter,
    Adoption,
    Comment,
    Issue,
    Photo,
    StatusChange,
    Visit,
    Vote,
    normalize_public_id,
)

log = logging.getLogger(__name__)

GLOBAL = "pagecache:v:global"
CATALOGUE = "pagecache:v:catalogue"
# Each entry is two keys, ENTRY + hash + PLAIN or GZIPPED (the "h:" entries of older releases
# held one copy in another shape: another name, so neither reads the other's).
ENTRY = "pagecache:h2:"
# Long enough to serve a busy page many times, short enough that a change no counter sees
# is not kept for long.
ENTRY_SECONDS = 120
MESSAGES_COOKIE = "messages"
PUBLIC_ID_SHAPE = re.compile(f"[{PUBLIC_ID_ALPHABET}]{{4}}-[{PUBLIC_ID_ALPHABET}]{{4}}")


def issue_counter(public_id: str) -> str:
    """Keyed by the public id, which the URL holds, so a hit needs no query to find the pk."""
    return f"pagecache:v:issue:{public_id}"


# --- versions --------------------------------------------------------------------------------


class AfterCommitBump:
    """The second bump, run on commit: one per transaction, however many rows it wrote (a bulk
    close of 500 issues is one callback here, not 1,000)."""

    def __init__(self):
        self.names: set[str] = set()

    def __call__(self) -> None:
        _bump_now(sorted(self.names))


def bump(*names: str) -> None:
    """Move the counters on; see the module docstring for why twice."""
    _bump_now(names)
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        return  # autocommit: the row is already committed, once is enough
    pending = getattr(connection, "_pagecache_after_commit", None)
    # A savepoint rolled back takes its callbacks with it: then register a new one.
    if pending is None or not any(entry[1] is pending for entry in connection.run_on_commit):
        pending = connection._pagecache_after_commit = AfterCommitBump()
        transaction.on_commit(pending)
    pending.names.update(names)


def bump_all() -> None:
    """For bulk writes that bypass the ORM (COPY imports): every cached page renders again."""
    bump(GLOBAL, CATALOGUE)


def _bump_now(names) -> None:
    try:
        for name in names:
            try:
                cache.incr(name)
            except ValueError:
                # Missing (never read, or evicted): start from a value no earlier entry can hold.
                cache.set(name, time.time_ns(), None)
    except Exception:
        # A bump must never fail the write it follows (it runs inside the write's transaction,
        # and again on commit, where an error would skip the commit's other callbacks). A missed
        # bump costs little: every key changes with the minute, so a stale page lasts a minute.
        log.warning("Page cache counters %s not moved on", list(names), exc_info=True)


# The counters the page cache read for the anonymous read being served (PageCacheMiddleware).
_READ_FOR_REQUEST: contextvars.ContextVar[dict[str, int] | None] = contextvars.ContextVar(
    "pagecache_read_for_request", default=None
)


def current(names: list[str], found: dict | None = None) -> tuple:
    """The counters' values (from `found`, a get_many that already asked for them, if given).
    A value is None when the cache is unavailable (config/cache.py keeps nothing then).

    While PageCacheMiddleware serves an anonymous read, the values its look-up read at the start
    of the request, without another round trip (the ward pages key their figures by the global
    counter too). Safe to reuse: what the request reads afterwards is at least as new as them,
    so nothing is kept under a version newer than the data it shows."""
    known = _READ_FOR_REQUEST.get() if found is None else None
    if known is not None and all(name in known for name in names):
        return tuple(known[name] for name in names)
    found = dict(found) if found is not None else cache.get_many(names)
    for name in names:
        if found.get(name) is None:
            # A fresh start (a clock reading) cannot match an entry stored before an eviction.
            # Read back only when another request added it first: after an eviction (or a
            # flush) every counter a page names is missing, and a second round trip for each
            # cost a cold page as much as a trivial view.
            fresh = time.time_ns()
            found[name] = fresh if cache.add(name, fresh, None) else cache.get(name)
    return tuple(found[name] for name in names)


# --- the decorator ---------------------------------------------------------------------------


def is_anonymous_read(request: HttpRequest) -> bool:
    """Whether the request can be answered from the cache without looking at who sent it."""
    return (
        request.method in ("GET", "HEAD")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and MESSAGES_COOKIE not in request.COOKIES
        and "HTTP_AUTHORIZATION" not in request.META
    )


def _storable(request: HttpRequest, response: HttpResponse) -> bool:
    if response.status_code != 200 or response.streaming or response.cookies:
        return False
    if request.META.get("CSRF_COOKIE_NEEDS_UPDATE"):
        return False  # the page holds a token (get_token); CsrfViewMiddleware sets its cookie
    session = getattr(request, "session", None)
    if session is not None and session.modified:
        return False  # SessionMiddleware will set a cookie
    storage = getattr(request, "_messages", None)
    if storage is not None and getattr(storage, "added_new", False):
        return False
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return False
    control = response.get("Cache-Control", "")
    return "private" not in control and "no-store" not in control


def _minute() -> int:
    return int(time.time() // 60)


def language_of(request: HttpRequest) -> str:
    """The language a page is rendered in, found as LocaleMiddleware finds it (the language
    cookie, then Accept-Language): by the middleware before LocaleMiddleware has run and by the
    decorator after it, so both key a page alike."""
    return translation.get_language_from_request(request)


def _key(request: HttpRequest) -> str:
    language = language_of(request)
    raw = repr((_minute(), request.scheme, request.get_host(), language, request.get_full_path()))
    return ENTRY + hashlib.sha256(raw.encode()).hexdigest()


def _finish(response: HttpResponse, etag: str) -> HttpResponse:
    response["ETag"] = etag
    if "Cache-Control" not in response:
        # Browsers keep the page and ask again each time; the ETag makes that a 304.
        patch_cache_control(response, no_cache=True)
    patch_vary_headers(response, ("Cookie", "Accept-Language"))
    return response


def _not_modified(request: HttpRequest, etag: str) -> bool:
    header = request.META.get("HTTP_IF_NONE_MATCH")
    if not header:
        return False
    wanted = etag.removeprefix("W/")
    return any(tag == "*" or tag.removeprefix("W/") == wanted for tag in parse_etags(header))


def _not_modified_response(entry: tuple | None, etag: str) -> HttpResponse:
    response = HttpResponseNotModified()
    if entry is not None:
        # A 304 repeats the caching headers the 200 had.
        for name, value in entry[2]:
            if name.lower() in ("cache-control", "vary", "expires"):
                response[name] = value
    return _finish(response, etag)


GZIP = "django.middleware.gzip.GZipMiddleware"
# Content-Length: set on replay from the copy's own length (CommonMiddleware set the plain one's).
NOT_REPLAYED = frozenset({"set-cookie", "x-page-cache", "content-length"})
# An entry is one key, ENTRY + hash + ONE, for a page GZipMiddleware sends as it is (under 200
# bytes, or no smaller compressed), read by every client; or, for a page it compresses, + PLAIN
# and + GZIPPED, each read only by the clients that take it, the first stored by the request
# that rendered the page and the other made from it when its first reader asks; + KEPT holds the
# version they were rendered at, so that reader knows the other copy is there to make it from.
ONE, PLAIN, GZIPPED, KEPT = ":one", ":plain", ":gzip", ":kept"
# Only its process_response is used, to send a stored copy as the middleware would.
_GZIP_MIDDLEWARE = GZipMiddleware(lambda request: HttpResponse())


def _accepts_gzip(request: HttpRequest) -> bool:
    # GZipMiddleware's own test, so a stored copy is chosen as it would compress.
    return re_accepts_gzip.search(request.META.get("HTTP_ACCEPT_ENCODING", "")) is not None


def _names(key: str, request: HttpRequest) -> list[str]:
    """The copies a request can take: a hit reads only these (not the other client's copy)."""
    return [key + ONE, key + (GZIPPED if _accepts_gzip(request) else PLAIN)]


def _filled(response: HttpResponse, entry: tuple, state: str) -> HttpResponse:
    _version, body, headers, frame_exempt = entry
    response.content = body
    for name, value in headers:
        response[name] = value
    response["Content-Length"] = str(len(body))
    if frame_exempt:
        response.xframe_options_exempt = True
    response["X-Page-Cache"] = state
    return response


def _copy(response: HttpResponse, version: tuple, frame_exempt: bool) -> tuple:
    headers = [(k, v) for k, v in response.items() if k.lower() not in NOT_REPLAYED]
    return (version, response.content, headers, frame_exempt)


def _as_sent(entry: tuple, accept_encoding: str) -> HttpResponse:
    """The entry as GZipMiddleware sends it to a client with this Accept-Encoding: its own rules
    (the 200-byte threshold, the Vary it adds, the BREACH padding, compressed only if smaller),
    run once per copy when it is stored instead of on every hit (a 130 KB league table costs
    ~1.5 ms to compress). The padding is then the same for every reader of the entry: a stored
    page holds no secret to guess (no CSRF token, nothing personal: _storable)."""
    reader = HttpRequest()
    reader.META["HTTP_ACCEPT_ENCODING"] = accept_encoding
    return _GZIP_MIDDLEWARE.process_response(reader, _filled(HttpResponse(), entry, ""))


def _varies_on_encoding(response: HttpResponse) -> bool:
    return "accept-encoding" in {v.strip().lower() for v in response.get("Vary", "").split(",")}


def _entry(key: str, response: HttpResponse, version: tuple, takes_gzip: bool) -> tuple[str, tuple]:
    """The copy this request takes, as (name, (version, body, headers, frame exempt)), the
    headers as _finish left them and as GZipMiddleware, above, will send them (a 304 repeats
    its Vary). Only this one: the other client's copy is made from it if one asks
    (Lookup.answer), so a page read by one kind of client is never compressed, or kept plain,
    for the other (compressing the league table was most of what storing it cost)."""
    frame_exempt = getattr(response, "xframe_options_exempt", False)
    rendered = _copy(response, version, frame_exempt)
    if GZIP not in settings.MIDDLEWARE:
        return key + ONE, rendered
    sent = _as_sent(rendered, "gzip" if takes_gzip else "")
    if takes_gzip:
        # Left as it was (short, already encoded, or no smaller): the same for everyone.
        alike = sent.get("Content-Encoding") == response.get("Content-Encoding")
    else:
        # Not varying on Accept-Encoding: the middleware would not compress it for anyone.
        alike = not _varies_on_encoding(sent)
    name = ONE if alike else GZIPPED if takes_gzip else PLAIN
    return key + name, _copy(sent, version, frame_exempt)


def _gzipped(plain: tuple) -> tuple:
    """The gzip client's copy of a page stored plain: compressed by GZipMiddleware's rules."""
    version, _body, _headers, frame_exempt = plain
    return _copy(_as_sent(plain, "gzip"), version, frame_exempt)


def _plain(packed: tuple) -> tuple:
    """The plain client's copy of a page stored for gzip clients: what GZipMiddleware did to the
    page undone (it adds only the Content-Encoding; its Vary is on both copies), or the copy
    itself when it left the page as it was (no smaller compressed)."""
    version, body, headers, frame_exempt = packed
    if not any(name.lower() == "content-encoding" for name, _value in headers):
        return packed
    kept = [(name, value) for name, value in headers if name.lower() != "content-encoding"]
    return (version, gzip.decompress(body), kept, frame_exempt)


def _counters_for(issue_kwarg: str, kwargs: dict) -> list[str] | None:
    if not issue_kwarg:
        return [GLOBAL]
    public_id = normalize_public_id(kwargs.get(issue_kwarg, ""))
    if not PUBLIC_ID_SHAPE.fullmatch(public_id):
        # Not an id at all (a typo, a probe, control characters): nothing to cache, and no
        # counter named after whatever was typed.
        return None
    return [issue_counter(public_id), CATALOGUE]


def _uncached(view: Callable, request: HttpRequest, *args, **kwargs) -> HttpResponse:
    response = view(request, *args, **kwargs)
    if "Cache-Control" not in response:
        patch_cache_control(response, private=True)
    patch_vary_headers(response, ("Cookie",))
    return response


class Lookup:
    """One request's look at the cache: its key, the counters' version, the ETag they make and
    the copy of the entry stored for them that this request takes, if any (all from one
    get_many)."""

    def __init__(self, key: str, version: tuple, copies: list[tuple | None], kept: bool = False):
        self.key, self.version = key, version
        self.etag = 'W/"' + hashlib.sha256(repr((key, version)).encode()).hexdigest()[:32] + '"'
        matching = [copy for copy in copies if copy is not None and copy[0] == version]
        self.entry = matching[0] if matching else None
        # The other client's copy is stored at this version (see KEPT).
        self.kept = kept and self.entry is None
        self.read_along: dict[str, object] = {}

    @classmethod
    def start(cls, request: HttpRequest, counters: list[str]) -> Lookup | None:
        """None when the cache is unavailable: a version nobody can read vouches for no entry
        and no ETag, so the page is rendered from the database as if it were never cached."""
        key = _key(request)
        names = _names(key, request)
        found = cache.get_many([*names, key + KEPT, *counters, *READ_ALONG])
        version = current(counters, found)
        if None in version:
            return None
        copies = [found.get(name) for name in names]
        lookup = cls(key, version, copies, kept=found.get(key + KEPT) == version)
        lookup.read_along = {name: found.get(name) for name in READ_ALONG}
        return lookup

    def answer(self, request: HttpRequest) -> HttpResponse | None:
        """A 304, or the stored page, or None: the view must render it."""
        if self.kept:
            self.entry, self.kept = self._from_other_copy(request), False
        if _not_modified(request, self.etag):
            return _not_modified_response(self.entry, self.etag)
        return _filled(HttpResponse(), self.entry, "hit") if self.entry is not None else None

    def _from_other_copy(self, request: HttpRequest) -> tuple | None:
        """This client's copy made from the other client's and kept beside it: one more round
        trip, once per page and kind of client (None if the other copy expired meanwhile)."""
        takes_gzip = _accepts_gzip(request)
        other = cache.get(self.key + (PLAIN if takes_gzip else GZIPPED))
        if other is None or other[0] != self.version:
            return None
        made = _gzipped(other) if takes_gzip else _plain(other)
        cache.set(self.key + (GZIPPED if takes_gzip else PLAIN), made, ENTRY_SECONDS)
        return made

    def store(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        """Stores the copy of the page this request takes and sends it on, as its hits will get
        it: compressed here once, not again by GZipMiddleware (which leaves a
        Content-Encoding)."""
        name, entry = _entry(self.key, response, self.version, _accepts_gzip(request))
        entries = {name: entry}
        if not name.endswith(ONE):
            entries[self.key + KEPT] = self.version
        cache.set_many(entries, ENTRY_SECONDS)
        return _filled(response, entry, "miss")


# Cache keys every page a miss renders reads (the site banner's schedule, named by
# IssuesConfig.ready): read in the look-up's own get_many, so the render pays no round trip of
# its own for them (one Redis round trip costs about a fifth of /healthz).
READ_ALONG: set[str] = set()


def read_along(request: HttpRequest, name: str) -> tuple[bool, object]:
    """(True, the value or None) when this request's look-up read `name` from the cache with
    its entry (PageCacheMiddleware, on a miss); (False, None) when it did not: ask the cache."""
    lookup = getattr(request, "_page_cache", None)
    found = getattr(lookup, "read_along", {})
    return (True, found[name]) if name in found else (False, None)


# The views cache_public wrapped, each with its issue_kwarg: what PageCacheMiddleware answers.
_CACHED_VIEWS: dict[Callable, str] = {}


def cache_public(view: Callable | None = None, *, issue_kwarg: str = "") -> Callable:
    """Serve a public view's anonymous GETs from the cache (see the module docstring).

    `issue_kwarg` names the URL argument holding an issue's public id: the page is then keyed
    by that issue's counter instead of the global one. Signed-in users, POSTs and anything not
    safe to share always reach the view. With PageCacheMiddleware installed (settings), hits
    are answered there and the wrapper only marks a fresh page for it to store.
    """

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            lookup = getattr(request, "_page_cache", None)
            if lookup is None:
                counters = _counters_for(issue_kwarg, kwargs)
                if counters is None or not is_anonymous_read(request):
                    return _uncached(view, request, *args, **kwargs)
                lookup = Lookup.start(request, counters)
                if lookup is None:
                    return _uncached(view, request, *args, **kwargs)
                answer = lookup.answer(request)
                if answer is not None:
                    return answer
            response = view(request, *args, **kwargs)
            if request.method == "GET" and _storable(request, response):
                _finish(response, lookup.etag)
                response["X-Page-Cache"] = "miss"
                if getattr(request, "_page_cache", None) is lookup:
                    response._page_cache_store = lookup  # by the middleware, on its way out
                else:
                    response = lookup.store(request, response)
            return response

        # Known by identity, not by an attribute: functools.wraps would copy an attribute onto
        # any decorator put outside this one (a login check), whose check a hit would skip.
        _CACHED_VIEWS[wrapper] = issue_kwarg
        return wrapper

    return decorator(view) if view is not None else decorator


class PageCacheMiddleware:
    """Answers page-cache hits (and 304s) before the session, locale, CSRF, user and messages
    middleware below it run: for an anonymous GET of a cached page they decide nothing (no
    session, no user, no token, no message), yet cost two thirds of /healthz's CPU. Stores
    a fresh page on its way out, after them, so a hit replays the headers they added
    (Content-Language, X-Frame-Options). Sits right below GZipMiddleware, which leaves the
    stored gzip copy alone."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        counters = _cached_view_counters(request) if is_anonymous_read(request) else None
        lookup = None
        if counters is not None:
            lookup = Lookup.start(request, counters)
        if lookup is not None:
            answer = lookup.answer(request)
            if answer is not None:
                return answer
            request._page_cache = lookup
            read = _READ_FOR_REQUEST.set(dict(zip(counters, lookup.version, strict=True)))
            try:
                response = self.get_response(request)
            finally:
                _READ_FOR_REQUEST.reset(read)
        else:
            response = self.get_response(request)
        stored_by = getattr(response, "_page_cache_store", None)
        if stored_by is not None and not response.cookies:
            response = stored_by.store(request, response)
        return response


def _cached_view_counters(request: HttpRequest) -> list[str] | None:
    try:
        match = resolve(request.path_info, getattr(request, "urlconf", None))
    except Resolver404:
        return None
    issue_kwarg = _CACHED_VIEWS.get(match.func)
    return None if issue_kwarg is None else _counters_for(issue_kwarg, match.kwargs)


# --- invalidation ----------------------------------------------------------------------------


def _public_id_of(sender, instance) -> str:
    if sender.__name__ == "Issue":
        return instance.public_id
    issue = instance._state.fields_cache.get("issue")
    if issue is not None:
        return issue.public_id
    found = Issue.objects.filter(pk=instance.issue_id).values_list("public_id", flat=True)
    return found.first() or ""


def _issue_row_changed(sender, instance, **kwargs) -> None:
    origin = kwargs.get("origin")
    origin_model = getattr(origin, "model", None) or type(origin)
    if sender.__name__ != "Issue" and getattr(origin_model, "__name__", "") == "Issue":
        # Rows deleted with their issue: the issue's own delete moves the counters, and
        # looking up each comment's issue would be a query per row of the cascade.
        return
    names = [GLOBAL]
    public_id = _public_id_of(sender, instance)
    if public_id:
        names.append(issue_counter(public_id))
    bump(*names)


# Of a person, only the display name is ever public (User.public_name).
PUBLIC_USER_FIELDS = frozenset({"display_name"})


def _catalogue_changed(sender, instance=None, **kwargs) -> None:
    if sender is get_user_model():
        update_fields = kwargs.get("update_fields")
        if kwargs.get("created"):
            return  # a new account has written nothing public yet
        if update_fields is not None and not (set(update_fields) & PUBLIC_USER_FIELDS):
            return  # sign-ins, verified emails, passwords, staff flags: nothing anyone sees
    if kwargs.get("action", "post_").startswith("pre_"):
        return  # m2m_changed: count the change once, when it is done
    bump(GLOBAL, CATALOGUE)


def _adoption_changed(sender, instance=None, **kwargs) -> None:
    bump(GLOBAL)


def connect() -> None:
    """Called from IssuesConfig.ready(). Signals, not calls in the services, because the admin,
    imports and other apps save these rows too; they only expire cache entries, they decide
    nothing (the services stay the one place where writes are decided)."""
    for model in (Issue, Comment, Photo, StatusChange, Vote):
        post_save.connect(_issue_row_changed, sender=model, dispatch_uid=f"pagecache-{model}")
        post_delete.connect(_issue_row_changed, sender=model, dispatch_uid=f"pagecache-d-{model}")
    for model in (ServiceType, ServiceAttribute, Department, Ward, get_user_model()):
        post_save.connect(_catalogue_changed, sender=model, dispatch_uid=f"pagecache-{model}")
        post_delete.connect(_catalogue_changed, sender=model, dispatch_uid=f"pagecache-d-{model}")
    m2m_changed.connect(
        _catalogue_changed, sender=Ward.aldermen.through, dispatch_uid="pagecache-aldermen"
    )
    # Asset layers show on issue pages (an issue's asset) and on their own global pages; an
    # adoption or a visit changes those pages only. An import's COPY sends no signal: its
    # pages are at most a minute late (the key's minute).
    for model in (AssetLayer, Asset):
        post_save.connect(_catalogue_changed, sender=model, dispatch_uid=f"pagecache-{model}")
        post_delete.connect(_catalogue_changed, sender=model, dispatch_uid=f"pagecache-d-{model}")
    for model in (Adopter, Adoption, Visit):
        post_save.connect(_adoption_changed, sender=model, dispatch_uid=f"pagecache-{model}")
        post_delete.connect(_adoption_changed, sender=model, dispatch_uid=f"pagecache-d-{model}")
    # The cache backend's module is imported now, as the process starts, not by the first page
    # or write that reads or bumps a counter: it imports the Redis client (~0.3 s), which each
    # web worker's first page paid, and an import's first batch with its database idle. Only
    # the module: an instance made here would keep settings that tests (and others) may still
    # change before the first use.
    import_string(settings.CACHES[DEFAULT_CACHE_ALIAS]["BACKEND"])
