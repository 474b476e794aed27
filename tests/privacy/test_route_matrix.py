"""Every route x every role, generated from the URL conf and the admin registry: no route is
listed by hand, so a new one joins on its own (and a new kind of URL parameter fails here until
it gets a sample below).

For each role (anonymous, resident, staff of A, staff of B, alderman, admin) and each URL:
- never a server error;
- the staff area sends anonymous visitors and residents to its sign-in page;
- a URL naming something the role may not see (a hidden issue's id, a hidden photo's file) is
  never a 2xx;
- no planted secret the role may not read (reporters' emails, phones and the names of anonymous
  reporters, internal notes, hidden comments, hidden issues and photos, a follower's email, an API
  key's secret) appears in the body or a header, unless the role typed it into the URL itself.
Only GETs: what a POST may do is each feature's own tests' business."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

import pytest
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.urls import URLResolver, get_resolver

import config.urls  # noqa: F401  (registers every admin)
from accounts.models import User
from departments.models import Asset, AssetLayer, Ward
from departments.selectors import OUTLINE_DETAILS, ward_outlines
from issues.models import Adopter, Adoption, Issue
from issues.notify.links import not_fixed_url
from tests.privacy.conftest import ROLES, World, client_as

PARAMETER = re.compile(r"<(?:\w+:)?(?P<name>\w+)>|\(\?P<(?P<rname>\w+)>[^)]*\)")

# Every test here only reads (GETs): one world for the module (tests/privacy/conftest.py).
pytestmark = pytest.mark.usefixtures("module_world")


def all_routes() -> list[str]:
    def walk(resolver, prefix: str):
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                yield from walk(entry, prefix + str(entry.pattern))
            else:
                yield prefix + str(entry.pattern)

    return list(dict.fromkeys(walk(get_resolver(), "")))


ADMIN_MODELS = {
    f"admin/{model._meta.app_label}/{model._meta.model_name}/": model
    for model in admin.site._registry
}


def admin_model(route: str):
    for prefix, model in ADMIN_MODELS.items():
        if route.startswith(prefix):
            return model
    return None


def samples(world: World, route: str, name: str) -> list[str]:
    """Values for one URL parameter, from the fixtures: each public id both visible and hidden."""
    issue_ids = [world.issue_a.public_id, world.issue_b.public_id, world.hidden_issue.public_id]
    if name == "object_id":
        model = admin_model(route) or Issue
        if model is Issue:
            return [str(i.pk) for i in (world.issue_a, world.issue_b, world.hidden_issue)]
        first = model._default_manager.order_by("pk").first()
        return [str(first.pk) if first else "1"]
    if name == "id" and route.startswith("admin/accounts/user/"):
        return [str(User.objects.order_by("pk").first().pk)]
    if name == "content_type_id":
        return [str(ContentType.objects.get_for_model(Issue).pk)]
    if name == "public_id":
        if route.startswith("adopters/"):
            return [Adopter.objects.first().public_id]
        return issue_ids
    if name == "token" and route.startswith("not-fixed/"):
        # The closing email's link, genuine, for a closed public issue and a hidden one.
        links = [
            not_fixed_url(i, i.contact_email or "x@example.org")
            for i in (world.issue_b, world.hidden_issue)
        ]
        return ["not-a-token", *(link.rstrip("/").rsplit("/", 1)[1] for link in links)]
    if name == "path":
        photos = (world.public_photo, world.hidden_photo, world.photo_of_hidden_issue)
        return [p.image.name for p in photos] + [world.hidden_photo.thumbnail.name]
    fixed = {
        "service_request_id": issue_ids,
        "fmt": ["json", "xml"],
        "service_code": ["pothole"],
        "slug": [Ward.objects.get(number=42).slug],
        "ward": ["42", "2"],
        "layer": [AssetLayer.objects.first().slug],
        "source_id": [Asset.objects.first().source_id],
        "pk": [str(Adoption.objects.first().pk)],
        "token": ["not-a-token"],
        "uidb64": ["MQ"],
        "answer": ["yes"],
        "what": ["status"],
        "app_label": sorted({m._meta.app_label for m in admin.site._registry}),
        "rest": ["v2/nothing.json"],
        "url": ["nothing/"],
        "code": ["pothole", "private-type", "held-type", "nothing"],
        "version": [ward_outlines(*next(iter(OUTLINE_DETAILS.values())))[0], "stale"],
        "detail": [*OUTLINE_DETAILS, "nothing"],
        # A built download's name that no build wrote: the downloads set's route must 404 it.
        "name": [f"csv-{'0' * 24}-all.csv.gz"],
    }
    if name not in fixed:
        pytest.fail(f"no sample for the URL parameter {name!r} of {route!r}: add one to samples()")
    return fixed[name]


# Query strings a route reads besides its path parameters, tried too: the home page's map view
# and the box its list follows (a box around the whole city, so hidden issues lie inside it).
QUERY_SAMPLES = {
    "": [
        "?bbox=-88.0,41.6,-87.5,42.1&fragment=list",
        "?bbox=-88.0,41.6,-87.5,42.1&lat=41.88&lon=-87.63&zoom=14&status=open",
    ],
    # After a vote without JavaScript the page offers to follow (issues/views/issue.py).
    "issues/<str:public_id>/": ["?voted=1"],
}


def urls_of(world: World, route: str) -> list[str]:
    names = [m.group("name") or m.group("rname") for m in PARAMETER.finditer(route)]
    choices = [samples(world, route, name) for name in names]
    urls = []
    for combo in itertools.product(*choices):
        values = iter(combo)
        url = PARAMETER.sub(lambda _m: next(values), route)  # noqa: B023  (consumed at once)
        urls.append("/" + url.replace("^", "").replace("$", "").replace("\\", ""))
    urls += [urls[0] + query for query in QUERY_SAMPLES.get(route, [])]
    return list(dict.fromkeys(urls))


@dataclass
class Finding:
    role: str
    url: str
    problem: str

    def __str__(self) -> str:
        return f"{self.role:9} GET {self.url}: {self.problem}"


ADMIN_OPEN = {"/admin/login/", "/admin/logout/"}


def check(world: World, role: str, url: str, response) -> list[str]:
    problems = []
    status = response.status_code
    if status >= 500:
        problems.append(f"server error {status}")
    outsider = role in ("anonymous", "resident") and url.startswith("/admin/")
    signs_in = status == 302 and response.get("Location", "").startswith("/admin/login/")
    if outsider and url not in ADMIN_OPEN and not signs_in:
        problems.append(f"staff area answered {status}, not the sign-in page")
    body = b"".join(response) if response.streaming else response.content
    text = body.decode("utf-8", "replace")
    headers = " ".join(f"{k}: {v}" for k, v in response.items())
    for secret in world.forbidden_for(role):
        if secret.text in url:
            if 200 <= status < 300:
                problems.append(f"{status} for a URL naming {secret.what}")
            continue
        if secret.text in text or secret.text in headers:
            problems.append(f"shows {secret.what}")
    return problems


@pytest.mark.slow
@pytest.mark.parametrize("role", ROLES)
def test_every_route_for_every_role(client, world, role):
    routes = all_routes()
    assert len(routes) > 150  # the walk found the site, not an empty resolver
    client_as(client, world, role)
    findings, seen = [], {}
    for route in routes:
        for url in urls_of(world, route):
            response = client.get(url)
            seen[response.status_code] = seen.get(response.status_code, 0) + 1
            findings += [Finding(role, url, p) for p in check(world, role, url, response)]
            if role != "anonymous" and "/logout/" in url:
                client_as(client, world, role)  # a GET never signs out, but be sure
    print(role, "statuses:", dict(sorted(seen.items())))
    assert not findings, "\n" + "\n".join(map(str, findings))
