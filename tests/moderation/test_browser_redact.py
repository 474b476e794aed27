"""In Chromium: staff draw a box on a photo and the served copy is black inside it."""

import io

import pytest
from PIL import Image

from departments.models import Department, Ward
from issues.models import Photo
from issues.photos import prepare_photo
from tests.browser_support import serious_axe_violations
from tests.factories import CITY_HALL, make_issue, make_service_type, make_staff, square_boundary

pytestmark = pytest.mark.browser


def _upload():
    out = io.BytesIO()
    Image.new("RGB", (400, 300), (220, 40, 40)).save(out, format="JPEG")
    out.seek(0)
    out.name = "p.jpg"
    out.size = len(out.getvalue())
    return out


@pytest.fixture
def staff_and_issue(transactional_db, settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    Ward.objects.create(number=42, name="42nd Ward", boundary=square_boundary(*CITY_HALL))
    department = Department.objects.create(name="Streets", slug="streets")
    issue = make_issue(
        make_service_type(department, code="pothole", name="Pothole"),
        photos=[prepare_photo(_upload())],
    )
    return make_staff(department), issue


def test_staff_draw_a_box_and_the_photo_is_redacted(page, live_server, staff_and_issue):
    staff, issue = staff_and_issue
    page.goto(live_server.url + "/admin/login/")
    page.fill("#id_username", staff.email)
    page.fill("#id_password", "correct-horse-battery")
    page.click("input[type=submit]")
    page.goto(live_server.url + f"/admin/issues/issue/{issue.pk}/change/")
    image = page.locator("img.cf-redact-image")
    image.scroll_into_view_if_needed()
    box = image.bounding_box()
    page.mouse.move(box["x"] + 10, box["y"] + 10)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, steps=5)
    page.mouse.up()
    boxes = page.locator("textarea[name=boxes]").input_value()
    assert boxes.count(",") == 3
    page.fill("input[name=reason][id^=cf-redact-reason]", "a face")
    page.click(".cf-redact-form button[type=submit]")
    page.wait_for_url(f"**/admin/issues/issue/{issue.pk}/change/")
    assert serious_axe_violations(page) == []
    photo = Photo.objects.get()
    assert photo.edited_by_moderator
    with photo.image.open("rb") as f:
        img = Image.open(io.BytesIO(f.read())).convert("L")
    x, y, w, h = (int(v) for v in boxes.split(","))
    _low, high = img.crop((x + 2, y + 2, x + w - 2, y + h - 2)).getextrema()
    assert high <= 10
