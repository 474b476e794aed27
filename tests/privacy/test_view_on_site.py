"""Item 3: the workbench's "view on site" redirect (/admin/r/<type>/<id>/) names a public page
only for what the person may open in the workbench, and never for a hidden issue."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType

import config.urls  # noqa: F401  (registers every admin)
from tests.privacy.conftest import ROLES, client_as

# Every test here only reads (GETs): one world for the module (tests/privacy/conftest.py).
pytestmark = pytest.mark.usefixtures("module_world")


def shortcut_url(obj) -> str:
    return f"/admin/r/{ContentType.objects.get_for_model(obj).pk}/{obj.pk}/"


# Who may follow the link to each issue's public page.
EXPECTED = {
    "issue_a": {"staff_a", "alderman", "admin"},  # department A, ward 42
    "issue_b": {"staff_b", "admin"},  # department B, ward 2
    "hidden_issue": set(),  # no public page, whoever asks
}


@pytest.mark.parametrize("role", ROLES)
def test_view_on_site_reveals_only_what_the_person_may_open(client, world, role):
    client_as(client, world, role)
    for name, allowed in EXPECTED.items():
        issue = getattr(world, name)
        response = client.get(shortcut_url(issue))
        if role in ("anonymous", "resident"):
            assert response.status_code == 302
            assert response["Location"].startswith("/admin/login/")
            assert issue.public_id not in response["Location"].split("?next=")[0]
        elif role in allowed:
            assert response.status_code == 302, name
            assert response["Location"] == issue.get_absolute_url()
        else:
            assert response.status_code == 404, (name, role)
        assert issue.public_id not in response.content.decode()


@pytest.mark.parametrize("role", ["staff_a", "staff_b", "alderman", "admin"])
def test_view_on_site_of_every_registered_model_is_never_a_leak(client, world, role):
    """Generated from the admin registry: any row of any model, for each workbench role."""
    client_as(client, world, role)
    for model in admin.site._registry:
        for obj in model._default_manager.order_by("pk")[:3]:
            response = client.get(shortcut_url(obj))
            assert response.status_code in (302, 404), (model._meta.label, response.status_code)
            location = response.get("Location", "")
            for secret in world.forbidden_for(role):
                assert secret.text not in location, (model._meta.label, secret.what)
                assert secret.text not in response.content.decode()


def test_view_on_site_of_nothing_is_a_404(client, world):
    client_as(client, world, "admin")
    stale = ContentType.objects.create(app_label="gone", model="vanished")
    unregistered = ContentType.objects.get_for_model(ContentType)
    for url in (
        "/admin/r/999999/1/",
        f"/admin/r/{stale.pk}/1/",
        f"/admin/r/{unregistered.pk}/{stale.pk}/",
        f"/admin/r/{ContentType.objects.get_for_model(world.issue_a).pk}/999999/",
        f"/admin/r/{ContentType.objects.get_for_model(world.issue_a).pk}/not-a-number/",
    ):
        assert client.get(url).status_code == 404, url
