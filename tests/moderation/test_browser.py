"""In Chromium: choosing an emergency type shows what to do instead before anything is typed,
and the page stays axe clean."""

import pytest

from departments.models import Department
from tests.browser_support import serious_axe_violations
from tests.factories import make_service_type

pytestmark = pytest.mark.browser


@pytest.fixture
def emergency(transactional_db):
    department = Department.objects.create(name="Utilities", slug="utilities")
    make_service_type(department, code="pothole", name="Pothole")
    return make_service_type(
        department,
        code="gas-leak",
        name="Gas leak",
        notice="Leave the building and call 911 now.",
        stops_reports=True,
    )


def test_choosing_a_stopper_type_shows_the_instruction_before_typing(page, live_server, emergency):
    page.goto(live_server.url + "/report/")
    assert page.locator("#type-notice").count() == 0
    with page.expect_response(lambda r: "/report/questions/" in r.url):
        page.select_option("#id_service_code", "gas-leak")
    notice = page.locator("#type-notice")
    notice.wait_for()
    assert "Leave the building and call 911 now." in notice.inner_text()
    assert page.locator("#id_description").input_value() == ""
    assert serious_axe_violations(page) == []
