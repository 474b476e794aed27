"""The staff workbench in a real browser: sign in, work an issue from its page (map, template,
status, timeline), close several from the queue with a bulk action, and place a lost report by
clicking the map. Accessibility is checked with axe on the pages staff live in."""

import pytest
from playwright.sync_api import expect

from departments import services as department_services
from departments.models import ResponseTemplate, Ward
from issues import services
from issues.models import Issue, Status, StatusChange
from tests.browser_support import serious_axe_violations
from tests.factories import CITY_HALL, make_department, make_issue, make_service_type, make_user
from tests.pages.conftest import jpeg_bytes

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-battery"


@pytest.fixture
def desk(transactional_db):
    ring = [[-87.65, 41.87], [-87.61, 41.87], [-87.61, 41.895], [-87.65, 41.895], [-87.65, 41.87]]
    Ward.objects.create(
        number=42, name="Ward 42", boundary={"type": "Polygon", "coordinates": [ring]}
    )
    streets = make_department("Streets and Sanitation")
    pothole = make_service_type(streets, code="pothole", name="Pothole in Street", sla_hours=72)
    sam = make_user("sam@city.example", password=PASSWORD, display_name="Sam Streets")
    department_services.add_staff(department=streets, user=sam)
    template = ResponseTemplate.objects.create(
        department=streets,
        title="Pothole filled",
        body="A crew filled this pothole.",
        status="closed",
    )
    issues = [
        make_issue(
            pothole,
            point=CITY_HALL,
            description=f"Pothole number {n}",
            reporter_email=f"r{n}@example.net",
        )
        for n in range(3)
    ]
    return {"sam": sam, "template": template, "issues": issues, "pothole": pothole}


def sign_in(page, live_server, email):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(live_server.url + "/admin/login/?next=/admin/issues/issue/")
    page.fill("#id_username", email)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/issues/issue/")


