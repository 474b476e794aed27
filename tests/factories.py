"""Model factories and the fixtures built from them. Plain functions: no factory library needed.

Wards: `chicago_wards` loads the real 50 Chicago wards (simplified) once per test; `ward1_point`
and friends are points known to lie in specific wards.
"""

from __future__ import annotations

import itertools

import pytest

from accounts.models import User
from departments.demo import WARDS_FILE, DemoReport, load_wards
from departments.models import Asset, AssetLayer, Department, ServiceAttribute, ServiceType, Ward

_seq = itertools.count(1)

# Points checked against the City of Chicago's 2023 ward map.
CITY_HALL = (41.88365, -87.63201)  # 121 N LaSalle St: ward 42
LOOP_POINT = CITY_HALL
OUTSIDE_CITY = (41.5, -88.5)  # farmland west of Joliet
LAKE_MICHIGAN = (41.9, -87.5)  # in the lake, outside every ward


def square_boundary(lat: float, lon: float, half: float = 0.01) -> dict:
    """A small square ward around a point: for tests that need "in the ward" and "not in it"
    without loading the real 50-ward map."""
    ring = [
        [lon - half, lat - half],
        [lon + half, lat - half],
        [lon + half, lat + half],
        [lon - half, lat + half],
        [lon - half, lat - half],
    ]
    return {"type": "MultiPolygon", "coordinates": [[ring]]}


def make_user(email: str | None = None, password: str = "correct-horse-battery", **extra) -> User:
    email = email or f"user{next(_seq)}@example.org"
    return User.objects.create_user(email=email, password=password, **extra)


def make_department(name: str | None = None, **extra) -> Department:
    n = next(_seq)
    name = name or f"Department {n}"
    extra.setdefault("contact_email", f"dept{n}@city.example")
    return Department.objects.create(name=name, slug=f"dept-{n}", **extra)


def make_service_type(
    department: Department | None = None, code: str | None = None, **extra
) -> ServiceType:
    n = next(_seq)
    department = department or make_department()
    extra.setdefault("name", f"Service {n}")
    extra.setdefault("group", "Streets")
    extra.setdefault("sla_hours", 72)
    return ServiceType.objects.create(
        service_code=code or f"svc-{n}", department=department, **extra
    )


def make_attribute(
    service_type: ServiceType, code: str, datatype: str = "string", **extra
) -> ServiceAttribute:
    extra.setdefault("order", service_type.attributes.count() + 1)
    extra.setdefault("description", f"Question {code}")
    return ServiceAttribute.objects.create(
        service_type=service_type, code=code, datatype=datatype, **extra
    )


def make_staff(department: Department, **extra) -> User:
    user = make_user(is_staff=True, **extra)
    department.staff.add(user)
    return user


def make_issue(service_type: ServiceType | None = None, point=CITY_HALL, **extra):
    """An issue through the real service, so routing and history are as in production."""
    from issues import services

    service_type = service_type or make_service_type()
    extra.setdefault("require_ward", False)
    return services.create_issue(
        service_type=service_type,
        latitude=point[0] if point else None,
        longitude=point[1] if point else None,
        address=extra.pop("address", "121 N LaSalle St"),
        description=extra.pop("description", "A deep pothole"),
        **extra,
    )


def rendered(rows) -> list:
    """Outbox rows as the worker will send them: an event's rows are intents until the worker
    renders them (issues/notify/rendering.py), so tests that read an email's text before
    delivery render it here (nothing saved)."""
    from issues.notify.rendering import render_intent

    rows = list(rows)
    for row in rows:
        render_intent(row)
    return rows


def make_layer(name: str | None = None, **extra) -> AssetLayer:
    n = next(_seq)
    extra.setdefault("asset_label", "street light")
    extra.setdefault("asset_label_plural", "street lights")
    return AssetLayer.objects.create(name=name or f"Layer {n}", slug=f"layer-{n}", **extra)


def make_asset(layer: AssetLayer, source_id: str, point=CITY_HALL, **extra) -> Asset:
    """An asset, in the ward its point is in (as the importer places them)."""
    extra.setdefault("name", f"Pole {source_id}")
    if "ward" not in extra:
        extra["ward"] = Ward.objects.containing(*point)
    return Asset.objects.create(
        layer=layer, source_id=source_id, latitude=point[0], longitude=point[1], **extra
    )


def assets_along(layer: AssetLayer, count: int, start=CITY_HALL, step: float = 0.0003):
    """`count` assets in a line going north from `start`, about 33 m apart, ids "1", "2"..."""
    return [
        make_asset(layer, str(i + 1), point=(start[0] + i * step, start[1])) for i in range(count)
    ]


@pytest.fixture
def chicago_wards(db) -> list[Ward]:
    load_wards(DemoReport(), WARDS_FILE)
    return list(Ward.objects.order_by("number"))


@pytest.fixture
def department(db) -> Department:
    return make_department("Streets and Sanitation")


@pytest.fixture
def service_type(department) -> ServiceType:
    return make_service_type(department, code="pothole", name="Pothole in Street")


@pytest.fixture
def staff_user(department) -> User:
    return make_staff(department, email="staff@city.example")


@pytest.fixture
def resident(db) -> User:
    return make_user("resident@example.org", display_name="Rosa")


@pytest.fixture
def admin_user(db) -> User:
    return User.objects.create_superuser(
        email="admin@city.example", password="correct-horse-battery"
    )


@pytest.fixture
def shelters(db):
    """A bus-shelter layer residents adopt (two adopters each, clean it monthly) and the
    "Dirty Bus Shelter" type reported against it, in a ward 42 around City Hall."""
    Ward.objects.get_or_create(
        number=42, defaults={"name": "Ward 42", "boundary": square_boundary(*CITY_HALL, 0.05)}
    )
    layer = make_layer(
        "Bus shelters",
        asset_label="bus shelter",
        asset_label_plural="bus shelters",
        adoptable=True,
        max_adopters=2,
        care_task="Clean the shelter and pick up litter",
        care_every_days=30,
    )
    transit = make_department("Transit")
    dirty = make_service_type(transit, code="dirty-bus-shelter", name="Dirty Bus Shelter")
    dirty.asset_layer = layer
    dirty.save()
    return layer


@pytest.fixture
def shelter(shelters):
    return make_asset(shelters, "1412", name="Clark & Randolph", kind="shelter")


@pytest.fixture
def transit_staff(shelters):
    return make_staff(Department.objects.get(name="Transit"), email="transit@city.example")


@pytest.fixture
def neighbour(db):
    return make_user("neighbour@example.org", display_name="Nadia", email_verified=True)


@pytest.fixture
def other_neighbour(db):
    return make_user("another@example.org", display_name="Omar", email_verified=True)
