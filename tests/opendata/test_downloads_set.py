"""Without nginx, built downloads are sent by the Procfile's `downloads` process set (a gthread
gunicorn) when DOWNLOADS_URL names it: the web set answers with a redirect, so a slow reader holds
a thread there, never a sync web worker (issues/opendata/files.py, docs/scaling.md)."""

from __future__ import annotations

import contextlib
import gzip
import http.client
import os
import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import requests
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.urls import reverse

from issues.filters import IssueFilters
from issues.opendata import files
from tests.factories import make_issue
from tests.multidb.servers import NOT_SHARED, free_ports, postgres_and_redis, web_servers

URL = reverse("opendata:issues_csv")
DOWNLOADS = "http://downloads.example:8001"


@pytest.fixture
def large(settings, tmp_path, service_type):
    """EXPORT_LIVE_ROWS lowered to 5, eight issues: every unfiltered download is large."""
    settings.MEDIA_ROOT = tmp_path
    settings.EXPORT_LIVE_ROWS = 5
    return [make_issue(service_type) for _ in range(8)]


def _built() -> list[str]:
    return default_storage.listdir(files.FOLDER)[1]


@pytest.mark.django_db
def test_the_web_set_redirects_a_built_download_to_the_downloads_set(client, large, settings):
    settings.DOWNLOADS_URL = DOWNLOADS
    response = client.get(URL, headers={"accept-encoding": "gzip"})
    [name] = _built()
    assert response.status_code == 302
    assert response["Location"] == f"{DOWNLOADS}/data/files/{name}"
    assert response["Cache-Control"] == "no-store"  # the name goes at the next build
    assert response["Access-Control-Allow-Origin"] == "*"
    # What the downloads set answers there (the same code, any process): the file itself.
    path = urlsplit(response["Location"]).path
    packed = client.get(path, headers={"accept-encoding": "gzip"})
    assert packed.status_code == 200 and packed["Content-Encoding"] == "gzip"
    assert 'filename="civicfix-issues-' in packed["Content-Disposition"]
    plain = client.get(path, headers={"accept-encoding": "identity"})
    assert gzip.decompress(b"".join(packed.streaming_content)) == b"".join(plain.streaming_content)
    assert large[0].public_id.encode() in gzip.decompress(default_storage.open(
        f"{files.FOLDER}/{name}").read())  # fmt: skip


@pytest.mark.django_db
def test_only_files_build_export_wrote_are_sent(client, large, settings):
    (settings.MEDIA_ROOT / "secret.txt").write_text("not a download")
    missing = f"csv-{'0' * 24}-1.csv.gz"
    assert client.get(f"/data/files/{missing}").status_code == 404
    for name in ("..%2Fsecret.txt", "secret.txt", f"txt-{'0' * 24}-1.csv.gz"):
        assert client.get(f"/data/files/{name}").status_code == 404


# Real servers from here: the Procfile's two sets, and clients that read slowly.

HELD = 3  # downloads held at once, fewer than the downloads set's threads
BIG = 24 * 1024 * 1024  # far more than the server's send buffer and the client's window


@pytest.fixture
def big_file(settings, tmp_path) -> str:
    """The full CSV's built file, larger than the socket buffers, on the disk both servers read
    and registered in the Redis they share, as build_export leaves it."""
    settings.MEDIA_ROOT = tmp_path
    name = f"csv-{'a' * 24}-1.csv.gz"
    (tmp_path / files.FOLDER).mkdir()
    with open(tmp_path / files.FOLDER / name, "wb") as out:
        out.write(os.urandom(1024 * 1024) * (BIG // (1024 * 1024)))
    key = files._key("csv", IssueFilters.from_params({}))
    cache.set(files._registry(key), {"name": f"{files.FOLDER}/{name}", "built_at": time.time()})
    return name


@contextlib.contextmanager
def held_downloads(url: str, count: int) -> Iterator[None]:
    """`count` clients that each start the download at `url` and then stop reading (a phone in a
    tunnel): whatever sends it waits for them until the block ends."""
    conns = []
    try:
        for _ in range(count):
            target, response = url, None
            while response is None or response.status == 302:
                parts = urlsplit(target)
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
                conns.append(conn)
                conn.connect()
                conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
                conn.request("GET", parts.path, headers={"Accept-Encoding": "gzip"})
                response = conn.getresponse()
                target = response.getheader("Location", "")
            assert response.status == 200
            response.read(65536)  # the first bytes, then nothing
        yield
    finally:
        for conn in conns:
            conn.close()


def _page(server: str, timeout: float) -> int:
    return requests.get(f"{server}/open311/v2/services.json", timeout=timeout).status_code


@pytest.fixture
def procfile_sets(big_file, django_db_setup, django_db_blocker, settings):
    """The web set (one sync worker) and the downloads set (one gthread worker, 8 threads), as
    the Procfile runs them, with DOWNLOADS_URL naming the second; yields (web, downloads)."""
    with django_db_blocker.unblock():
        if not postgres_and_redis():
            pytest.skip(NOT_SHARED)
    ports = free_ports(2)
    downloads = f"http://127.0.0.1:{ports[1]}"
    shared = {"MEDIA_ROOT": str(settings.MEDIA_ROOT), "DOWNLOADS_URL": downloads}
    gthread = ["--worker-class", "gthread", "--threads", "8"]
    with web_servers(2, ports=ports, options=[([], {}), (gthread, {})], **shared) as urls:
        yield urls


@pytest.mark.multiprocess
@pytest.mark.django_db(transaction=True)
def test_pages_answer_while_slow_readers_hold_downloads(procfile_sets, big_file):
    web, downloads = procfile_sets
    redirect = requests.get(f"{web}{URL}", allow_redirects=False, timeout=10)
    assert redirect.headers["Location"] == f"{downloads}/data/files/{big_file}"
    with held_downloads(f"{web}{URL}", HELD):
        # Generous bounds, not a latency ratio: pages answer at all, on both sets.
        assert _page(web, timeout=10) == 200
        assert _page(downloads, timeout=10) == 200


@pytest.mark.multiprocess
@pytest.mark.django_db(transaction=True)
def test_without_the_downloads_set_one_slow_reader_holds_a_sync_worker(
    big_file, django_db_setup, django_db_blocker, settings
):
    """Why the set exists: the same held download sent by the web set's sync worker leaves it
    no time for a page until the reader goes."""
    with django_db_blocker.unblock():
        if not postgres_and_redis():
            pytest.skip(NOT_SHARED)
    with web_servers(1, MEDIA_ROOT=str(settings.MEDIA_ROOT)) as [web]:
        with held_downloads(f"{web}{URL}", 1), pytest.raises(requests.Timeout):
            _page(web, timeout=3)
        assert _page(web, timeout=10) == 200