def test_staff_close_an_issue_from_its_page_with_a_template(page, live_server, desk):
    sign_in(page, live_server, "sam@city.example")
    issue = desk["issues"][0]
    page.click(f"text={issue.public_id}")
    page.wait_for_selector("#cf-issue-map.leaflet-container")
    assert page.locator("#cf-issue-map path.leaflet-interactive").count() == 1  # the point
    violations = serious_axe_violations(page)
    assert violations == [], violations

    page.select_option("#cf-status-form select[name=to]", "closed")
    page.select_option("#cf-status-form select[name=resolution]", "fixed")
    page.set_input_files(
        "#cf-status-form input[name=photo]",
        files=[{"name": "after.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes()}],
    )
    page.select_option("#cf-status-form select[name=template]", str(desk["template"].pk))
    expect(page.locator("#cf-status-form textarea[name=message]")).to_have_value(
        "A crew filled this pothole."
    )
    page.click("#cf-status-form button[type=submit]")
    page.wait_for_selector(".messagelist")
    assert "Closed: fixed." in page.inner_text(".messagelist")
    assert "A crew filled this pothole." in page.inner_text(".cf-timeline")
    assert Issue.objects.get(pk=issue.pk).status == Status.CLOSED
    assert Issue.objects.get(pk=issue.pk).resolution == "fixed"
    assert StatusChange.objects.get(issue=issue, to_status=Status.CLOSED).photos.count() == 1
    # Straight on to the next issue of the queue.
    page.click("#cf-next-in-queue")
    page.wait_for_selector("#cf-status-form")
    assert issue.public_id not in page.inner_text(".cf-summary-line")


def test_staff_bulk_close_from_the_queue(page, live_server, desk):
    sign_in(page, live_server, "sam@city.example")
    violations = serious_axe_violations(page)
    assert violations == [], violations
    for issue in desk["issues"][:2]:
        page.check(f"input[name=_selected_action][value='{issue.pk}']")
    page.select_option("select[name=action]", "close_with_template")
    page.click("button[name=index]")
    page.wait_for_selector("#cf-bulk-form")
    page.select_option("#cf-bulk-form select[name=resolution]", "fixed")
    page.select_option("#cf-bulk-form select[name=template]", str(desk["template"].pk))
    # The page's script fills the message on the change, or when it loads if the template was
    # chosen before it ran (CI once chose it first: the change went unheard); expect() waits.
    expect(page.locator("#cf-bulk-form textarea[name=message]")).to_have_value(
        "A crew filled this pothole."
    )
    page.click("#cf-bulk-form input[type=submit]")
    page.wait_for_selector(".messagelist")
    assert "2 issues are now closed." in page.inner_text(".messagelist")
    assert StatusChange.objects.filter(to_status=Status.CLOSED).count() == 2
    assert Issue.objects.get(pk=desk["issues"][2].pk).status == Status.OPEN


def test_a_big_bulk_close_runs_as_a_job_and_ends_on_its_summary(page, live_server, desk, settings):
    settings.BULK_JOB_THRESHOLD = 1  # two issues are "many" here; no broker: it runs eagerly
    sign_in(page, live_server, "sam@city.example")
    for issue in desk["issues"][:2]:
        page.check(f"input[name=_selected_action][value='{issue.pk}']")
    page.select_option("select[name=action]", "close_with_template")
    page.click("button[name=index]")
    page.wait_for_selector("#cf-bulk-form")
    page.select_option("#cf-bulk-form select[name=resolution]", "fixed")
    page.select_option("#cf-bulk-form select[name=template]", str(desk["template"].pk))
    page.click("#cf-bulk-form input[type=submit]")
    page.wait_for_url("**/admin/issues/bulkjob/*/change/")
    assert "2 issues changed" in page.inner_text("#content-main")
    assert page.get_attribute("#cf-job-progress", "value") == "2"
    violations = serious_axe_violations(page)
    assert violations == [], violations
    assert StatusChange.objects.filter(to_status=Status.CLOSED).count() == 2


def test_staff_place_a_lost_report_by_clicking_the_map(page, live_server, desk):
    lost = make_issue(
        desk["pothole"], point=(41.5, -88.5), source="open311", description="Lost one"
    )
    sign_in(page, live_server, "sam@city.example")
    page.goto(f"{live_server.url}/admin/issues/issue/?triage=yes")
    page.click(f"text={lost.public_id}")
    page.wait_for_selector("#cf-issue-map.leaflet-container")
    page.click("#cf-issue-map", position={"x": 100, "y": 100})
    assert page.input_value("#cf-place-form input[name=latitude]") != "41.5"
    # The map shows the issue's old point; type the new one to be sure where it lands.
    page.fill("#cf-place-form input[name=latitude]", str(CITY_HALL[0]))
    page.fill("#cf-place-form input[name=longitude]", str(CITY_HALL[1]))
    page.click("#cf-place-form button[type=submit]")
    page.wait_for_selector(".messagelist")
    assert "Placed in Ward 42." in page.inner_text(".messagelist")
    lost.refresh_from_db()
    assert not lost.needs_triage and lost.ward.number == 42


def test_the_queue_fits_a_1366_laptop_without_sideways_scrolling(page, live_server, desk):
    for n in range(20):  # long descriptions and addresses, as real reports have
        issue = make_issue(
            desk["pothole"],
            point=CITY_HALL,
            address=f"{n}000 South Martin Luther King Junior Drive, Chicago, Illinois 60653",
            description="A very deep pothole right in the middle of the bike lane " * 4,
        )
        if n % 4 == 0:  # the widest priority badge, on the first page
            services.set_priority(issue=issue, priority="urgent", by=desk["sam"])
    sign_in(page, live_server, "sam@city.example")
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{live_server.url}/admin/issues/issue/")
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{overflow}px of sideways scrolling"
    width = page.evaluate("document.documentElement.clientWidth")
    headers = page.locator("#result_list thead th")
    names = []
    for k in range(headers.count()):
        box = headers.nth(k).bounding_box()
        assert box is not None and box["x"] + box["width"] <= width, headers.nth(k).inner_text()
        names.append(headers.nth(k).inner_text().strip().lower())
    for column in ("type", "description", "ward", "age / due", "status", "priority", "assignee"):
        assert any(column in name for name in names), (column, names)
    # The views a department switches between are one click away.
    page.click(".cf-queue-views >> text=Unassigned")
    page.wait_for_url("**assigned=none**")
    violations = serious_axe_violations(page)
    assert violations == [], violations


def test_a_crew_works_an_issue_from_a_phone(page, live_server, desk):
    """In the field: the issue page and its status form on a 390-px phone, no sideways scroll."""
    sign_in(page, live_server, "sam@city.example")
    issue = desk["issues"][1]
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url + f"/admin/issues/issue/{issue.pk}/change/")
    page.wait_for_selector("#cf-status-form")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    submit = page.locator("#cf-status-form button[type=submit]")
    box = submit.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    page.select_option("#cf-status-form select[name=to]", "in_progress")
    submit.click()
    page.wait_for_selector(".messagelist")
    assert Issue.objects.get(pk=issue.pk).status == Status.IN_PROGRESS
    assert serious_axe_violations(page) == []


def test_a_template_chosen_before_the_script_loads_still_fills_the_message(page, live_server, desk):
    # A slow link: the bulk form is on screen and a template chosen before its deferred script
    # arrives; the script, when it runs, fills the message from the choice already made.
    sign_in(page, live_server, "sam@city.example")
    held = []
    page.route("**/admin-issue.js", lambda route: held.append(route))
    for issue in desk["issues"][:2]:
        page.check(f"input[name=_selected_action][value='{issue.pk}']")
    page.select_option("select[name=action]", "close_with_template")
    page.click("button[name=index]", no_wait_after=True)
    page.wait_for_selector("#cf-bulk-form select[name=template]")
    page.select_option("#cf-bulk-form select[name=template]", str(desk["template"].pk))
    message = page.locator("#cf-bulk-form textarea[name=message]")
    assert message.input_value() == ""
    page.wait_for_function("true")  # lets the held request reach the handler
    assert held, "the workbench script was never requested"
    held[0].continue_()
    expect(message).to_have_value("A crew filled this pothole.")
