"""Failures on our side: the database refusing connections or at its connection limit, the
photo folder unwritable, and an error nobody expected. Pages get the site's own 500 page, or a
503 with Retry-After where trying again later can work; the Open311 API gets its own error
format; and what a resident typed comes back to them (config/errors.py)."""

from __future__ import annotations

import contextlib
import time
import uuid
from pathlib import Path

import psycopg
import pytest
from django.db import connections
from django.test import Client
from django.urls import reverse

from accounts.services import issue_api_key
from departments.models import Ward
from issues import selectors
from issues.models import Issue, Photo
from issues.open311 import query
from tests.factories import CITY_HALL, make_issue, square_boundary
from tests.fault_support import HungServer, free_port
from tests.pages.conftest import jpeg_bytes, report_data, upload

pytestmark = pytest.mark.django_db

REPORT_URL = reverse("issues:report")
API_REQUESTS = "/open311/v2/requests"


@pytest.fixture
def client():
    """A browser's view: the response Django sends, not the exception behind it."""
    return Client(raise_request_exception=False)


@pytest.fixture
def ward(db) -> Ward:
    return Ward.objects.create(number=42, name="Ward 42", boundary=square_boundary(*CITY_HALL))


def a_report(service_type, **extra) -> dict:
    return report_data(service_type, **{"attribute[SIZE]": None, **extra})


@contextlib.contextmanager
def database_as(**changes):
    """This thread's database connection swapped for one with `changes` to its settings (the
    test's own connection, with its transaction, waits aside and comes back afterwards)."""
    real = connections["default"]
    other = real.__class__({**real.settings_dict, **changes}, alias="default")
    connections._connections.default = other
    try:
        yield
    finally:
        other.close()
        connections._connections.default = real


@pytest.fixture
def database_refusing(tmp_path):
    """The database refuses connections: PostgreSQL on a port nobody listens on, SQLite in a
    folder that does not exist."""
    if connections["default"].vendor == "postgresql":
        change = {"PORT": str(free_port())}
    else:
        change = {"NAME": str(tmp_path / "missing" / "civicfix.sqlite3")}
    with database_as(**change):
        yield


@pytest.fixture
def database_full():
    """PostgreSQL at its connection limit, for the site's role: a role that may hold no
    connection at all (the shared server's max_connections is not ours to use up). Returns a
    context manager, so a test can sign someone in first."""
    if connections["default"].vendor != "postgresql":
        pytest.skip("A connection limit is PostgreSQL's; SQLite has none")
    real = connections["default"].get_connection_params()
    params = {k: real[k] for k in ("host", "port", "user", "password", "dbname") if real.get(k)}
    role = f"civicfix_full_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(**params, autocommit=True) as admin:
        admin.execute(f'CREATE ROLE "{role}" LOGIN CONNECTION LIMIT 0')
        try:
            with pytest.raises(psycopg.OperationalError, match="too many connections"):
                psycopg.connect(**{**params, "user": role}).close()
            yield lambda: database_as(USER=role)
        finally:
            admin.execute(f'DROP ROLE "{role}"')


@pytest.fixture
def media_unwritable(settings, tmp_path):
    """The photo folder cannot be written: where it should be there is a file. (Tests may run
    as root, whom permission bits do not stop.)"""
    blocker = tmp_path / "media-is-a-file"
    blocker.write_text("not a folder")
    settings.MEDIA_ROOT = blocker / "media"
    return blocker


# The database away ---------------------------------------------------------------------------


def test_page_without_the_database_is_a_503_with_retry_after(client, database_refusing):
    response = client.get(reverse("issues:home"))
    page = response.content.decode()
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "We are back in a moment" in page and "try again in 30 seconds" in page
    assert 'class="site-header"' in page  # the site's own page, not a bare one


@pytest.mark.parametrize(("fmt", "content_type"), [("json", "application/json"), ("xml", "xml")])
def test_api_without_the_database_answers_in_its_error_format(
    client, database_refusing, fmt, content_type
):
    response = client.get(f"{API_REQUESTS}.{fmt}")
    body = response.content.decode()
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert content_type in response["Content-Type"]
    assert "<html" not in body
    if fmt == "json":
        [error] = response.json()
        assert error["code"] == 503 and "Try again in 30 seconds" in error["description"]
    else:
        assert "<errors><error><code>503</code>" in body


def test_report_typed_while_the_database_is_away_is_shown_back(
    client, service_type, ward, database_refusing
):
    response = client.post(REPORT_URL, a_report(service_type, description="Sinkhole, 2 m wide"))
    page = response.content.decode()
    assert response.status_code == 503
    assert "What you wrote" in page
    assert ">Sinkhole, 2 m wide</textarea>" in page
    assert "121 N LaSalle St" in page  # the address too; never the email or phone
    assert "pat@example.net" not in page and "312-555-0100" not in page


