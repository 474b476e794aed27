"""Nothing private in ANY public output: the API (JSON, XML), CSV, GeoJSON, Atom and the embed.

The city fixture's public issue has an anonymous reporter's name, email and phone and an internal
staff note; a hidden comment is added here; another issue is hidden outright. Every output must
show the public issue (so the check is not vacuous) and none of those.
"""

import pytest

from issues import services
from issues.models import Status
from tests.factories import make_staff
from tests.open311.conftest import HIDDEN_TEXT, SECRET_EMAIL, SECRET_NAME, SECRET_NOTE, SECRET_PHONE

HIDDEN_COMMENT = "HIDDEN-COMMENT-TEXT"
# A staffer's personal name: their public replies and status messages speak as the department
# (issue 16), so it never appears outside the workbench.
STAFFER_NAME = "Samantha Staffname"
SECRETS = [
    SECRET_EMAIL,
    SECRET_PHONE,
    SECRET_NAME,
    SECRET_NOTE,
    HIDDEN_TEXT,
    HIDDEN_COMMENT,
    STAFFER_NAME,
]

OUTPUTS = [
    "/open311/v2/requests.json?extensions=true",
    "/open311/v2/requests.xml?extensions=true",
    "/open311/v2/requests/{id}.json?extensions=true",
    "/open311/v2/requests/{id}.xml?extensions=true",
    "/open311/v2/requests.json?service_request_id={id},{hidden}&extensions=true",
    "/data/issues.csv",
    "/data/issues.geojson",
    "/feeds/issues/new/",
    "/feeds/issues/updated/",
    "/feeds/wards/42/new/",
    "/feeds/types/pothole/updated/",
    "/embed/?ward=42",
    "/issues/{id}/",  # the public issue page
    # the embed's data: the shared viewport endpoint, zoomed in so issues come one by one
    "/map/issues.geojson?bbox=-87.70,41.85,-87.60,41.92&zoom=17",
]


@pytest.fixture
def private_city(city, resident):
    comment = services.add_comment(issue=city["public"], author=resident, body=HIDDEN_COMMENT)
    comment.is_hidden = True
    comment.hidden_reason = "Spam"
    comment.save()
    staffer = make_staff(city["public"].department, display_name=STAFFER_NAME)
    services.add_comment(issue=city["public"], author=staffer, body="Official: crew booked")
    services.change_status(
        issue=city["public"], to=Status.IN_PROGRESS, by=staffer, message="Crew on site"
    )
    return city


@pytest.mark.parametrize("template", OUTPUTS)
def test_no_private_field_reaches_a_public_output(client, private_city, template):
    url = template.format(
        id=private_city["public"].public_id, hidden=private_city["hidden"].public_id
    )
    response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    content = (
        b"".join(response.streaming_content) if response.streaming else response.content
    ).decode("utf-8")
    if not url.startswith("/embed/"):  # the embed page itself holds no issue, only its config
        assert private_city["public"].public_id in content
    for secret in SECRETS:
        assert secret not in content, f"{secret!r} leaked in {url}"
    assert private_city["hidden"].public_id not in content
