"""A small city for the API: two service types (one with attributes), public and private data."""

import pytest

from accounts.services import issue_api_key
from departments.models import Ward
from issues import services
from issues.models import Status
from tests.factories import (
    CITY_HALL,
    make_attribute,
    make_issue,
    make_service_type,
    make_user,
    square_boundary,
)

SECRET_EMAIL = "private.reporter@example.org"
SECRET_PHONE = "+1 312 555 0199"
SECRET_NAME = "Prudence Private"
SECRET_NOTE = "INTERNAL: caller sounded upset, check the CCTV"
HIDDEN_TEXT = "HIDDEN-ISSUE-TEXT"


@pytest.fixture
def wards(db):
    """Two small square wards (the real 50 take a second per test to load): 42 around City Hall
    and 47 around the closed issue's point."""
    return [
        Ward.objects.create(
            number=42, name="42nd Ward", boundary=square_boundary(*CITY_HALL, 0.05)
        ),
        Ward.objects.create(
            number=47, name="47th Ward", boundary=square_boundary(41.95, -87.70, 0.01)
        ),
    ]


@pytest.fixture
def pothole(department):
    st = make_service_type(
        department,
        code="pothole",
        name="Pothole in Street",
        description="A hole in the street.",
        keywords="pothole,road",
        service_notice="The city will inspect within 7 days.",
    )
    make_attribute(
        st,
        "SIZE",
        "singlevaluelist",
        required=True,
        description="How big?",
        values=[{"key": "small", "name": "Small"}, {"key": "large", "name": "Large"}],
    )
    make_attribute(
        st,
        "WHERE",
        "multivaluelist",
        description="Where?",
        values=[{"key": "lane", "name": "Lane"}, {"key": "curb", "name": "Curb"}],
    )
    make_attribute(st, "DEPTH", "number", description="Depth in cm")
    return st


@pytest.fixture
def graffiti(department):
    return make_service_type(department, code="graffiti", name="Graffiti Removal", group="")


@pytest.fixture
def api_key(db):
    owner = make_user("developer@example.org")
    key, raw = issue_api_key(owner=owner, name="Test app")
    key.raw = raw
    return key


@pytest.fixture
def city(wards, pothole, graffiti, staff_user):
    """Public issues, one with private contact data and an internal note, one hidden."""
    public = make_issue(
        pothole,
        attributes={"SIZE": ["large"]},
        reporter_email=SECRET_EMAIL,
        reporter_phone=SECRET_PHONE,
        reporter_name=SECRET_NAME,
        description="Deep pothole by City Hall",
    )
    services.add_comment(issue=public, author=staff_user, body=SECRET_NOTE, internal=True)
    services.change_status(
        issue=public, to=Status.ACKNOWLEDGED, by=staff_user, message="Crew on the way"
    )
    closed = make_issue(graffiti, point=(41.95, -87.70), description="Tag on a garage")
    services.change_status(issue=closed, to=Status.CLOSED, by=staff_user, message="Removed")
    hidden = make_issue(graffiti, point=CITY_HALL, description=HIDDEN_TEXT)
    services.set_hidden(target=hidden, hidden=True, by=staff_user, reason="Abusive")
    return {"public": public, "closed": closed, "hidden": hidden}
