"""Large downloads are built once as files by the worker and served from them (issues/opendata/
files.py); small ones stream live. Celery runs eagerly here, as in the embedded mode."""

from __future__ import annotations

import gzip

import pytest
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.http import FileResponse, StreamingHttpResponse
from django.middleware.gzip import GZipMiddleware
from django.test import override_settings
from django.urls import reverse

from issues.opendata import files
from tests.factories import make_issue

URL = reverse("opendata:issues_csv")


@pytest.fixture
def large(settings, tmp_path, service_type):
    """EXPORT_LIVE_ROWS lowered to 5, eight issues: every unfiltered download is large."""
    settings.MEDIA_ROOT = tmp_path
    settings.EXPORT_LIVE_ROWS = 5
    return [make_issue(service_type) for _ in range(8)]


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


def _built() -> list[str]:
    return default_storage.listdir(files.FOLDER)[1] if default_storage.exists(files.FOLDER) else []


def _live_csv(client) -> bytes:
    with override_settings(EXPORT_LIVE_ROWS=1_000_000):
        response = client.get(URL)
    assert isinstance(response, StreamingHttpResponse)
    return _body(response)


@pytest.mark.django_db
def test_a_large_download_is_built_once_and_served_from_its_file(client, large):
    response = client.get(URL)
    assert response.status_code == 200 and "Content-Encoding" not in response
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="civicfix-issues-' in response["Content-Disposition"]
    assert _body(response) == _live_csv(client)
    assert len(_built()) == 1
    # Compressed once when built: a client that takes gzip gets those bytes as they are.
    packed = client.get(URL, headers={"accept-encoding": "gzip"})
    assert isinstance(packed, FileResponse) and packed["Content-Encoding"] == "gzip"
    assert gzip.decompress(_body(packed)) == _live_csv(client)
    assert len(_built()) == 1


@pytest.mark.django_db
def test_a_fresh_file_is_served_without_asking_the_database(
    client, large, django_assert_num_queries
):
    client.get(URL)  # built
    # Whether the download is large (a count of up to EXPORT_LIVE_ROWS rows) is asked only
    # when there is no fresh file to send.
    with django_assert_num_queries(0):
        response = client.get(URL, headers={"accept-encoding": "gzip"})
    assert isinstance(response, FileResponse)


@pytest.mark.django_db
def test_the_file_is_rebuilt_once_older_than_its_max_age(client, large, service_type):
    first = _body(client.get(URL))
    newer = make_issue(service_type)
    assert newer.public_id.encode() not in _body(client.get(URL))  # within max age: the file
    # Six minutes later (the entry's clock moved back past the max age):
    registry = files._registry(files._key("csv", files.IssueFilters.from_params({})))
    entry = cache.get(registry)
    cache.set(registry, {**entry, "built_at": entry["built_at"] - files.max_age() - 60}, None)
    rebuilt = _body(client.get(URL))
    assert newer.public_id.encode() in rebuilt and rebuilt != first
    assert len(_built()) == 1  # the replaced file is gone


@pytest.mark.django_db
def test_while_a_build_is_under_way_the_client_is_told_to_retry(client, large):
    key = files._key("csv", files.IssueFilters.from_params({}))
    cache.add(f"export-build:{key}", 1, 60)  # another request started it
    response = client.get(URL)
    assert response.status_code == 503
    assert response["Retry-After"] == str(files.RETRY_AFTER_SECONDS)
    assert "being prepared" in response.content.decode()
    assert _built() == []


@pytest.mark.django_db
def test_geojson_downloads_are_built_as_files_too(client, large):
    response = client.get(reverse("opendata:issues_geojson"))
    assert response.status_code == 200 and len(_built()) == 1
    assert response["Content-Type"] == "application/geo+json"
    assert _body(response).startswith(b'{"type":"FeatureCollection"')


@pytest.mark.django_db
def test_a_small_filtered_download_still_streams_live(client, large):
    response = client.get(URL, {"status": "closed"})
    assert response.status_code == 200 and isinstance(response, StreamingHttpResponse)
    assert _built() == []


@pytest.mark.django_db
def test_with_exports_accel_redirect_nginx_sends_the_file_and_django_sends_no_bytes(
    client, large, settings
):
    settings.EXPORTS_ACCEL_REDIRECT = "/protected-exports/"
    for accept in ("gzip, deflate", "identity"):
        response = client.get(URL, headers={"accept-encoding": accept})
        assert response.status_code == 200 and response.content == b""
        [name] = _built()
        # The plain name: nginx's location (gzip_static always; gunzip on) finds the .gz beside
        # it and unpacks it only for clients that take no gzip.
        assert response["X-Accel-Redirect"] == f"/protected-exports/{files.FOLDER}/{name[:-3]}"
        assert name.endswith(".csv.gz") and "Content-Encoding" not in response
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert 'filename="civicfix-issues-' in response["Content-Disposition"]


@pytest.mark.django_db
def test_the_gzip_file_goes_out_by_the_servers_file_wrapper_never_compressed_again(
    client, large, rf
):
    client.get(URL)  # built
    [name] = _built()
    request = rf.get(URL, headers={"accept-encoding": "br, gzip;q=0.8"})
    packed = GZipMiddleware(lambda r: files.serve(r, f"{files.FOLDER}/{name}", "csv", "x.csv"))(
        request
    )
    # Still the open file, which Django hands to wsgi.file_wrapper (the server's sendfile): not
    # read into memory, and not an iterator GZipMiddleware compressed again.
    assert isinstance(packed, FileResponse) and packed.file_to_stream is not None
    assert packed["Content-Encoding"] == "gzip"
    assert int(packed["Content-Length"]) == default_storage.size(f"{files.FOLDER}/{name}")
    packed.file_to_stream.close()  # not packed.close(): that signals request_finished
    refused = client.get(URL, headers={"accept-encoding": "identity"})
    assert "Content-Encoding" not in refused
    assert _body(refused) == _live_csv(client)
