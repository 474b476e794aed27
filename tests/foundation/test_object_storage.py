"""Photos on S3-compatible object storage (config/storage.py), against a real S3-protocol server:
moto's standalone server started here as its own process on a free port, not an in-process
mock. Skipped, saying why, where moto is not installed (requirements-dev.txt has it)."""

from __future__ import annotations

import gzip
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import environ
import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from django.urls import reverse

from config.storage import LOCAL, S3_BACKEND, default_storage
from issues import services
from issues.photos import prepare_photo
from tests.factories import make_issue
from tests.pages.conftest import jpeg_bytes, upload

BUCKET = "civicfix-photos"
SERVER_ARGS = ["-H", "127.0.0.1", "-p", "0"]  # port 0: the OS picks a free one


def _env(monkeypatch, **values) -> environ.Env:
    for name in ("STORAGE_URL", "AWS_STORAGE_BUCKET_NAME", "AWS_S3_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return environ.Env()


def test_local_disk_is_the_default(monkeypatch):
    assert default_storage(_env(monkeypatch)) == LOCAL


def test_storage_url_names_endpoint_bucket_keys_and_region(monkeypatch):
    url = "s3://AK%2F1:se%2Bcret@minio.internal:9000/photos?region=eu-west-1&scheme=http"
    found = default_storage(_env(monkeypatch, STORAGE_URL=url))
    assert found["BACKEND"] == S3_BACKEND
    options = found["OPTIONS"]
    assert options["bucket_name"] == "photos"
    assert options["endpoint_url"] == "http://minio.internal:9000"
    assert (options["access_key"], options["secret_key"]) == ("AK/1", "se+cret")
    assert options["region_name"] == "eu-west-1"
    assert options["default_acl"] == "private" and options["querystring_auth"] is True


def test_aws_variables_alone_choose_aws_itself(monkeypatch):
    options = default_storage(_env(monkeypatch, AWS_STORAGE_BUCKET_NAME="city-photos"))["OPTIONS"]
    assert options["bucket_name"] == "city-photos" and "endpoint_url" not in options


@pytest.mark.parametrize(
    "url", ["https://example.com/photos", "s3://key:secret@host", "s3://host/a/b"]
)
def test_a_storage_url_that_cannot_work_is_refused_at_start(monkeypatch, url):
    with pytest.raises(ImproperlyConfigured):
        default_storage(_env(monkeypatch, STORAGE_URL=url))


@pytest.fixture
def s3_server(tmp_path):
    """moto's S3 server in a subprocess on a port the OS picks; its endpoint URL."""
    pytest.importorskip(
        "moto.server",
        reason="moto is not installed: `pip install 'moto[server]'` (requirements-dev.txt) "
        "to test photos on S3-compatible storage against a real server process",
    )
    log = tmp_path / "moto.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", "from moto.server import main; main()", *SERVER_ARGS],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while not (found := re.search(r"http://127\.0\.0\.1:(\d+)", log.read_text())):
            if time.monotonic() > deadline or process.poll() is not None:
                pytest.fail(f"moto_server did not start: {log.read_text()[-2000:]}")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{found.group(1)}"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def object_storage(s3_server, monkeypatch, tmp_path, settings):
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=s3_server,
        aws_access_key_id="test-key",
        aws_secret_access_key="test-secret",  # moto accepts any
        region_name="us-east-1",
    )
    client.create_bucket(Bucket=BUCKET)
    port = s3_server.rsplit(":", 1)[1]
    url = f"s3://test-key:test-secret@127.0.0.1:{port}/{BUCKET}?scheme=http&region=us-east-1"
    storages = {**settings.STORAGES, "default": default_storage(_env(monkeypatch, STORAGE_URL=url))}
    # MEDIA_ROOT elsewhere: nothing may land on this machine's disk.
    with override_settings(STORAGES=storages, MEDIA_ROOT=tmp_path / "media"):
        yield client, s3_server, tmp_path / "media"


def _keys(client) -> set[str]:
    return {o["Key"] for o in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])}


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, b""


@pytest.mark.django_db
def test_photos_go_to_the_store_as_private_objects_linked_by_signed_urls(
    client, object_storage, service_type, staff_user
):
    s3, endpoint, media = object_storage
    photo = prepare_photo(upload("kerb.jpg", jpeg_bytes((900, 600))))
    issue = make_issue(service_type, photos=[photo])
    stored = issue.photos.get()
    assert {stored.image.name, stored.thumbnail.name} <= _keys(s3)
    assert not Path(media).exists()
    # Nobody reads an object without a signature, not even with its exact name.
    assert _get(f"{endpoint}/{BUCKET}/{stored.image.name}")[0] == 403
    grants = s3.get_object_acl(Bucket=BUCKET, Key=stored.image.name)["Grants"]
    assert [g["Permission"] for g in grants] == ["FULL_CONTROL"]  # the owner only

    # The page links our checked view, never the store; the view redirects to a signed URL.
    html = client.get(reverse("issues:detail", args=[issue.public_id])).content.decode()
    assert "X-Amz-Signature" not in html
    ours = settings.MEDIA_URL + stored.thumbnail.name
    assert f'src="{ours}"' in html
    response = client.get(ours)
    assert response.status_code == 302 and "no-store" in response["Cache-Control"]
    assert "X-Amz-Signature" in response["Location"]
    status, body = _get(response["Location"])
    assert status == 200 and body[:2] == b"\xff\xd8"  # the thumbnail, a JPEG

    # Hidden through moderation: the same URL is a 404 at once, and the store answers no one.
    services.set_hidden(target=stored, hidden=True, by=staff_user, reason="A face")
    assert client.get(ours).status_code == 404
    html = client.get(reverse("issues:detail", args=[issue.public_id])).content.decode()
    assert stored.thumbnail.name not in html
    assert _get(f"{endpoint}/{BUCKET}/{stored.thumbnail.name}")[0] == 403


@pytest.mark.django_db
def test_a_large_download_is_built_into_the_store_and_sent_by_it(
    client, object_storage, service_type, settings
):
    """The web process only redirects: the built export is a private object, reached by a
    signed URL that names the download (not the photos' /media/ view, which knows no export)."""
    s3, endpoint, media = object_storage
    settings.EXPORT_LIVE_ROWS = 2
    issues = [make_issue(service_type) for _ in range(3)]
    url = reverse("opendata:issues_csv")
    response = client.get(url)
    assert response.status_code == 302 and "no-store" in response["Cache-Control"]
    location = response["Location"]
    assert location.startswith(endpoint) and "X-Amz-Signature" in location
    [name] = [key for key in _keys(s3) if key.startswith("exports/")]
    assert _get(f"{endpoint}/{BUCKET}/{name}")[0] == 403  # private, like the photos

    with urllib.request.urlopen(location, timeout=10) as sent:
        headers, body = sent.headers, sent.read()
    assert 'filename="civicfix-issues-' in headers["Content-Disposition"]
    assert headers["Content-Encoding"] == "gzip" and headers["Content-Type"].startswith("text/csv")
    rows = gzip.decompress(body).decode("utf-8-sig")
    assert all(issue.public_id in rows for issue in issues)
    assert not Path(media).exists()  # nothing on this machine's disk
