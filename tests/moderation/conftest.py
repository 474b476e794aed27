"""Fixtures for safety and moderation: a city with an emergency (stopper) type, a private type,
a held type and an ordinary one, two wards and a key for the API."""

import pytest

from accounts.services import issue_api_key
from departments.models import Ward
from tests.factories import CITY_HALL, make_service_type, make_user, square_boundary


@pytest.fixture
def ward(db):
    return Ward.objects.create(number=42, name="42nd Ward", boundary=square_boundary(*CITY_HALL))


@pytest.fixture
def gas_leak(department):
    return make_service_type(
        department,
        code="gas-leak",
        name="Gas leak",
        notice="Leave the building and call 911 now.",
        notice_link="https://example.org/gas",
        stops_reports=True,
    )


@pytest.fixture
def person_at_risk(department):
    return make_service_type(
        department, code="person-at-risk", name="Person at risk", publication="private"
    )


@pytest.fixture
def graffiti_held(department):
    return make_service_type(
        department,
        code="graffiti",
        name="Graffiti",
        publication="held",
        notice="Offensive graffiti is removed within a day.",
    )


@pytest.fixture
def pothole(department):
    return make_service_type(department, code="pothole", name="Pothole")


@pytest.fixture
def api_key(db):
    key, raw = issue_api_key(owner=make_user("developer@example.org"), name="Test app")
    key.raw = raw
    return key


@pytest.fixture(autouse=True)
def _private_media_in_tmp(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
