"""Every page the admin registry makes, for every admin: generated from `admin.site._registry`,
so an admin added later is checked without anyone listing it here."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.db import models

import config.urls  # noqa: F401  (registers every admin, as serving does)
from accounts.adminbase import OfferedFiltersOnly, offered_filter_lookup
from tests.privacy.conftest import ROLES, client_as

# Every test here only reads (GETs): one world for the module (tests/privacy/conftest.py).
pytestmark = pytest.mark.usefixtures("module_world")

REGISTRY = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)
ADMIN_IDS = [model._meta.label for model, _ in REGISTRY]


def admin_url(model, view: str = "changelist", *args) -> str:
    opts = model._meta
    from django.urls import reverse

    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)


def test_every_admin_filters_only_through_what_it_offers():
    missing = [
        label
        for label, (_m, a) in zip(ADMIN_IDS, REGISTRY, strict=True)
        if not isinstance(a, OfferedFiltersOnly)
    ]
    assert missing == []


@pytest.mark.parametrize(("model", "model_admin"), REGISTRY, ids=ADMIN_IDS)
def test_admin_pages_are_never_a_server_error(client, world, model, model_admin):
    """Item 13: the list, the add page and the page of a row, for an admin; a record's page
    was a 500 while the issue admin's ordering named a column only its list has."""
    client_as(client, world, "admin")
    assert client.get(admin_url(model)).status_code == 200
    assert client.get(admin_url(model, "add")).status_code in (200, 403)
    obj = model._default_manager.order_by("pk").first()
    assert obj is not None, f"the world has no {model._meta.label} to open"
    for view in ("change", "history", "delete"):
        response = client.get(admin_url(model, view, obj.pk))
        assert response.status_code in (200, 403), (view, response.status_code)


def probes(model) -> list[tuple[str, str]]:
    """A lookup on every column of the model, and on every text column one relation away:
    the shapes of `?reporter_email__startswith=q` and `?issue__reporter_email__startswith=q`."""
    found = []
    for field in model._meta.concrete_fields:
        found.append((f"{field.name}__startswith" if _texty(field) else field.name, "1"))
        if field.is_relation:
            for remote in field.related_model._meta.concrete_fields:
                if _texty(remote):
                    found.append((f"{field.name}__{remote.name}__startswith", "q"))
    return found


def _texty(field) -> bool:
    return isinstance(field, models.CharField | models.TextField) and not field.choices


@pytest.mark.parametrize(("model", "model_admin"), REGISTRY, ids=ADMIN_IDS)
def test_lists_refuse_every_filter_they_do_not_offer(client, world, model, model_admin):
    """Item 1: no list, for no role, filters by a column its sidebar does not offer. A role that
    may read the list gets a 400 naming the parameter; the rows' count never moves with it."""
    for role in ROLES:
        client.logout()
        client_as(client, world, role)
        refuses_unoffered_filters(client, world, role, model, model_admin)


def refuses_unoffered_filters(client, world, role, model, model_admin) -> None:
    url = admin_url(model)
    plain = client.get(url)
    assert plain.status_code < 500
    request = plain.wsgi_request
    for lookup, value in probes(model):
        if offered_filter_lookup(model_admin, request, lookup):
            continue
        response = client.get(url, {lookup: value})
        if plain.status_code == 200:
            assert response.status_code == 400, (lookup, response.status_code)
            body = response.content.decode()
            assert lookup in body
            assert "cl" not in (response.context or {}) or response.context.get("cl") is None
        else:
            # Not theirs to read: the same answer as without the filter.
            assert response.status_code == plain.status_code, lookup
        body = response.content.decode()
        for secret in world.forbidden_for(role):
            assert secret.text not in body, (lookup, secret.what)


@pytest.mark.parametrize("role", ["staff_a", "alderman", "admin"])
def test_the_attack_from_the_report_is_refused(client, world, role):
    client_as(client, world, role)
    response = client.get("/admin/issues/issue/", {"reporter_email__startswith": "q"})
    assert response.status_code == 400
    assert "reporter_email__startswith" in response.content.decode()


@pytest.mark.parametrize(("model", "model_admin"), REGISTRY, ids=ADMIN_IDS)
def test_every_offered_filter_still_works(client, world, model, model_admin):
    """The other side: every choice in every list's sidebar opens the list (a 200, not a 400)."""
    client_as(client, world, "admin")
    response = client.get(admin_url(model))
    changelist = response.context["cl"]
    for spec in changelist.filter_specs:
        for choice in spec.choices(changelist):
            followed = client.get(admin_url(model) + choice["query_string"])
            assert followed.status_code == 200, (spec.title, choice["query_string"])


@pytest.mark.parametrize("role", ["staff_a", "staff_b", "alderman"])
def test_queue_filters_work_for_each_role(client, world, role):
    client_as(client, world, role)
    response = client.get("/admin/issues/issue/")
    changelist = response.context["cl"]
    for spec in changelist.filter_specs:
        for choice in spec.choices(changelist):
            followed = client.get("/admin/issues/issue/" + choice["query_string"])
            assert followed.status_code == 200, (spec.title, choice["query_string"])


def test_links_the_site_writes_to_lists_still_open(client, world):
    """The link issues/upstream/alerts.py writes into its email, and a bare exact match on an
    offered column."""
    client_as(client, world, "admin")
    endpoint = world.issue_a.upstream_sends.first().endpoint
    for url in (
        f"/admin/issues/upstreamsend/?endpoint__id__exact={endpoint.pk}&state__exact=pending",
        "/admin/issues/notification/?state=failed",
        "/admin/issues/comment/?is_internal__exact=1",
    ):
        assert client.get(url).status_code == 200, url
