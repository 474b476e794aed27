"""A small city with a secret in every place a secret can be, and one person of each role.

Departments A (Streets) and B (Water); wards 42 and 2. Each planted string is unique, so a page
that shows it is found by a plain substring search, and `Secret.readers` says which roles may
read it. The role x route matrix (test_route_matrix.py) and the lookup tests use it."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from accounts.models import ApiKey, User
from accounts.services import issue_api_key
from departments import services as department_services
from departments.models import (
    IntegrationKey,
    ResponseTemplate,
    RoutingRule,
    ServiceTypeUpstream,
    Team,
    UpstreamEndpoint,
    Ward,
)
from issues import services
from issues.models import (
    AbuseReason,
    BulkJob,
    CityUpdate,
    EmailOptOut,
    HotspotAlert,
    Issue,
    Photo,
    SiteBanner,
    UpstreamSend,
)
from issues.notify.subscriptions import follow_issue
from issues.photos import prepare_photo, store_photo
from issues.services import moderation
from tests.factories import (
    CITY_HALL,
    make_asset,
    make_department,
    make_issue,
    make_layer,
    make_service_type,
    make_user,
)
from tests.module_rows import rows_for_the_module

ROLES = ("anonymous", "resident", "staff_a", "staff_b", "alderman", "admin")
WARD_42_POINT = CITY_HALL
WARD_2_POINT = (41.91, -87.63)


def square(south: float, west: float, north: float, east: float) -> dict:
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


@dataclass(frozen=True)
class Secret:
    text: str
    what: str
    readers: frozenset[str]  # the roles that may read it somewhere


@dataclass
class World:
    users: dict[str, User | None]
    issue_a: Issue  # department A, ward 42, an anonymous reporter's
    issue_b: Issue  # department B, ward 2
    hidden_issue: Issue  # department B, ward 2, hidden by moderation
    hidden_photo: Photo  # on issue_a, hidden by moderation
    photo_of_hidden_issue: Photo
    public_photo: Photo  # on issue_a
    api_key: ApiKey
    secrets: list[Secret] = field(default_factory=list)
    media_root: Path | None = None  # set where one world serves a module (module_world)

    def forbidden_for(self, role: str) -> list[Secret]:
        return [s for s in self.secrets if role not in s.readers]


def jpeg_upload(name: str = "p.jpg") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 40, 40)).save(buffer, "JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


WORKERS_A = frozenset({"staff_a", "admin"})
WORKERS_B = frozenset({"staff_b", "admin"})
BANNED_EMAIL = "banned.secret@example.net"


@pytest.fixture
def world(request, db, settings) -> World:
    """A fresh world per test; a module whose tests only read it asks for `module_world` too
    (`pytestmark = pytest.mark.usefixtures("module_world")`) and gets that one, with MEDIA_ROOT
    where its photos' files are."""
    if "module_world" in request.fixturenames:
        shared = request.getfixturevalue("module_world")
        settings.MEDIA_ROOT = shared.media_root
        return shared
    return build_world()


