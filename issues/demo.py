"""Demo data: the demo city (departments/demo.py: wards, catalogue, accounts) and a few hundred
issues with histories, spread over the wards. Running it again changes nothing: every row is found
by a natural key (ward number, slug, service code, email, the demo issue's number) before it is
created.
"""

from __future__ import annotations

import random
from datetime import timedelta

import shapely
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from departments.demo import SERVICE_TYPES, DemoReport, load_assets, load_city, load_places
from departments.models import AssetLayer, Department, ServiceType, Ward
from departments.places.search import reverse as name_of_point
from departments.selectors import nearest_assets
from departments.wards import shape_from_geojson
from issues import services
from issues.models import Adoption, Issue, Source, Status, VisitOutcome
from issues.notify.events import suppressed

DEMO_SOURCE = "demo"
DEMO_ISSUES = 400

STREETS = [
    "W Division St",
    "N Milwaukee Ave",
    "S Halsted St",
    "W Chicago Ave",
    "N Clark St",
    "S Ashland Ave",
    "W Belmont Ave",
    "N Western Ave",
    "S Pulaski Rd",
    "W 63rd St",
    "E 79th St",
    "N Broadway",
    "W Irving Park Rd",
    "S Cottage Grove Ave",
    "W Fullerton Ave",
    "N Damen Ave",
    "S Kedzie Ave",
    "W Roosevelt Rd",
    "E 47th St",
    "N Lincoln Ave",
]

DESCRIPTIONS = {
    "pothole": [
        "Deep pothole, cars swerving around it.",
        "Pothole by the bus stop, filled with water.",
    ],
    "graffiti": ["Tags on the garage door facing the alley.", "Spray paint on the viaduct wall."],
    "street-light-out": [
        "Three lights out in a row, very dark at night.",
        "Light flickers all night.",
    ],
    "abandoned-vehicle": ["Grey sedan, flat tyres, not moved for weeks.", "Van with no plates."],
    "rodent-baiting": [
        "Rats running in the alley behind the restaurant.",
        "Burrows along the fence.",
    ],
    "found-syringe": [
        "Needle on the sidewalk next to the playground.",
        "Two syringes by the bench.",
    ],
    "water-on-street": ["Water bubbling up through a crack in the street.", "Viaduct flooded."],
    "water-meter-stolen": ["Meter gone, cover lying open on the parkway.", "Meter cover missing."],
    "tree-debris": ["Large branch down after the storm.", "Limb hanging over the sidewalk."],
    "fallen-tree-greenway": [
        "Tree across the trail, bikes can't pass.",
        "Fallen tree blocks the path.",
    ],
    "dirty-bus-shelter": ["Broken glass all over the shelter.", "Shelter full of litter."],
    "sanitation-code": ["Overflowing garbage carts for a week.", "Mattresses dumped in the alley."],
}

ANSWERS = {
    "pothole": {"SIZE": ["medium"], "WHERE": ["lane"]},
    "graffiti": {"SURFACE": ["brick"], "OFFENSIVE": ["no"]},
    "street-light-out": {"PROBLEM": ["out"]},
    "found-syringe": {"COUNT": ["1"]},
    "tree-debris": {"BLOCKING": ["no"]},
}


def _point_in(rng: random.Random, geom) -> tuple[float, float]:
    min_lon, min_lat, max_lon, max_lat = geom.bounds
    while True:
        lon, lat = rng.uniform(min_lon, max_lon), rng.uniform(min_lat, max_lat)
        if geom.contains(shapely.Point(lon, lat)):
            return round(lat, 6), round(lon, 6)


def _address_near(rng: random.Random, lat: float, lon: float) -> str:
    """The gazetteer's name for the point ("near N Ashland Ave & W Addison St"), so the demo
    reads like Chicago; a made-up one where no place is near."""
    found = name_of_point(lat, lon)
    return found.name if found else f"{rng.randrange(100, 9000)} {rng.choice(STREETS)}"


