"""A send the city refused, as staff meet it: the reason on the issue page, and "Send again"
clicked in a real browser."""

import time

import pytest

from departments import services as department_services
from departments.models import UpstreamEndpoint
from issues.models import UpstreamSend, UpstreamState
from tests.browser_support import serious_axe_violations
from tests.factories import make_department, make_issue, make_service_type, make_user

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-battery"


@pytest.fixture
def refused(transactional_db):
    # Nothing listens on port 9: once sent again, the report waits (nothing reached the city).
    # Switched off while the report is made, so its own background send leaves the row alone.
    endpoint = UpstreamEndpoint.objects.create(
        name="City 311", base_url="http://127.0.0.1:9/v2/", active=False
    )
    streets = make_department("Streets", upstream=endpoint)
    pothole = make_service_type(streets, code="pothole", name="Pothole")
    department_services.add_staff(
        department=streets, user=make_user("sam@city.example", password=PASSWORD)
    )
    issue = make_issue(pothole)
    UpstreamSend.objects.filter(issue=issue).update(
        state=UpstreamState.FAILED,
        attempts=1,
        last_error="The city refused it: HTTP 404: service_code “pothole” was not found.",
    )
    UpstreamEndpoint.objects.update(active=True)
    return issue


def test_staff_read_why_the_city_refused_a_report_and_send_it_again(page, live_server, refused):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/admin/login/?next=/admin/issues/issue/{refused.pk}/change/")
    page.fill("#id_username", "sam@city.example")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    panel = page.locator(".cf-city")
    panel.wait_for()
    assert "was not found" in panel.inner_text()
    assert serious_axe_violations(page) == []

    panel.get_by_role("button", name="Send again").click()
    page.wait_for_selector("text=Queued to be sent to City 311 again.")
    row = UpstreamSend.objects.get(issue=refused)
    deadline = time.monotonic() + 10
    while row.attempts == 0 and time.monotonic() < deadline:  # the background send's try
        time.sleep(0.1)
        row.refresh_from_db()
    assert row.state == UpstreamState.PENDING
    assert "Could not reach" in row.last_error
