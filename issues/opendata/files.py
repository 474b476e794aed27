"""Large downloads built once by a worker and served as files, so they never hold the site.

A CSV or GeoJSON download of more than EXPORT_LIVE_ROWS issues used to be streamed by a web process
from the database: at a million issues one ward's CSV took 7.6 s of a sync worker, and a few at
once left the rest of the site unanswered. Now such a download is written once, gzipped, into
the photos' storage (the disk, or the object store every web server shares) by a Celery task,
and every request for it within EXPORT_MAX_AGE_SECONDS is answered from that file: on the disk
as a file response (the server's sendfile; compressed bytes to clients that take gzip), on an
object store by a redirect to a signed URL, so no web process sends it at all.

The first request for a download that has no fresh file starts the build (once: a cache lock)
and is answered 503 with Retry-After, which download tools retry; in the embedded mode Celery
runs the task inline and the file is served at once. A download is at most
EXPORT_MAX_AGE_SECONDS old: the same age its Cache-Control already allowed.

Small downloads (a filtered few thousand rows) are streamed live as before: cheap, and always
current.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import tempfile
import time
from collections.abc import Callable, Iterator

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.core.files import File
from django.core.files.storage import default_storage
from django.http import (
    FileResponse,
    HttpResponse,
    HttpResponseRedirect,
    QueryDict,
    StreamingHttpResponse,
)
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import ngettext

from issues.filters import IssueFilters
from issues.opendata import exports

log = logging.getLogger(__name__)

FOLDER = "exports"
# gzip level of the built files. With the rows made by COPY, level 6 was a third of a build's
# time; level 3 takes half as long for files about a fifth larger (bench/README.md, "The export
# itself"). Sent as they are to every client that takes gzip, so not level 1.
COMPRESS_LEVEL = 3
BUILD_LOCK_SECONDS = 15 * 60
RETRY_AFTER_SECONDS = 20

KINDS: dict[str, tuple[Callable[[IssueFilters], Iterator[bytes]], str, str]] = {
    "csv": (exports.csv_lines, "text/csv; charset=utf-8", "csv"),
    "geojson": (exports.geojson_chunks, "application/geo+json", "geojson"),
}


def max_age() -> int:
    return settings.EXPORT_MAX_AGE_SECONDS


def is_large(filters: IssueFilters) -> bool:
    """More than EXPORT_LIVE_ROWS rows (up to which a download streams live)? Counted with a
    LIMIT, so this costs the same at any size."""
    live = settings.EXPORT_LIVE_ROWS
    return exports.export_queryset(filters).order_by()[: live + 1].count() > live


def _key(kind: str, filters: IssueFilters) -> str:
    params = sorted(filters.as_params().items())
    return hashlib.sha256(repr((kind, params)).encode()).hexdigest()[:24]


def _registry(key: str) -> str:
    return f"export-file:{key}"


def fresh_file(kind: str, filters: IssueFilters) -> str | None:
    """The storage name of this download's file, if one was built in the last max_age()."""
    entry = cache.get(_registry(_key(kind, filters)))
    if not entry or time.time() - entry["built_at"] > max_age():
        return None
    return entry["name"]


def request_build(kind: str, filters: IssueFilters) -> bool:
    """Start one build of this download on the worker, unless one is already under way. False
    when neither is so (the cache or the broker is down: docs/outages.md): the caller then
    streams the download live, as before files existed."""
    key = _key(kind, filters)
    lock = f"export-build:{key}"
    if not cache.add(lock, 1, BUILD_LOCK_SECONDS):
        return cache.get(lock) is not None  # another request's build, or no cache at all
    query = QueryDict(mutable=True)
    query.update(filters.as_params())
    try:
        build_export.delay(kind, query.urlencode())
    except Exception:
        log.warning("Could not queue the %s export build; streaming it", kind, exc_info=True)
        cache.delete(lock)
        return False
    return True


@shared_task(name="issues.tasks.build_export", ignore_result=True)
def build_export(kind: str, querystring: str) -> str:
    """Write the download for these filters, gzipped, into the storage; register it; drop the
    file it replaces. Returns the storage name. The worker's task (named under issues.tasks,
    where the other jobs are)."""
    filters = IssueFilters.from_params(QueryDict(querystring))
    chunks, _content_type, extension = KINDS[kind]
    key = _key(kind, filters)
    try:
        with tempfile.TemporaryFile() as raw:
            # mtime=0: the same rows give the same bytes.
            with gzip.GzipFile(
                fileobj=raw, mode="wb", compresslevel=COMPRESS_LEVEL, mtime=0
            ) as packed:
                for chunk in chunks(filters):
                    packed.write(chunk)
            raw.seek(0)
            name = default_storage.save(
                f"{FOLDER}/{kind}-{key}-{int(time.time())}.{extension}.gz", File(raw)
            )
        previous = cache.get(_registry(key))
        cache.set(_registry(key), {"name": name, "built_at": time.time()}, None)
        if previous and previous["name"] != name:
            # Readers given the old name a moment ago still have it open (or its signed URL).
            default_storage.delete(previous["name"])
        return name
    finally:
        cache.delete(f"export-build:{key}")


