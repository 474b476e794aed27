"""Demo data: the demo city (departments/demo.py: wards, catalogue, accounts) and a few hundred
issues with histories, spread over the wards. Running it again changes nothing: every row is found
by a natural key (ward number, slug, service code, email, the demo issue's number) before it is
created.
"""

from __future__ import annotations

import math
import random
import zlib
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
from issues.demo_routing import load_routed_reports
from issues.models import Adoption, Issue, Source, Status, VisitOutcome
from issues.notify import hotspots
from issues.notify.events import suppressed

DEMO_SOURCE = "demo"
DEMO_ISSUES = 800

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


def address_near(lat: float, lon: float) -> str:
    """The gazetteer's name for the point ("near N Ashland Ave & W Addison St"), so a demo
    report's address matches its pin; empty where no place is near."""
    found = name_of_point(lat, lon)
    return found.name if found else ""


# The demo alderman's ward (departments/demo.py gives them ward 1): the busiest in the demo, so
# the product is shown with something to say.
ALDERMAN_WARD = 1
HISTORY_DAYS = 365
# Seasons: a month's weight (1 elsewhere). Potholes come with the spring thaw, leaves and branches
# in autumn, rats in summer, dark streets in winter.
SEASONS = {
    "pothole": {2: 1.8, 3: 2.6, 4: 2.6, 5: 1.6},
    "tree-debris": {9: 1.6, 10: 2.8, 11: 2.8},
    "rodent-baiting": {6: 1.8, 7: 2.2, 8: 1.8},
    "street-light-out": {11: 1.5, 12: 1.7, 1: 1.7},
    "water-on-street": {1: 1.6, 2: 1.6},
}
# Median days to close per type (log-normal around it): most close within their expected time,
# some late, and a few get stuck for months (STUCK_SHARE).
CLOSE_MEDIAN_DAYS = {
    "pothole": 6,
    "graffiti": 3.75,
    "street-light-out": 3.75,
    "abandoned-vehicle": 13.5,
    "rodent-baiting": 9,
    "found-syringe": 0.4,
    "water-on-street": 1.2,
    "water-meter-stolen": 3,
    "tree-debris": 6,
    "fallen-tree-greenway": 1.5,
    "dirty-bus-shelter": 4.5,
    "sanitation-code": 12,
}
STUCK_SHARE = 0.06
OFFICIAL_REPLIES = [
    "A crew filled it this morning; please report again if it sinks.",
    "Thank you. This is on tomorrow's route.",
    "We have asked the property owner to clear it within 7 days.",
]
RESIDENT_COMMENTS = [
    "Still there this morning.",
    "Same on the next block.",
    "Thanks for the quick fix!",
]

# The two stories the demo tells (each issue keyed, so loading again changes nothing):
# found syringes piling up by Wicker Park (ward 1) this week, and stolen water meters rising over
# six weeks on the West Side, most of this week's around one block by Garfield Park (ward 28).
SYRINGE_PARK = (41.9080, -87.6773)
SYRINGE_REPORTS = 7
METER_BLOCK = (41.8845, -87.7165)
METER_WEEKS = (1, 1, 2, 3, 5, 9)  # reports per week, oldest first: this week's is the last
METER_WARDS = (24, 27, 28, 37)


def _requested_at(rng: random.Random, code: str, now):
    """A time in the last year, drawn by the type's seasons."""
    months = SEASONS.get(code, {})
    top = max(months.values(), default=1)
    while True:
        at = now - timedelta(days=rng.uniform(0, HISTORY_DAYS), minutes=rng.randrange(1440))
        if rng.random() * top <= months.get(timezone.localtime(at).month, 1):
            return at


def _pick_ward(rng: random.Random, wards: list[Ward]) -> Ward:
    roll = rng.random()
    if roll < 0.14:
        return next(w for w in wards if w.number == ALDERMAN_WARD)
    if roll < 0.4:
        return wards[rng.randrange(10)]
    return rng.choice(wards)