def test_hung_database_is_a_503_after_the_connect_timeout(client):
    """PostgreSQL accepting connections and never answering: the request waits for
    DATABASE_CONNECT_TIMEOUT, not until the web server kills it."""
    if connections["default"].vendor != "postgresql":
        pytest.skip("SQLite is a file: it cannot hang like a server")
    options = {**connections["default"].settings_dict["OPTIONS"], "connect_timeout": 2}
    with HungServer() as hung, database_as(HOST="127.0.0.1", PORT=str(hung.port), OPTIONS=options):
        started = time.monotonic()
        response = client.get(reverse("issues:home"))
        elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert hung.connections >= 1
    assert elapsed < 2 + 3  # about not hanging, not about speed


def test_readiness_is_503_without_the_database(client, database_refusing):
    response = client.get(reverse("readyz"))
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert response.json()["database"] == {"ok": False, "error": "OperationalError"}


def test_comment_at_the_connection_limit_is_a_503_that_shows_it_back(
    client, service_type, ward, resident, database_full
):
    issue = make_issue(service_type)
    client.force_login(resident)
    with database_full():
        response = client.post(
            reverse("issues:comment", args=[issue.public_id]),
            {"body": "The light is out again tonight"},
        )
    page = response.content.decode()
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert ">The light is out again tonight</textarea>" in page


def test_api_post_at_the_connection_limit_is_a_503_in_its_format(client, database_full):
    with database_full():
        response = client.post(
            f"{API_REQUESTS}.json", {"api_key": "k", "service_code": "pothole", "lat": "41.88"}
        )
    assert response.status_code == 503
    assert response.json()[0]["code"] == 503


# The photo folder unwritable ------------------------------------------------------------------


def test_unwritable_photo_folder_sends_the_form_back_with_text_and_photos(
    client, service_type, ward, media_unwritable
):
    data = a_report(service_type, description="Tree down across the path")
    response = client.post(REPORT_URL, {**data, "photos": [upload("tree.jpg", jpeg_bytes())]})
    page = response.content.decode()
    assert response.status_code == 503
    assert response["Retry-After"] == "300"
    assert "Your report has not been sent yet" in page
    assert "Tree down across the path</textarea>" in page
    assert 'name="kept_photo"' in page  # the photo waits, ready to send again
    assert not Issue.objects.exists() and not Photo.objects.exists()


def test_report_goes_through_with_its_kept_photo_once_the_folder_is_back(
    client, service_type, ward, media_unwritable, settings, tmp_path
):
    data = a_report(service_type, description="Tree down across the path")
    page = client.post(REPORT_URL, {**data, "photos": [upload("tree.jpg", jpeg_bytes())]})
    token = page.content.decode().split('name="kept_photo" value="')[1].split('"')[0]
    settings.MEDIA_ROOT = tmp_path / "media"  # fixed
    response = client.post(REPORT_URL, {**data, "kept_photo": token})
    issue = Issue.objects.get()
    assert response.status_code == 302
    assert issue.photos.count() == 1
    assert Path(issue.photos.get().image.path).exists()


def test_unwritable_photo_folder_gives_the_api_a_503_in_its_format(
    client, service_type, ward, resident, media_unwritable
):
    _key, raw = issue_api_key(owner=resident, name="City app")
    response = client.post(
        f"{API_REQUESTS}.json",
        {
            "api_key": raw,
            "service_code": service_type.service_code,
            "lat": str(CITY_HALL[0]),
            "long": str(CITY_HALL[1]),
            "media": upload("tree.jpg", jpeg_bytes()),
        },
    )
    assert response.status_code == 503
    assert response["Retry-After"] == "300"
    assert response.json()[0]["code"] == 503
    assert not Issue.objects.exists()


# An error nobody expected ---------------------------------------------------------------------


def broken(*args, **kwargs):
    raise RuntimeError("a bug")


def test_unexpected_error_gives_the_sites_own_500_page(client, service_type, ward, monkeypatch):
    issue = make_issue(service_type)
    monkeypatch.setattr(selectors, "issue_page", broken)
    response = client.get(issue.get_absolute_url())
    page = response.content.decode()
    assert response.status_code == 500
    assert "Retry-After" not in response
    assert "Something went wrong on our side" in page and 'class="site-header"' in page
    assert f'href="{reverse("issues:report")}"' in page  # its header's links (chrome())
    assert "a bug" not in page  # nothing of the error itself


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_unexpected_api_error_is_a_500_in_the_api_format(client, monkeypatch, fmt):
    monkeypatch.setattr(query, "service_requests", broken)
    response = client.get(f"{API_REQUESTS}.{fmt}")
    body = response.content.decode()
    assert response.status_code == 500
    assert "<html" not in body and "a bug" not in body
    assert "500" in body and "logged" in body
