"""Assets in the workbench: an issue's asset on its page, the queue searched by an asset's id,
and staff of a layer's department ending an adoption (others cannot see or end it)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from issues import services
from issues.models import Adoption, EndReason
from tests.factories import make_department, make_issue, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def reported(shelter):
    dirty = shelter.layer.service_types.get()
    return make_issue(dirty, asset=shelter, description="Glass everywhere")


def test_staff_see_the_asset_on_the_issue_page(client, reported, transit_staff):
    client.force_login(transit_staff)
    page = client.get(reverse("admin:issues_issue_change", args=[reported.pk])).content.decode()
    assert "Bus shelter" in page and "1412" in page and "Clark &amp; Randolph" in page
    assert f'href="/assets/{reported.asset.layer.slug}/1412/"' in page
    assert "/admin/issues/adoption/?q=1412" in page


def test_the_queue_finds_an_assets_reports_by_its_id(client, reported, shelter, transit_staff):
    dirty = shelter.layer.service_types.get()
    make_issue(dirty, description="Another shelter, no asset named")
    client.force_login(transit_staff)
    found = client.get(reverse("admin:issues_issue_changelist"), {"q": "1412"})
    assert [issue.pk for issue in found.context["cl"].result_list] == [reported.pk]


def test_staff_of_the_layer_end_an_adoption_with_a_reason(
    client, shelter, neighbour, transit_staff
):
    adoption = services.adopt_asset(asset=shelter, user=neighbour)
    client.force_login(transit_staff)
    url = reverse("admin:issues_adoption_changelist")
    listed = client.get(url, {"q": "1412"})
    assert [a.pk for a in listed.context["cl"].result_list] == [adoption.pk]
    form = {"action": "end_adoptions", "_selected_action": [adoption.pk]}
    asked = client.post(url, form)
    assert asked.status_code == 200 and "Why do they end?" in asked.content.decode()
    refused = client.post(url, {**form, "apply": "1", "note": ""})
    assert refused.status_code == 400
    client.post(url, {**form, "apply": "1", "note": "The shelter is being replaced."})
    adoption.refresh_from_db()
    assert adoption.end_reason == EndReason.ENDED_BY_CITY
    assert adoption.end_note == "The shelter is being replaced."


def test_staff_of_another_department_see_no_adoptions_of_the_layer(client, shelter, neighbour):
    services.adopt_asset(asset=shelter, user=neighbour)
    water = make_staff(make_department("Water"), email="water@city.example")
    client.force_login(water)
    listed = client.get(reverse("admin:issues_adoption_changelist"))
    assert list(listed.context["cl"].result_list) == []
    assert Adoption.objects.active().count() == 1


def test_only_admins_edit_layers_and_assets(client, shelter, transit_staff, admin_user):
    client.force_login(transit_staff)
    assert client.get(reverse("admin:departments_asset_changelist")).status_code == 403
    client.force_login(admin_user)
    page = client.get(reverse("admin:departments_assetlayer_changelist")).content.decode()
    assert "Bus shelters" in page
    assert (
        client.get(reverse("admin:departments_asset_change", args=[shelter.pk])).status_code == 200
    )