def _nudge(point: tuple[float, float], rng: random.Random, metres: float) -> tuple[float, float]:
    lat, lon = point
    dn, de = rng.uniform(-metres, metres), rng.uniform(-metres, metres)
    return (
        round(lat + dn / 111_320.0, 6),
        round(lon + de / (111_320.0 * math.cos(math.radians(lat))), 6),
    )


class _Demo:
    """What every demo issue needs: the catalogue, the workers, the clock."""

    def __init__(self, users: dict[str, User]):
        self.users = users
        self.now = timezone.now()
        self.types = {t.service_code: t for t in ServiceType.objects.all()}
        self.staff = {d.pk: d.staff.first() or users["admin"] for d in Department.objects.all()}
        self.existing = set(
            Issue.objects.filter(external_source=DEMO_SOURCE).values_list("external_id", flat=True)
        )

    def create(self, key: str, rng: random.Random, code: str, point, requested_at, **extra):
        anonymous = rng.random() < 0.35
        reporter = None if anonymous else (self.users["resident"] if rng.random() < 0.3 else None)
        issue = services.create_issue(
            service_type=self.types[code],
            latitude=point[0],
            longitude=point[1],
            address=address_near(*point),
            description=rng.choice(DESCRIPTIONS[code]),
            attributes=ANSWERS.get(code, {}),
            reporter=reporter,
            reporter_name="" if not anonymous else rng.choice(["Pat Q.", "J. Rivera", ""]),
            reporter_email=f"neighbour{key}@example.net" if anonymous else "",
            reporter_phone=f"312-555-{1000 + zlib.crc32(key.encode()) % 9000:04d}"
            if anonymous
            else "",
            hide_reporter_name=rng.random() < 0.2,
            source=Source.IMPORT,
            requested_at=requested_at,
            **extra,
        )
        Issue.objects.filter(pk=issue.pk).update(external_source=DEMO_SOURCE, external_id=key)
        return issue


