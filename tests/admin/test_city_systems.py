"""The city's systems in the workbench catalogue: admins only, the key written and never shown."""

import pytest

from departments.models import UpstreamEndpoint

pytestmark = pytest.mark.django_db

FORM = {
    "name": "City 311",
    "base_url": "https://311.city.example/open311/v2/",
    "jurisdiction_id": "city.example",
    "format": "json",
    "timeout_seconds": "20",
    "active": "on",
}


def test_the_key_is_written_in_the_admin_and_never_shown(client, admin_user):
    client.force_login(admin_user)
    response = client.post(
        "/admin/departments/upstreamendpoint/add/", {**FORM, "new_api_key": "k-123-secret"}
    )
    assert response.status_code == 302
    endpoint = UpstreamEndpoint.objects.get()
    assert endpoint.api_key == "k-123-secret"
    page = client.get(f"/admin/departments/upstreamendpoint/{endpoint.pk}/change/")
    assert "k-123-secret" not in page.content.decode()
    assert "set" in page.content.decode()
    # Saving without typing a key keeps it; "remove" removes it.
    client.post(f"/admin/departments/upstreamendpoint/{endpoint.pk}/change/", FORM)
    assert UpstreamEndpoint.objects.get().api_key == "k-123-secret"
    client.post(
        f"/admin/departments/upstreamendpoint/{endpoint.pk}/change/",
        {**FORM, "clear_api_key": "on"},
    )
    assert not UpstreamEndpoint.objects.get().has_api_key


def test_staff_cannot_open_the_city_systems(client, staff_user):
    UpstreamEndpoint.objects.create(name="City 311", base_url="https://x/")
    client.force_login(staff_user)
    assert client.get("/admin/departments/upstreamendpoint/").status_code == 403
    assert client.get("/admin/departments/integrationkey/").status_code == 403