def load_issues(report: DemoReport, users: dict[str, User], count: int = DEMO_ISSUES) -> None:
    existing = set(
        Issue.objects.filter(external_source=DEMO_SOURCE).values_list("external_id", flat=True)
    )
    wards = list(Ward.objects.order_by("number"))
    geoms = {w.pk: shape_from_geojson(w.boundary) for w in wards}
    types = {t.service_code: t for t in ServiceType.objects.all()}
    codes = [t["code"] for t in SERVICE_TYPES]
    weights = [30, 14, 14, 8, 8, 3, 6, 2, 8, 2, 3, 8]
    now = timezone.now()
    staff_by_department = {
        d.pk: d.staff.first() or users["admin"] for d in Department.objects.all()
    }
    for n in range(count):
        key = str(n)
        if key in existing:
            continue
        rng = random.Random(f"civicfix-demo-{n}")
        # Wards 1-10 get more reports so dashboards and hotspots have something to show.
        ward = wards[rng.randrange(10)] if rng.random() < 0.35 else rng.choice(wards)
        lat, lon = _point_in(rng, geoms[ward.pk])
        code = rng.choices(codes, weights=weights)[0]
        service_type = types[code]
        age = timedelta(days=rng.uniform(0, 180) ** 1.0, minutes=rng.randrange(1440))
        requested_at = now - age
        anonymous = rng.random() < 0.35
        reporter = None if anonymous else (users["resident"] if rng.random() < 0.3 else None)
        with transaction.atomic(), suppressed():
            issue = services.create_issue(
                service_type=service_type,
                latitude=lat,
                longitude=lon,
                address=_address_near(rng, lat, lon),
                description=rng.choice(DESCRIPTIONS[code]),
                attributes=ANSWERS.get(code, {}),
                reporter=reporter,
                reporter_name="" if not anonymous else rng.choice(["Pat Q.", "J. Rivera", ""]),
                reporter_email=f"neighbour{n}@example.net" if anonymous else "",
                reporter_phone=f"312-555-{1000 + n:04d}" if anonymous else "",
                hide_reporter_name=rng.random() < 0.2,
                source=Source.IMPORT,
                requested_at=requested_at,
            )
            Issue.objects.filter(pk=issue.pk).update(external_source=DEMO_SOURCE, external_id=key)
            _give_history(rng, issue, staff_by_department[issue.department_id], requested_at, now)
            if n % 9 == 0:
                services.add_comment(
                    issue=issue,
                    author=staff_by_department[issue.department_id],
                    body="Internal: crew lead says this needs a second visit. Reporter's phone on file.",
                    internal=True,
                )
            if n % 7 == 0:
                services.add_vote(issue=issue, user=users["resident"])
            if n == 13:
                services.set_hidden(
                    target=issue,
                    hidden=True,
                    by=users["admin"],
                    reason="Contained a neighbour's full name and phone number.",
                )
            if n == 21:
                comment = services.add_comment(
                    issue=issue,
                    author=users["resident"],
                    body="Spam comment with a link to a casino.",
                )
                services.set_hidden(target=comment, hidden=True, by=users["admin"], reason="Spam")
        report.add("issues")


def _give_history(rng, issue: Issue, worker: User, requested_at, now) -> None:
    age_days = (now - requested_at).days
    steps = []
    roll = rng.random()
    if age_days > 3 and roll < 0.8:
        steps.append(Status.ACKNOWLEDGED)
    if age_days > 7 and roll < 0.6:
        steps.append(Status.IN_PROGRESS)
    if age_days > 10 and roll < 0.5:
        steps.append(Status.CLOSED)
    if age_days > 120 and roll < 0.1:
        steps.append(Status.ARCHIVED)
    at = requested_at
    for to in steps:
        at = min(at + timedelta(hours=rng.uniform(4, 24 * age_days / (len(steps) + 1))), now)
        message = {
            Status.ACKNOWLEDGED: "The city has received your report.",
            Status.IN_PROGRESS: "A crew is scheduled.",
            Status.CLOSED: "The work is done. Thank you for reporting it.",
            Status.ARCHIVED: "",
        }[to]
        services.change_status(issue=issue, to=to, by=worker, message=message, at=at)


# Two stops by City Hall that the demo resident looks after.
ADOPTED_NEAR = (41.88365, -87.63201)


