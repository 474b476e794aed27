"""The staff area's cast: two departments with a member each, an admin, an alderman of one
ward, a resident, and issues spread so that every permission boundary has something on each side.
Wards are two small squares (fast to build) instead of the real 50."""

from __future__ import annotations

import pytest

from accounts.models import User
from departments import services as department_services
from departments.models import ResponseTemplate, Ward
from tests.factories import CITY_HALL, make_department, make_issue, make_service_type, make_user

# Two square wards: 42 holds City Hall, 2 lies just north of it.
WARD_42_POINT = CITY_HALL
WARD_2_POINT = (41.91, -87.63)
NO_WARD_POINT = (41.5, -88.5)


def square(south: float, west: float, north: float, east: float) -> dict:
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


@pytest.fixture
def wards(db) -> dict[int, Ward]:
    return {
        42: Ward.objects.create(
            number=42, name="Ward 42", boundary=square(41.87, -87.65, 41.895, -87.61)
        ),
        2: Ward.objects.create(
            number=2, name="Ward 2", boundary=square(41.90, -87.65, 41.92, -87.61)
        ),
    }


@pytest.fixture
def streets(db):
    return make_department("Streets and Sanitation", contact_email="dss@city.example")


@pytest.fixture
def water(db):
    return make_department("Water Management", contact_email="water@city.example")


@pytest.fixture
def pothole(streets):
    return make_service_type(streets, code="pothole", name="Pothole in Street", sla_hours=72)


@pytest.fixture
def leak(water):
    return make_service_type(water, code="leak", name="Water on Street", sla_hours=48)


@pytest.fixture
def sam(streets) -> User:
    user = make_user("sam@city.example", display_name="Sam Streets")
    department_services.add_staff(department=streets, user=user)
    return user


@pytest.fixture
def sam2(streets) -> User:
    user = make_user("sid@city.example", display_name="Sid Streets")
    department_services.add_staff(department=streets, user=user)
    return user


@pytest.fixture
def wanda(water) -> User:
    user = make_user("wanda@city.example", display_name="Wanda Water")
    department_services.add_staff(department=water, user=user)
    return user


@pytest.fixture
def boss(db) -> User:
    return User.objects.create_superuser(
        email="boss@city.example", password="correct-horse-battery"
    )


@pytest.fixture
def alderman(wards) -> User:
    user = make_user("alder42@city.example", display_name="Alderman 42")
    department_services.set_aldermen(ward=wards[42], users=[user])
    return user


@pytest.fixture
def rosa(db) -> User:
    return make_user("rosa@example.org", display_name="Rosa")


@pytest.fixture
def roleless_staff(db) -> User:
    """is_staff set by hand but holding no role: the admin lets them in, the queues do not."""
    return make_user("nobody@city.example", is_staff=True)


@pytest.fixture
def streets_issue(wards, pothole):
    return make_issue(
        pothole,
        point=WARD_42_POINT,
        description="Pothole by City Hall",
        reporter_name="Pat Private",
        reporter_email="pat.private@example.net",
        reporter_phone="312-555-0101",
    )


@pytest.fixture
def water_issue(wards, leak):
    return make_issue(leak, point=WARD_42_POINT, description="Water bubbling up")


@pytest.fixture
def streets_issue_ward2(wards, pothole):
    return make_issue(pothole, point=WARD_2_POINT, description="Pothole up north")


@pytest.fixture
def close_template(streets):
    return ResponseTemplate.objects.create(
        department=streets,
        title="Pothole filled",
        body="A crew filled this pothole.",
        status="closed",
    )


@pytest.fixture
def water_template(water):
    return ResponseTemplate.objects.create(
        department=water, title="Leak fixed", body="The leak was repaired.", status="closed"
    )


def changelist_url() -> str:
    return "/admin/issues/issue/"


def change_url(issue) -> str:
    return f"/admin/issues/issue/{issue.pk}/change/"


def work_url(issue, what: str) -> str:
    return f"/admin/issues/issue/{issue.pk}/work/{what}/"


def shown_ids(response) -> set[str]:
    """The request ids a changelist response lists."""
    return {issue.public_id for issue in response.context["cl"].result_list}