def serve(request, name: str, kind: str, filename: str) -> HttpResponse:
    """A built file: a redirect to a signed URL (an object store), nginx's X-Accel-Redirect, a
    redirect to the downloads set (DOWNLOADS_URL), or the file from the disk, in that order."""
    _chunks, content_type, _extension = KINDS[kind]
    if hasattr(default_storage, "signed_url"):
        # An object store (issues/photostore.py) sends the bytes, not us. Its url() is the
        # photos' checked /media/ view, which knows no export: the signed URL itself, with the
        # download's name signed into it.
        disposition = content_disposition_header(True, filename)
        return _redirect(
            default_storage.signed_url(name, {"ResponseContentDisposition": disposition})
        )
    if settings.EXPORTS_ACCEL_REDIRECT:
        # nginx sends the file, not a web process. Its location (gzip_static always; gunzip on)
        # finds "<name>.gz" for the plain name, sends it as it is to clients that take gzip and
        # unpacks it for the others.
        response = HttpResponse(content_type=content_type)
        plain = name.removesuffix(".gz")
        response["X-Accel-Redirect"] = f"{settings.EXPORTS_ACCEL_REDIRECT.rstrip('/')}/{plain}"
        return _download_headers(response, filename)
    if settings.DOWNLOADS_URL:
        # A slow reader holds whatever sends the file for all of its download: not a sync web
        # worker, but a thread of the downloads set, waiting in sendfile without the GIL.
        path = reverse("opendata:export_file", args=[name.removeprefix(f"{FOLDER}/")])
        return _redirect(settings.DOWNLOADS_URL + path)
    return send(request, name, kind, filename)


def send(request, name: str, kind: str, filename: str) -> HttpResponse:
    """A built file from the disk, sent by this process (the server's sendfile)."""
    _chunks, content_type, _extension = KINDS[kind]
    handle = default_storage.open(name, "rb")
    if accepts_gzip(request):
        # The stored bytes as they are, by the server's sendfile (wsgi.file_wrapper): nothing
        # read into memory, nothing compressed per request (GZipMiddleware leaves a response
        # that has a Content-Encoding alone).
        response = FileResponse(handle, content_type=content_type)
        response.block_size = exports.WRITE_SIZE  # where there is no sendfile
        response["Content-Encoding"] = "gzip"
    else:
        # A client that takes no gzip (curl without --compressed): unpacked on the way out,
        # about 0.1 s of CPU per 30 MB. Not a FileResponse: the server's sendfile would send
        # the packed bytes from the file descriptor.
        response = StreamingHttpResponse(_unpacked(handle), content_type=content_type)
    return _download_headers(response, filename)


def kind_of(basename: str) -> str | None:
    """The kind of a built file's name under FOLDER ("csv-<key>-<time>.csv.gz"), or None when
    the name is not one build_export writes."""
    kind = basename.partition("-")[0]
    return kind if kind in KINDS and default_storage.exists(f"{FOLDER}/{basename}") else None


def _redirect(url: str) -> HttpResponse:
    response = HttpResponseRedirect(url)
    # The file behind the URL is replaced (and its old name deleted) at the next build; a signed
    # URL expires.
    response["Cache-Control"] = "no-store"
    # Scripts on other sites follow the redirect: open data, as the download itself.
    response["Access-Control-Allow-Origin"] = "*"
    return response


def accepts_gzip(request) -> bool:
    """True unless the client refuses gzip or names no coding (q=0 counts as a refusal)."""
    for coding in request.headers.get("Accept-Encoding", "").split(","):
        name, _, params = coding.strip().partition(";")
        if name.strip().lower() in ("gzip", "x-gzip", "*"):
            return params.replace(" ", "").lower() not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


def _download_headers(response: HttpResponse, filename: str) -> HttpResponse:
    response["Vary"] = "Accept-Encoding"
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Access-Control-Allow-Origin"] = "*"
    response["Cache-Control"] = f"public, max-age={max_age()}"
    return response


def _unpacked(handle) -> Iterator[bytes]:
    with handle, gzip.GzipFile(fileobj=handle, mode="rb") as unpacked:
        while chunk := unpacked.read(exports.WRITE_SIZE):
            yield chunk


def being_built() -> HttpResponse:
    message = ngettext(
        "This download is large, so it is being prepared as a file. Try again in %(n)s second.",
        "This download is large, so it is being prepared as a file. Try again in %(n)s seconds.",
        RETRY_AFTER_SECONDS,
    ) % {"n": RETRY_AFTER_SECONDS}
    response = HttpResponse(
        f"{message}\n",
        status=503,
        content_type="text/plain; charset=utf-8",
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response
