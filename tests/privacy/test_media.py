"""Item 2: photo files are served through a check of their row, so a photo hidden by
moderation, and every photo of a hidden issue, is a 404 to the public at once, through the very
URLs the pages emit; staff who may open the issue in the workbench still see them there."""

from __future__ import annotations

import re

import pytest

from issues import services
from tests.privacy.conftest import client_as

MEDIA_URL_RE = re.compile(r'(?:src|href)="(/media/[^"]+)"')


def media_urls(html: str) -> set[str]:
    return set(MEDIA_URL_RE.findall(html))


def workbench_urls(client, world, role: str, issue) -> set[str]:
    client_as(client, world, role)
    page = client.get(f"/admin/issues/issue/{issue.pk}/change/")
    assert page.status_code == 200
    client.logout()
    return media_urls(page.content.decode())


def test_public_photos_are_served_from_the_urls_the_public_page_emits(client, world):
    page = client.get(world.issue_a.get_absolute_url())
    urls = media_urls(page.content.decode())
    expected = {world.public_photo.image.url, world.public_photo.thumbnail.url}
    assert urls == expected  # the hidden photo's are not on the page
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200
        assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"  # a JPEG
        assert "no-cache" in response["Cache-Control"]


@pytest.mark.parametrize(
    ("issue_name", "readers"),
    [("issue_a", {"staff_a", "alderman", "admin"}), ("hidden_issue", {"staff_b", "admin"})],
)
def test_hidden_photos_reach_only_who_may_open_the_issue(client, world, issue_name, readers):
    issue = getattr(world, issue_name)
    urls = workbench_urls(client, world, "admin", issue)
    hidden = {p.image.url for p in issue.photos.all() if p.is_hidden or issue.is_hidden} | {
        p.thumbnail.url for p in issue.photos.all() if p.is_hidden or issue.is_hidden
    }
    assert hidden and hidden <= urls  # the workbench shows them, with these very URLs
    for role in ("anonymous", "resident", "staff_a", "staff_b", "alderman", "admin"):
        client_as(client, world, role)
        for url in hidden:
            response = client.get(url)
            if role in readers:
                assert response.status_code == 200, (role, url)
                assert "no-store" in response["Cache-Control"]
            else:
                assert response.status_code == 404, (role, url)
        client.logout()


def test_hiding_takes_effect_at_once(client, world):
    url = world.public_photo.image.url
    assert client.get(url).status_code == 200
    services.set_hidden(
        target=world.public_photo, hidden=True, by=world.users["staff_a"], reason="A plate"
    )
    assert client.get(url).status_code == 404
    services.set_hidden(target=world.issue_a, hidden=True, by=world.users["staff_a"], reason="Spam")
    services.set_hidden(target=world.public_photo, hidden=False, by=world.users["staff_a"])
    assert client.get(url).status_code == 404  # its issue is hidden now


def test_the_web_server_sends_the_bytes_only_after_the_check(client, world, settings):
    """Production (MEDIA_ACCEL_REDIRECT): Django answers with X-Accel-Redirect to nginx's
    internal location for a public photo, and a plain 404 for a hidden one."""
    settings.MEDIA_ACCEL_REDIRECT = "/protected-media/"
    public = client.get(world.public_photo.image.url)
    assert public.status_code == 200
    assert public["X-Accel-Redirect"] == "/protected-media/" + world.public_photo.image.name
    assert public["Content-Type"] == "image/jpeg"
    assert public.content == b""
    hidden = client.get(world.hidden_photo.image.url)
    assert hidden.status_code == 404
    assert "X-Accel-Redirect" not in hidden


@pytest.mark.parametrize(
    "path", ["photos/stray.jpg", "../secret.txt", "photos/../../settings.py", "photos/%00.jpg"]
)
def test_files_that_belong_to_no_photo_are_not_served(client, world, settings, path):
    (settings.MEDIA_ROOT / "photos").mkdir(parents=True, exist_ok=True)
    (settings.MEDIA_ROOT / "photos" / "stray.jpg").write_bytes(b"\xff\xd8 an orphan")
    assert client.get("/media/" + path).status_code == 404
