"""Before a report is sent: the type's notice as soon as it is chosen (with and without
JavaScript), emergency types refused on every door with what to do instead, and the banner."""

import csv
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from issues import services
from issues.models import Issue, SiteBanner, StatusTally
from tests.factories import CITY_HALL

pytestmark = pytest.mark.django_db


def report_form(**extra):
    data = {
        "service_code": "gas-leak",
        "latitude": str(CITY_HALL[0]),
        "longitude": str(CITY_HALL[1]),
        "description": "Smells of gas",
        "email": "rosa@example.org",
    }
    data.update(extra)
    return data


def test_the_notice_shows_when_the_type_is_chosen_by_link_without_javascript(client, gas_leak):
    response = client.get(reverse("issues:report") + "?type=gas-leak")
    body = response.content.decode()
    assert 'data-stops-reports="1"' in body
    assert "Leave the building and call 911 now." in body
    assert "https://example.org/gas" in body


def test_the_notice_shows_after_the_no_javascript_type_button(client, gas_leak, ward):
    response = client.post(
        reverse("issues:report"), {"choose_type": "1", "service_code": "gas-leak"}
    )
    assert response.status_code == 200
    assert "Leave the building and call 911 now." in response.content.decode()
    assert not Issue.objects.exists()


def test_the_questions_fragment_carries_the_notice_for_javascript(client, graffiti_held):
    response = client.get(reverse("issues:report_questions") + "?type=graffiti")
    body = response.content.decode()
    assert "Offensive graffiti is removed within a day." in body
    assert "checked by a moderator" in body
    assert "data-stops-reports" not in body


def test_the_web_form_refuses_a_stopper_type_with_the_instruction(client, gas_leak, ward):
    response = client.post(reverse("issues:report"), report_form())
    assert response.status_code == 400
    assert "Leave the building and call 911 now." in response.content.decode()
    assert not Issue.objects.exists()


def test_open311_refuses_a_stopper_type_with_the_instruction(client, gas_leak, ward, api_key):
    response = client.post(
        "/open311/v2/requests.json",
        {
            "api_key": api_key.raw,
            "service_code": "gas-leak",
            "lat": str(CITY_HALL[0]),
            "long": str(CITY_HALL[1]),
            "description": "Smells of gas",
        },
    )
    assert response.status_code == 400
    descriptions = " ".join(e["description"] for e in response.json())
    assert "Leave the building and call 911 now." in descriptions
    assert not Issue.objects.exists()


def test_the_service_refuses_a_stopper_for_staff_too(gas_leak, ward):
    with pytest.raises(Exception, match="call 911"):
        services.create_issue(service_type=gas_leak, latitude=CITY_HALL[0], longitude=CITY_HALL[1])


def test_an_import_rejects_stopper_rows_with_the_instruction(
    tmp_path, gas_leak, pothole, person_at_risk, ward
):
    mapping = {
        "name": "city",
        "external_source": "city311",
        "id": "ID",
        "service_name": "TYPE",
        "service_code": "CODE",
        "status": "STATUS",
        "address": "ADDRESS",
        "latitude": "LAT",
        "longitude": "LON",
        "requested_at": "CREATED",
        "date_formats": ["%Y-%m-%d %H:%M"],
    }
    (tmp_path / "m.json").write_text(json.dumps(mapping))
    rows = [
        ["1", "Gas leak", "gas-leak", "open", "1 Main", str(CITY_HALL[0]), str(CITY_HALL[1])],
        ["2", "Pothole", "pothole", "open", "2 Main", str(CITY_HALL[0]), str(CITY_HALL[1])],
        [
            "3",
            "Person at risk",
            "person-at-risk",
            "open",
            "3 Main",
            str(CITY_HALL[0]),
            str(CITY_HALL[1]),
        ],
    ]
    with open(tmp_path / "f.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["ID", "TYPE", "CODE", "STATUS", "ADDRESS", "LAT", "LON", "CREATED"])
        for row in rows:
            writer.writerow([*row, "2025-05-01 09:00"])
    call_command(
        "import_311",
        str(tmp_path / "f.csv"),
        "--mapping",
        str(tmp_path / "m.json"),
        "--rejects",
        str(tmp_path / "rejects.csv"),
        stdout=open(tmp_path / "out.txt", "w"),  # noqa: SIM115
    )
    assert sorted(Issue.objects.values_list("external_id", flat=True)) == ["2", "3"]
    # A private type's imported report is kept from the public, and from the counters.
    private = Issue.objects.get(external_id="3")
    assert private.is_hidden and private.withheld == "private"
    assert StatusTally.objects.aggregate(n=Sum("n"))["n"] == 1
    with open(tmp_path / "rejects.csv", newline="") as f:
        rejects = list(csv.DictReader(f))
    assert len(rejects) == 1
    assert "Leave the building and call 911 now." in rejects[0]["_reason"]


def test_the_banner_shows_between_its_start_and_end(client, db):
    now = timezone.now()
    SiteBanner.objects.create(
        message="Storm: 311 phones are down",
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(hours=1),
    )
    SiteBanner.objects.create(message="Not yet", starts_at=now + timedelta(hours=1))
    SiteBanner.objects.create(
        message="Long over", starts_at=now - timedelta(days=2), ends_at=now - timedelta(days=1)
    )
    services.refresh_banners()
    body = client.get(reverse("issues:report")).content.decode()
    assert "Storm: 311 phones are down" in body
    assert "Not yet" not in body and "Long over" not in body


def test_no_banner_no_markup(client, db):
    services.refresh_banners()
    assert "site-banner" not in client.get(reverse("issues:report")).content.decode()