def load_adoptions(report: DemoReport, users: dict[str, User], layer: AssetLayer) -> None:
    """The demo resident adopts the two bus stops nearest City Hall, keeps one tidy and finds
    the other needing repair (a report against it, made by the visit)."""
    resident = users["resident"]
    if Adoption.objects.filter(adopter__user=resident).exists():
        return
    with suppressed():
        for n, stop in enumerate(nearest_assets(layer, *ADOPTED_NEAR, count=2)):
            adoption = services.adopt_asset(asset=stop, user=resident, show_name=True)
            services.log_visit(
                adoption=adoption,
                by=resident,
                outcome=VisitOutcome.CLEANED if n == 0 else VisitOutcome.NEEDS_REPAIR,
                note="Picked up the litter." if n == 0 else "The timetable frame is smashed.",
            )
            report.add("adoptions")


def load_demo(count: int = DEMO_ISSUES) -> DemoReport:
    report = DemoReport()
    users = load_city(report)
    layer = load_assets(report)
    load_places(report)
    load_issues(report, users, count=count)
    load_adoptions(report, users, layer)
    load_safety(report, users)
    return report


# Safety and moderation (issue 20): an emergency type that refuses reports, a private type, a
# held type, a few reports of each kept from the public, and an abuse report waiting.
SAFETY_TYPES = [
    {
        "code": "gas-leak-downed-wire",
        "name": "Gas leak or downed wire",
        "department": "water-management",
        "notice": "A gas leak or a downed wire is an emergency: leave the area and call 911 now.",
        "stops_reports": True,
        "publication": "public",
    },
    {
        "code": "person-at-risk",
        "name": "Person at risk (welfare check)",
        "department": "public-health",
        "notice": "If someone is in danger right now, call 911. Reports here are private.",
        "stops_reports": False,
        "publication": "private",
    },
    {
        "code": "offensive-graffiti",
        "name": "Offensive graffiti",
        "department": "streets-sanitation",
        "notice": "A moderator checks these reports before they are shown publicly.",
        "stops_reports": False,
        "publication": "held",
    },
]


def load_safety(report: DemoReport, users: dict[str, User]) -> None:
    departments = {d.slug: d for d in Department.objects.all()}
    types = {}
    for t in SAFETY_TYPES:
        types[t["code"]], created = ServiceType.objects.get_or_create(
            service_code=t["code"],
            defaults={
                "name": t["name"],
                "group": "Safety",
                "department": departments[t["department"]],
                "sla_hours": 24,
                "notice": t["notice"],
                "stops_reports": t["stops_reports"],
                "publication": t["publication"],
            },
        )
        report.add("service types", int(created))
    if Issue.objects.filter(external_source="demo-safety").exists():
        return
    ward = Ward.objects.order_by("number").first()
    center = shape_from_geojson(ward.boundary).representative_point() if ward else None
    lat, lon = (center.y, center.x) if center is not None else (41.8837, -87.6324)
    texts = {
        "person-at-risk": [
            "Older neighbour has not been seen for three days.",
            "Man sleeping outside in the cold near the underpass.",
        ],
        "offensive-graffiti": [
            "Slur sprayed on the bus shelter.",
            "Offensive words on the school fence.",
            "Hate symbol painted on the bridge.",
        ],
    }
    for code, descriptions in texts.items():
        for n, text in enumerate(descriptions):
            with transaction.atomic(), suppressed():
                issue = services.create_issue(
                    service_type=types[code],
                    latitude=lat + 0.001 * n,
                    longitude=lon + 0.001 * n,
                    address=f"{100 + n} W Example St",
                    description=text,
                    reporter_email=f"safety{n}@example.net",
                )
                Issue.objects.filter(pk=issue.pk).update(
                    external_source="demo-safety", external_id=f"{code}-{n}"
                )
            report.add("withheld issues")
    public = Issue.objects.filter(is_hidden=False).order_by("pk").first()
    if public is not None:
        services.report_abuse(
            issue=public,
            reason="personal",
            details="The description gives my neighbour's phone number.",
            sent_by=users.get("resident"),
        )
        report.add("abuse reports")
