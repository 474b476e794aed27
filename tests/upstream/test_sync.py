"""`manage.py sync_open311_services`: our service types and questions from a city system's
service list and definitions: the live city's, and Bloomington's real services.json."""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from departments.models import ServiceType, ServiceTypeUpstream, UpstreamEndpoint
from tests.factories import make_department
from tests.upstream.live import FileServer

pytestmark = pytest.mark.django_db

DATA = Path(__file__).resolve().parent.parent / "data"


def sync(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("sync_open311_services", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_sync_from_the_live_city_updates_the_mapped_type_and_adds_the_new_one(ours):
    out, _ = sync("City 311")
    assert "1 types were created, 1 updated" in out
    questions = list(ours.pothole.attributes.order_by("order").values_list("code", "datatype"))
    assert questions == [("HOLE_SIZE", "singlevaluelist"), ("LANE", "string")]
    light = ServiceType.objects.get(service_code="LIGHT")
    assert (light.name, light.department) == ("Street light out", ours.streets)
    assert light.upstream.endpoint == ours.endpoint and light.upstream.service_code == "LIGHT"
    out, _ = sync("City 311")
    assert "0 types were created, 0 updated, 2 unchanged" in out


def test_sync_keeps_the_local_edits_it_was_told_to_keep(ours):
    ServiceTypeUpstream.objects.filter(service_type=ours.pothole).update(
        sync_keeps=["name", "questions"]
    )
    ServiceType.objects.filter(pk=ours.pothole.pk).update(name="Hole in the road")
    sync("City 311")
    ours.pothole.refresh_from_db()
    assert ours.pothole.name == "Hole in the road"
    assert list(ours.pothole.attributes.values_list("code", flat=True)) == ["SIZE"]
    assert ours.pothole.group == "Streets"  # not kept: the city's


def test_a_dry_run_changes_nothing(ours):
    out, _ = sync("City 311", "--dry-run")
    assert "1 types would be created" in out
    assert not ServiceType.objects.filter(service_code="LIGHT").exists()
    assert list(ours.pothole.attributes.values_list("code", flat=True)) == ["SIZE"]


def test_bloomingtons_real_service_list_makes_46_types_and_says_which_definitions_it_lacked(db):
    body = (DATA / "open311_services_bloomington.json").read_bytes()
    services = json.loads(body)
    server = FileServer({"/crm/open311/v2/services.json": body})
    try:
        UpstreamEndpoint.objects.create(name="Bloomington", base_url=f"{server.url}/crm/open311/v2")
        department = make_department("Public Works")
        out, err = sync("Bloomington", "--department", department.slug)
        assert "46 types were created" in out
        with_questions = [s for s in services if s["metadata"]]
        assert err.count("could not be read") == len(with_questions) > 0
        graffiti = ServiceType.objects.get(service_code="4e090d24992b941e78000027")
        assert (graffiti.name, graffiti.group, graffiti.department) == (
            "Graffiti",
            "Most Popular",
            department,
        )
        assert ServiceType.objects.filter(department=department).count() == 46
        out, _ = sync("Bloomington", "--department", department.slug)
        assert "0 types were created, 0 updated, 46 unchanged" in out
    finally:
        server.close()


def test_new_types_need_a_department(db):
    server = FileServer(
        {"/v2/services.json": json.dumps([{"service_code": "X", "service_name": "X"}]).encode()}
    )
    try:
        UpstreamEndpoint.objects.create(name="Nowhere", base_url=f"{server.url}/v2/")
        _, err = sync("Nowhere")
        assert "no department" in err
        assert not ServiceType.objects.exists()
    finally:
        server.close()


def test_an_unknown_or_unreachable_endpoint_is_a_clear_error(db):
    with pytest.raises(CommandError, match="No city system"):
        sync("Atlantis")
    UpstreamEndpoint.objects.create(name="Closed", base_url="http://127.0.0.1:9/v2/")
    with pytest.raises(CommandError, match="could not be read"):
        sync("Closed")
