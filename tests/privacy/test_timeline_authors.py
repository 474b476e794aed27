"""Who the public timeline names as a comment's writer, now that it reads comments as values
(selectors.public_timeline): a resident by display name or "a resident", never by email address;
an official reply by its department; a staff member never by name."""

import pytest

from issues import selectors, services
from tests.factories import make_issue, make_user

pytestmark = pytest.mark.django_db


def test_the_timeline_names_writers_by_display_name_department_or_a_resident(
    client, service_type, staff_user
):
    issue = make_issue(service_type)
    nameless = make_user("quiet.neighbour@example.org", display_name="")
    named = make_user("named@example.org", display_name="Dana")
    staff_user.display_name = "Sam Staffer"
    staff_user.save()
    services.add_comment(issue=issue, author=nameless, body="Still a hole here.")
    services.add_comment(issue=issue, author=named, body="Me too.")
    services.add_comment(issue=issue, author=staff_user, body="Crew booked for Monday.")

    comments = [e for e in selectors.public_timeline(issue) if e.kind == "comment"]
    assert [(e.author, e.official) for e in comments] == [
        ("a resident", False),
        ("Dana", False),
        ("Streets and Sanitation", True),
    ]
    page = client.get(f"/issues/{issue.public_id}/").content.decode()

    assert "Still a hole here." in page and "Crew booked for Monday." in page
    assert "a resident" in page and "Dana" in page
    assert "Streets and Sanitation" in page  # the official reply speaks for the department
    for private in ("quiet.neighbour", "named@example.org", "staff@city.example", "Sam", "Staffer"):
        assert private not in page