def load_issues(report: DemoReport, users: dict[str, User], count: int = DEMO_ISSUES) -> None:
    demo = _Demo(users)
    wards = list(Ward.objects.order_by("number"))
    geoms = {w.pk: shape_from_geojson(w.boundary) for w in wards}
    codes = [t["code"] for t in SERVICE_TYPES]
    weights = [30, 14, 14, 8, 8, 3, 6, 2, 8, 2, 3, 8]
    for n in range(count):
        key = str(n)
        if key in demo.existing:
            continue
        rng = random.Random(f"civicfix-demo-{n}")
        ward = _pick_ward(rng, wards)
        point = _point_in(rng, geoms[ward.pk])
        code = rng.choices(codes, weights=weights)[0]
        requested_at = _requested_at(rng, code, demo.now)
        with transaction.atomic(), suppressed():
            issue = demo.create(key, rng, code, point, requested_at)
            worker = demo.staff[issue.department_id]
            closed = _give_history(rng, issue, worker, code, requested_at, demo.now)
            if closed and n % 11 == 0:
                services.add_comment(issue=issue, author=worker, body=rng.choice(OFFICIAL_REPLIES))
            if n % 9 == 0:
                services.add_comment(
                    issue=issue,
                    author=worker,
                    body="Internal: crew lead says this needs a second visit. Reporter's phone on file.",
                    internal=True,
                )
            if n % 13 == 5:
                services.add_comment(
                    issue=issue, author=users["resident"], body=rng.choice(RESIDENT_COMMENTS)
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
            if n % 45 == 3:
                _duplicate_of(demo, f"dup-{n}", issue, rng, code, point, requested_at)
                report.add("issues")
            if n % 100 == 8 and issue.status == Status.CLOSED:
                services.change_status(
                    issue=issue,
                    to=Status.OPEN,
                    message="Reopened: the reporter says it is back.",
                    at=min(issue.closed_at + timedelta(days=3), demo.now),
                )
        report.add("issues")
    report.add("issues", _load_stories(demo, geoms, wards))


def _duplicate_of(
    demo: _Demo, key: str, original: Issue, rng, code: str, point, requested_at
) -> Issue:
    """A neighbour reports the same thing a few hours later; staff close it as a duplicate."""
    at = min(requested_at + timedelta(hours=rng.uniform(2, 20)), demo.now)
    dup = demo.create(key, rng, code, _nudge(point, rng, 25), at)
    services.change_status(
        issue=dup,
        to=Status.CLOSED,
        by=demo.staff[dup.department_id],
        message=f"Duplicate of report {original.public_id}: follow that one for updates.",
        at=min(at + timedelta(hours=3), demo.now),
    )
    return dup


def _load_stories(demo: _Demo, geoms: dict, wards: list[Ward]) -> int:
    """The syringe cluster and the water-meter surge (see SYRINGE_PARK, METER_WEEKS); then the
    hotspot detection runs over the demo, as the nightly job would, and finds both."""
    made = 0
    by_number = {w.number: w for w in wards}
    plan = []
    rng = random.Random("civicfix-demo-syringes")
    for i in range(SYRINGE_REPORTS):
        at = demo.now - timedelta(days=rng.uniform(0.2, 6))
        plan.append((f"syringe-{i}", rng, "found-syringe", _nudge(SYRINGE_PARK, rng, 50), at))
    rng = random.Random("civicfix-demo-meters")
    for week, n in enumerate(METER_WEEKS):
        weeks_ago = len(METER_WEEKS) - 1 - week
        for i in range(n):
            at = demo.now - timedelta(days=weeks_ago * 7 + rng.uniform(0.2, 6.5))
            if weeks_ago == 0 and i < 7:
                point = _nudge(METER_BLOCK, rng, 60)
            else:
                ward = by_number.get(rng.choice(METER_WARDS))
                if ward is None:
                    continue
                point = _point_in(rng, geoms[ward.pk])
            plan.append((f"meter-{week}-{i}", rng, "water-meter-stolen", point, at))
    for key, rng, code, point, at in plan:
        if key in demo.existing or code not in demo.types:
            continue
        with transaction.atomic(), suppressed():
            issue = demo.create(key, rng, code, point, at)
            _give_history(rng, issue, demo.staff[issue.department_id], code, at, demo.now)
        made += 1
    # Found and listed, as the nightly job would; nobody is emailed about the demo's past.
    hotspots.detect_and_alert(now=demo.now, notify=False)
    return made


def _give_history(rng, issue: Issue, worker: User, code: str, requested_at, now) -> bool:
    """Acknowledged, in progress and closed after a time drawn for the type; returns whether
    the issue ends closed."""
    close_after = timedelta(days=CLOSE_MEDIAN_DAYS.get(code, 5) * math.exp(rng.gauss(0, 0.9)))
    if rng.random() < STUCK_SHARE:
        # Stuck: still open if recent, closed months late if not (the backlog clears slowly).
        close_after = timedelta(days=rng.uniform(60, 240))
    steps = [
        (Status.ACKNOWLEDGED, 0.15, "The city has received your report."),
        (Status.IN_PROGRESS, 0.6, "A crew is scheduled."),
        (Status.CLOSED, 1.0, "The work is done. Thank you for reporting it."),
    ]
    closed = False
    for to, share, message in steps:
        at = requested_at + close_after * share
        if at > now:
            break
        services.change_status(issue=issue, to=to, by=worker, message=message, at=at)
        closed = to == Status.CLOSED
    if closed and now - (requested_at + close_after) > timedelta(days=200) and rng.random() < 0.3:
        services.change_status(issue=issue, to=Status.ARCHIVED, by=worker, message="")
    return closed


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
    load_routed_reports(report, users, ANSWERS)
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
