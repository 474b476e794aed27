"""What a resident sees when a failure of ours stops their report, in headless Chromium with axe:
the form comes back as they sent it, and the error pages are readable."""

from __future__ import annotations

import pytest

from departments.models import Department, Ward
from issues import selectors
from issues.models import Issue
from tests.browser_support import serious_axe_violations
from tests.factories import CITY_HALL, make_service_type, square_boundary
from tests.pages.conftest import jpeg_bytes

pytestmark = pytest.mark.browser


@pytest.fixture
def pothole(transactional_db):
    Ward.objects.create(number=42, name="Ward 42", boundary=square_boundary(*CITY_HALL))
    department = Department.objects.create(name="Transportation", slug="cdot")
    return make_service_type(department, code="pothole", name="Pothole in Street")


def test_report_comes_back_whole_when_the_photo_folder_refuses_it(
    page, live_server, pothole, settings, tmp_path
):
    blocker = tmp_path / "media-is-a-file"
    blocker.write_text("not a folder")
    settings.MEDIA_ROOT = blocker / "media"
    page.goto(f"{live_server.url}/report/?latitude={CITY_HALL[0]}&longitude={CITY_HALL[1]}")
    page.locator("#id_service_code").select_option("pothole")
    page.locator("#id_description").fill("Deep hole in the crosswalk")
    page.locator("#id_photos").set_input_files(
        files=[{"name": "hole.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes((400, 300))}]
    )
    page.locator("#id_email").fill("newcomer@example.net")
    with page.expect_response(lambda r: r.request.method == "POST") as sent:
        page.get_by_role("button", name="Send report").click()
    assert sent.value.status == 503
    page.wait_for_selector("#error-summary")
    assert "Your report has not been sent yet" in page.locator("#error-summary").inner_text()
    assert page.locator("#id_description").input_value() == "Deep hole in the crosswalk"
    assert page.locator("#id_email").input_value() == "newcomer@example.net"
    assert page.get_by_alt_text("Attached photo hole.jpg").is_visible()
    assert serious_axe_violations(page) == []

    settings.MEDIA_ROOT = tmp_path / "media"  # the folder is fixed: send it again as it is
    page.get_by_role("button", name="Send report").click()
    page.wait_for_url("**/issues/*/?new=1")
    assert Issue.objects.get().photos.count() == 1


def test_server_error_pages_pass_axe(page, live_server, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(selectors, "issue_page", broken)
    response = page.goto(f"{live_server.url}/issues/ABCD-EFGH/")
    assert response.status == 500
    assert page.get_by_role("heading", name="Something went wrong on our side").is_visible()
    assert serious_axe_violations(page) == []
