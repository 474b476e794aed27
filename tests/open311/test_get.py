"""GET endpoints: shapes, formats, errors and filters, through Django's test client."""

import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.utils import timezone

from issues.models import Issue
from tests.factories import make_issue

API = "/open311/v2"


def get_json(client, path, expect=200, **params):
    response = client.get(API + path, params)
    assert response.status_code == expect, response.content
    assert response["Content-Type"] == "application/json; charset=utf-8"
    return response.json()


def get_xml(client, path, expect=200, **params):
    response = client.get(API + path, params)
    assert response.status_code == expect, response.content
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(response.content)  # noqa: S314 (our own server's output)


def ids(rows):
    return {r["service_request_id"] for r in rows}


def test_discovery_is_an_object_in_json_and_xml(client, db):
    data = get_json(client, "/discovery.json")
    assert data["endpoints"][0]["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert data["endpoints"][0]["formats"] == ["text/xml", "application/json"]
    root = get_xml(client, "/discovery.xml")
    assert root.tag == "discovery"
    assert [f.text for f in root.findall("endpoints/endpoint/formats/format")] == [
        "text/xml",
        "application/json",
    ]


def test_service_list_is_a_bare_array_with_boolean_metadata(client, pothole, graffiti):
    data = get_json(client, "/services.json")
    assert isinstance(data, list)
    by_code = {s["service_code"]: s for s in data}
    assert by_code["pothole"]["metadata"] is True
    assert by_code["graffiti"]["metadata"] is False
    assert by_code["pothole"]["type"] == "realtime"
    assert by_code["graffiti"]["group"] is None


def test_service_list_xml_has_services_root_and_text_booleans(client, pothole):
    root = get_xml(client, "/services.xml")
    assert root.tag == "services"
    service = root.find("service")
    assert service.findtext("service_code") == "pothole"
    assert service.findtext("metadata") == "true"


def test_inactive_service_is_not_listed(client, pothole, graffiti):
    graffiti.active = False
    graffiti.save()
    assert [s["service_code"] for s in get_json(client, "/services.json")] == ["pothole"]


def test_service_definition_is_an_object_with_attribute_values(client, pothole):
    data = get_json(client, "/services/pothole.json")
    assert data["service_code"] == "pothole"
    size = data["attributes"][0]
    assert size == {
        "variable": True,
        "code": "SIZE",
        "datatype": "singlevaluelist",
        "required": True,
        "datatype_description": None,
        "order": 1,
        "description": "How big?",
        "values": [{"key": "small", "name": "Small"}, {"key": "large", "name": "Large"}],
    }
    root = get_xml(client, "/services/pothole.xml")
    assert root.tag == "service_definition"
    assert [v.findtext("key") for v in root.findall("attributes/attribute/values/value")][:2] == [
        "small",
        "large",
    ]


def test_unknown_service_code_is_a_404_error_list_in_the_requested_format(client, db):
    assert get_json(client, "/services/nope.json", expect=404)[0]["code"] == 404
    root = get_xml(client, "/services/nope.xml", expect=404)
    assert root.tag == "errors"
    assert root.find("error/code").text == "404"
    assert "nope" in root.find("error/description").text


def test_unknown_jurisdiction_is_404_and_empty_or_ours_is_fine(client, pothole, settings):
    settings.OPEN311_JURISDICTION = "cityofchicago.org"
    get_json(client, "/services.json", jurisdiction_id="")
    get_json(client, "/services.json", jurisdiction_id="cityofchicago.org")
    errors = get_json(client, "/services.json", expect=404, jurisdiction_id="sfgov.org")
    assert "sfgov.org" in errors[0]["description"]


def test_unknown_format_and_unknown_paths_answer_in_the_api_error_format(client, db):
    response = client.get(API + "/services.html")
    assert response.status_code == 404
    assert response.json()[0]["code"] == 404
    response = client.get(API + "/nothing/here.xml")
    assert response.status_code == 404
    assert ET.fromstring(response.content).tag == "errors"  # noqa: S314


def test_wrong_method_is_405_with_an_error_list(client, db):
    response = client.delete(API + "/services.json")
    assert response.status_code == 405
    assert response.json()[0]["code"] == 405


def test_request_list_fields_types_and_city_time_zone(client, city):
    data = get_json(client, "/requests.json")
    assert isinstance(data, list)
    row = next(r for r in data if r["service_request_id"] == city["public"].public_id)
    assert row["status"] == "open"  # acknowledged is open in Open311 words
    assert row["status_notes"] == "Crew on the way"
    assert isinstance(row["lat"], float) and isinstance(row["long"], float)
    assert row["requested_datetime"].endswith(("-05:00", "-06:00"))
    assert row["address_id"] is None
    assert row["service_notice"] == "The city will inspect within 7 days."
    assert "extended_attributes" not in row and "notes" not in row


def test_request_list_xml_uses_service_requests_and_request(client, city):
    root = get_xml(client, "/requests.xml")
    assert root.tag == "service_requests"
    assert {r.findtext("service_request_id") for r in root.findall("request")} == {
        city["public"].public_id,
        city["closed"].public_id,
    }
    # null is an empty element
    assert root.find("request/address_id").text is None


def test_hidden_issue_is_in_no_list_and_its_id_is_404(client, city):
    assert city["hidden"].public_id not in ids(get_json(client, "/requests.json"))
    get_json(client, f"/requests/{city['hidden'].public_id}.json", expect=404)
    assert get_json(client, "/requests.json", service_request_id=city["hidden"].public_id) == []


@pytest.mark.pgbouncer  # the smoke set run through PgBouncer (.ci/run)
def test_single_request_is_a_one_element_array(client, city):
    public_id = city["public"].public_id
    data = get_json(client, f"/requests/{public_id}.json")
    assert len(data) == 1 and data[0]["service_request_id"] == public_id
    root = get_xml(client, f"/requests/{public_id}.xml")
    assert [r.findtext("service_request_id") for r in root.findall("request")] == [public_id]


def test_request_id_is_read_the_way_people_type_it(client, city):
    public_id = city["public"].public_id
    data = get_json(client, f"/requests/{public_id.replace('-', '').lower()}.json")
    assert data[0]["service_request_id"] == public_id


def test_status_filter_maps_open_and_closed(client, city):
    assert ids(get_json(client, "/requests.json", status="open")) == {city["public"].public_id}
    assert ids(get_json(client, "/requests.json", status="closed")) == {city["closed"].public_id}
    assert len(get_json(client, "/requests.json", status="open,closed")) == 2
    assert len(get_json(client, "/requests.json", status="")) == 2
    get_json(client, "/requests.json", expect=400, status="pending")


def test_service_request_id_list_overrides_other_filters(client, city):
    both = f"{city['public'].public_id},{city['closed'].public_id}"
    data = get_json(client, "/requests.json", service_request_id=both, status="open")
    assert ids(data) == {city["public"].public_id, city["closed"].public_id}


def test_service_code_filter_takes_a_comma_list(client, city):
    assert ids(get_json(client, "/requests.json", service_code="graffiti")) == {
        city["closed"].public_id
    }
    assert len(get_json(client, "/requests.json", service_code="graffiti,pothole")) == 2


@pytest.mark.parametrize(
    "text",
    ["{d}T00:00:00Z", "{d}T00:00:00.123456+00:00", "{d} 00:00:00-05:00", "{d}T00:00:00.5Z"],
)
def test_dates_accept_z_offsets_fractions_and_a_space(client, city, text):
    Issue.objects.filter(pk=city["closed"].pk).update(
        requested_at=timezone.now() - timedelta(days=30)
    )
    since = (timezone.now() - timedelta(days=2)).date().isoformat()
    data = get_json(client, "/requests.json", start_date=text.format(d=since))
    assert ids(data) == {city["public"].public_id}
    data = get_json(client, "/requests.json", end_date=text.format(d=since))
    assert ids(data) == {city["closed"].public_id}


@pytest.mark.parametrize(
    "params",
    [
        {"start_date": "yesterday"},
        {"end_date": "2026-13-45T00:00:00Z"},
        {"updated_after": "nope"},
        {"page": "0"},
        {"page": "x"},
        {"page_size": "100000"},
        {"lat": "41.8", "long": "-87.6"},
        {"lat": "north", "long": "-87.6", "radius": "100"},
        {"lat": "41.8", "long": "-87.6", "radius": "-5"},
        {"lat": "nan", "long": "-87.6", "radius": "5"},
        {"ward": "first"},
        {"ward": "99999999999999999999"},
        {"extensions": "maybe"},
        {"start_date": "2026-05-02T00:00:00Z", "end_date": "2026-05-01T00:00:00Z"},
        # Dates a datetime cannot hold once converted to UTC (were a 500 on SQLite).
        {"start_date": "0001-01-01T00:00:00+05:00"},
        {"end_date": "9999-12-31T23:59:59-05:00"},
        {"updated_after": "0001-01-01T00:00:00+05:00"},
        {"updated_before": "9999-12-31T23:59:59-05:00"},
    ],
)
def test_bad_arguments_are_400_with_an_explanation(client, db, params):
    errors = get_json(client, "/requests.json", expect=400, **params)
    assert errors[0]["code"] == 400
    assert errors[0]["description"]


def test_updated_after_and_before_filter_on_updated_datetime(client, city):
    old = timezone.now() - timedelta(days=10)
    Issue.objects.filter(pk=city["closed"].pk).update(updated_at=old)
    cut = (timezone.now() - timedelta(days=1)).isoformat()
    assert ids(get_json(client, "/requests.json", updated_after=cut)) == {city["public"].public_id}
    assert ids(get_json(client, "/requests.json", updated_before=cut)) == {city["closed"].public_id}


def test_radius_search_in_metres(client, city):
    lat, lon = city["public"].latitude, city["public"].longitude
    near = get_json(client, "/requests.json", lat=lat, long=lon, radius=50)
    assert ids(near) == {city["public"].public_id}
    # The closed issue is ~9.3 km north-west: outside 9 km, inside 9.5 km.
    assert len(get_json(client, "/requests.json", lat=lat, long=lon, radius=9_000)) == 1
    assert len(get_json(client, "/requests.json", lat=lat, long=lon, radius=9_500)) == 2


def test_radius_is_a_circle_not_the_bounding_box(client, pothole, wards):
    centre = (41.88, -87.63)
    # 700 m north and 700 m east: inside the 800 m box's corner, ~990 m away.
    corner = make_issue(
        pothole, point=(41.88 + 0.0063, -87.63 + 0.00845), attributes={"SIZE": ["small"]}
    )
    inside = make_issue(pothole, point=(41.88 + 0.0063, -87.63), attributes={"SIZE": ["small"]})
    found = ids(get_json(client, "/requests.json", lat=centre[0], long=centre[1], radius=800))
    assert found == {inside.public_id}
    assert corner.public_id not in found


def test_ward_filter(client, city):
    ward = city["public"].ward.number
    assert ids(get_json(client, "/requests.json", ward=str(ward))) == {city["public"].public_id}


def test_pages_default_to_50_and_allow_500(client, graffiti, wards):
    from issues.notify import events

    with events.suppressed():
        for _ in range(55):
            make_issue(graffiti)
    assert len(get_json(client, "/requests.json")) == 50
    response = client.get(API + "/requests.json", {"page": 2})
    assert len(response.json()) == 5
    assert "X-Next-Page-URL" not in response
    first = client.get(API + "/requests.json")
    assert "page=2" in first["X-Next-Page-URL"]
    assert len(get_json(client, "/requests.json", page_size=500)) == 55
    assert get_json(client, "/requests.json", page=9) == []


def test_extensions_add_ward_channel_photos_and_public_notes_only(client, city):
    from tests.open311.conftest import SECRET_NOTE

    data = get_json(client, f"/requests/{city['public'].public_id}.json", extensions="true")
    row = data[0]
    assert row["extended_attributes"]["ward"] == city["public"].ward.number
    assert row["extended_attributes"]["channel"] == "web"
    assert row["extended_attributes"]["photos"] == []
    assert [n["type"] for n in row["notes"]] == ["submitted", "activity"]
    assert row["notes"][1]["description"] == "Crew on the way"
    assert SECRET_NOTE not in str(data)
    root = get_xml(client, f"/requests/{city['public'].public_id}.xml", extensions="true")
    assert root.findtext("request/extended_attributes/channel") == "web"
    assert len(root.findall("request/notes/note")) == 2


def test_request_list_query_count_is_constant(client, graffiti, wards, django_assert_num_queries):
    from issues.notify import events

    with events.suppressed():
        for _ in range(30):
            issue = make_issue(graffiti)
    with django_assert_num_queries(4):
        assert len(get_json(client, "/requests.json", extensions="true", page_size=100)) == 30
    with django_assert_num_queries(2):
        assert len(get_json(client, "/requests.json", page_size=100)) == 30
    with django_assert_num_queries(4):
        assert len(get_json(client, f"/requests/{issue.public_id}.json", extensions="true")) == 1


def test_token_is_the_request_id_for_a_realtime_server(client, city):
    public_id = city["public"].public_id
    assert get_json(client, f"/tokens/{public_id}.json") == [
        {"service_request_id": public_id, "token": public_id}
    ]
    get_json(client, "/tokens/NOPE-NOPE.json", expect=404)
    get_xml(client, f"/tokens/{city['hidden'].public_id}.xml", expect=404)


def test_control_characters_never_break_the_xml(client, graffiti, wards):
    issue = make_issue(graffiti, description="bell\x07 and <b>tags</b> & ampersands")
    root = get_xml(client, f"/requests/{issue.public_id}.xml")
    assert root.findtext("request/description") == "bell and <b>tags</b> & ampersands"


def test_ids_beyond_a_page_all_come_back(client, graffiti, wards):
    from issues.notify import events

    with events.suppressed():
        wanted = [make_issue(graffiti).public_id for _ in range(55)]
    data = get_json(client, "/requests.json", service_request_id=",".join(wanted))
    assert ids(data) == set(wanted)


def test_api_answers_cross_origin_reads_and_head(client, pothole):
    response = client.get(API + "/services.json")
    assert response["Access-Control-Allow-Origin"] == "*"
    assert client.head(API + "/services.json").status_code == 200
    refused = client.put(API + "/requests.json")
    assert refused.status_code == 405
    assert refused["Allow"] == "GET, HEAD, POST"


def test_service_without_attributes_answers_an_empty_definition(client, graffiti):
    assert get_json(client, "/services/graffiti.json") == {
        "service_code": "graffiti",
        "attributes": [],
    }
    assert get_xml(client, "/services/graffiti.xml").find("attributes") is not None


@pytest.mark.parametrize("path", ["/requests/AB%00CD.json", "/tokens/AB%00CD.json"])
def test_nul_in_a_request_id_is_a_404_without_a_query(client, db, path, django_assert_num_queries):
    # PostgreSQL refuses NUL in a query: reaching the database with one would be a 500.
    with django_assert_num_queries(0):
        get_json(client, path, expect=404)


def test_nul_in_query_string_arguments_is_dropped_before_any_query():
    # SQLite accepts NUL, so the test client cannot show PostgreSQL's 500: check the parser.
    from issues.open311.query import RequestQuery

    parsed = RequestQuery.from_params({"service_request_id": "\x00", "service_code": "A\x00B"})
    assert parsed.ids == []
    assert parsed.service_codes == ["AB"]