@pytest.fixture(scope="module")
def module_world(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[World]:
    """One world for a whole module whose tests only read it (GETs): building it costs about a
    second, and test_admin_registry.py has a hundred tests. Module-scoped, so it is built before
    any test's `db` savepoint opens (tests/module_rows.py)."""
    media = tmp_path_factory.mktemp("world-media")
    with rows_for_the_module(django_db_blocker, media, build_world) as built:
        built.media_root = media
        yield built


def build_world() -> World:
    ward42 = Ward.objects.create(
        number=42, name="Ward 42", boundary=square(41.87, -87.65, 41.895, -87.61)
    )
    ward2 = Ward.objects.create(
        number=2, name="Ward 2", boundary=square(41.90, -87.65, 41.92, -87.61)
    )
    streets = make_department("Streets and Sanitation", contact_email="dss@city.example")
    water = make_department("Water Management", contact_email="water@city.example")
    pothole = make_service_type(streets, code="pothole", name="Pothole in Street")
    leak = make_service_type(water, code="leak", name="Water on Street")

    staff_a = make_user("sam@city.example", display_name="Sam Streets")
    department_services.add_staff(department=streets, user=staff_a)
    staff_b = make_user("wanda@city.example", display_name="Wanda Water")
    department_services.add_staff(department=water, user=staff_b)
    alderman = make_user("alder42@city.example", display_name="Alderman 42")
    department_services.set_aldermen(ward=ward42, users=[alderman])
    admin = User.objects.create_superuser(email="boss@city.example", password="x-boss-pass-1")
    resident = make_user("rosa@example.org", display_name="Rosa Resident")

    issue_a = make_issue(
        pothole,
        point=WARD_42_POINT,
        description="Pothole by City Hall",
        reporter_name="Quentin Quietname",
        reporter_email="quentin.secret@example.net",
        reporter_phone="312-555-0199",
        hide_reporter_name=True,
    )
    issue_b = make_issue(
        leak,
        point=WARD_2_POINT,
        description="Water bubbling up",
        reporter_email="bea.secret@example.net",
        reporter_phone="312-555-0277",
    )
    hidden_issue = make_issue(
        leak, point=WARD_2_POINT, description="Hiddenissue Zebracrossing text"
    )
    services.set_hidden(target=hidden_issue, hidden=True, by=staff_b, reason="Abusive words")
    services.add_comment(issue=issue_a, author=staff_a, body="Internalnote Okapi", internal=True)
    # Written by someone who is none of the roles: the resident's own data download rightly
    # holds what the resident wrote, hidden or not.
    hidden_comment = services.add_comment(
        issue=issue_a, author=make_user("hector@example.org"), body="Hiddencomment Tapir"
    )
    services.set_hidden(target=hidden_comment, hidden=True, by=staff_a, reason="Rude")
    services.add_comment(issue=issue_a, author=resident, body="Public comment, a kind one")
    services.add_vote(issue=issue_a, user=resident)
    follow_issue(issue=issue_a, email="follower.secret@example.net")
    services.change_status(issue=issue_a, to="acknowledged", by=staff_a, message="On our list")
    # Issue 17: a resident's "still there" with a photo, hidden by a moderator; then closed
    # with an official message and an after photo, so issue_b's page and its "Not fixed?" link
    # show a closing (and never the staffer's name).
    update = services.add_resident_update(
        issue=issue_b,
        author=make_user("ulla@example.org"),
        kind="still_there",
        body="Still bubbling",
        photos=[prepare_photo(jpeg_upload())],
    )
    hidden_update_photo = update.photos.get()
    services.set_hidden(target=hidden_update_photo, hidden=True, by=staff_b, reason="A face")
    services.change_status(
        issue=issue_b,
        to="closed",
        by=staff_b,
        resolution="fixed",
        message="Valve replaced",
        photos=[prepare_photo(jpeg_upload())],
    )

    public_photo = store_photo(issue=issue_a, prepared=prepare_photo(jpeg_upload()))
    hidden_photo = store_photo(issue=issue_a, prepared=prepare_photo(jpeg_upload()))
    services.set_hidden(target=hidden_photo, hidden=True, by=staff_a, reason="A face")
    photo_of_hidden_issue = store_photo(issue=hidden_issue, prepared=prepare_photo(jpeg_upload()))

    # Issue 20: a private type's report and a held type's, never public until released.
    for code, text in (("private", "Privatetype Narwhal"), ("held", "Heldtype Axolotl")):
        make_issue(
            make_service_type(streets, code=f"{code}-type", publication=code),
            point=WARD_42_POINT,
            description=text,
        )
    api_key, raw_key = issue_api_key(owner=admin, name="Partner app")
    _catalogue_and_outboxes(world_parts=locals())

    readers_of_hidden_a = frozenset({"staff_a", "alderman", "admin"})
    secrets = [
        Secret("quentin.secret@example.net", "anonymous reporter's email", WORKERS_A),
        Secret("312-555-0199", "anonymous reporter's phone", WORKERS_A),
        Secret("Quentin Quietname", "anonymous reporter's name", WORKERS_A),
        Secret("bea.secret@example.net", "reporter's email", WORKERS_B),
        Secret("312-555-0277", "reporter's phone", WORKERS_B),
        Secret("Internalnote Okapi", "internal note", WORKERS_A),
        Secret("Hiddencomment Tapir", "hidden comment", readers_of_hidden_a),
        Secret("Hiddenissue Zebracrossing", "hidden issue's description", WORKERS_B),
        Secret("follower.secret@example.net", "a follower's email", frozenset({"admin"})),
        Secret(hidden_issue.public_id, "hidden issue's id", WORKERS_B),
        Secret(hidden_photo.image.name, "hidden photo's file", readers_of_hidden_a),
        Secret(hidden_photo.thumbnail.name, "hidden photo's thumbnail", readers_of_hidden_a),
        Secret(photo_of_hidden_issue.image.name, "hidden issue's photo", WORKERS_B),
        Secret(raw_key, "an API key's secret", frozenset()),
        Secret(hidden_update_photo.image.name, "a hidden update photo", WORKERS_B),
        Secret(hidden_update_photo.thumbnail.name, "a hidden update thumbnail", WORKERS_B),
        Secret(
            "Wanda Water",
            "a staffer's name",
            frozenset({"staff_a", "staff_b", "alderman", "admin"}),
        ),
        Secret("Privatetype Narwhal", "a private type's report", readers_of_hidden_a),
        Secret("Heldtype Axolotl", "a held type's report", readers_of_hidden_a),
        Secret("Teamname Pangolin", "a department's team", WORKERS_A),
        Secret("Routingrule Quokka", "a department's routing rule", WORKERS_A),
        Secret(
            BANNED_EMAIL, "a banned sender's address", frozenset({"staff_a", "staff_b", "admin"})
        ),
    ]
    return World(
        users={
            "anonymous": None,
            "resident": resident,
            "staff_a": staff_a,
            "staff_b": staff_b,
            "alderman": alderman,
            "admin": admin,
        },
        issue_a=issue_a,
        issue_b=issue_b,
        hidden_issue=hidden_issue,
        hidden_photo=hidden_photo,
        photo_of_hidden_issue=photo_of_hidden_issue,
        public_photo=public_photo,
        api_key=api_key,
        secrets=secrets,
    )


def _catalogue_and_outboxes(world_parts: dict) -> None:
    """One row for every other model the workbench lists, so each admin's pages have a row."""
    now = timezone.now()
    streets, pothole, issue_a, admin, resident = (
        world_parts[k] for k in ("streets", "pothole", "issue_a", "admin", "resident")
    )
    Group.objects.create(name="Dispatchers")
    ResponseTemplate.objects.create(department=streets, title="Filled", body="Filled it.")
    # Issue 16: a department's routing is its own (made after the issues, so it routes none).
    team = Team.objects.create(department=streets, name="Teamname Pangolin")
    team.members.add(world_parts["staff_a"])
    RoutingRule.objects.create(department=streets, name="Routingrule Quokka", team=team)
    EmailOptOut.objects.create(email="optout.secret@example.net")
    endpoint = UpstreamEndpoint.objects.create(
        name="City 311", base_url="https://311.city.example/"
    )
    ServiceTypeUpstream.objects.create(service_type=pothole, endpoint=endpoint, service_code="PH")
    key, _raw = issue_api_key(owner=admin, name="City integration")
    IntegrationKey.objects.create(api_key=key, department=streets)
    UpstreamSend.objects.create(issue=issue_a, endpoint=endpoint, kind="report", dedupe_key="r1")
    CityUpdate.objects.create(issue=issue_a, update_key="u1", channel="poll")
    HotspotAlert.objects.create(
        service_type=pothole,
        latitude=CITY_HALL[0],
        longitude=CITY_HALL[1],
        radius_m=150,
        report_count=3,
        window_start=now,
        window_end=now,
        key="h1",
    )
    # A background bulk job of staff A's: its page is A's and the admin's alone.
    BulkJob.objects.create(
        created_by=world_parts["staff_a"],
        action="acknowledge",
        issue_ids=[issue_a.pk],
        state="done",
    )
    layer = make_layer("Street lights", adoptable=True)
    asset = make_asset(layer, "SL-1", point=WARD_42_POINT)
    services.adopt_asset(asset=asset, user=resident)
    # Moderation's own lists (issue 20): a banner, a ban, an abuse report and the action log.
    SiteBanner.objects.create(message="Storm: expect delays", created_by=admin)
    moderation.ban_sender(by=admin, reason="spam", email=BANNED_EMAIL, issue=issue_a)
    moderation.report_abuse(issue=issue_a, reason=AbuseReason.values[0], sent_by=resident)


def client_as(client, world: World, role: str):
    user = world.users[role]
    if user is not None:
        client.force_login(user)
    return client
