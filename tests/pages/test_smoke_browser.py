import pytest

from tests.browser_support import serious_axe_violations

pytestmark = pytest.mark.browser


def test_home_page_renders_in_chromium(page, live_server, transactional_db):
    page.goto(live_server.url + "/")
    assert page.locator("main").is_visible()
    assert serious_axe_violations(page) == []
