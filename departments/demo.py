"""The demo city's catalogue: the real 50 Chicago wards, departments, service types and their
questions, response templates, and the demo accounts who work them.

Modelled on real 311 catalogues: Chicago's service request types (pothole in street, graffiti
removal, street light out, abandoned vehicle, rodent baiting, tree debris, water on street), the
groups of Bloomington's real Open311 services.json (shared/data/open311_services_bloomington_in.json)
and Minneapolis's category tree (shared/data/minneapolis_311_categories.csv: found syringe, water
meter stolen, fallen tree on a greenway, dirty bus shelter). Attributes are the questions those
cities ask.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from accounts.models import User
from departments.importing.asset_rows import AssetFile
from departments.importing.assets import AssetImporter
from departments.importing.places import PlaceFile, PlaceImporter
from departments.models import (
    AssetLayer,
    Department,
    Place,
    ResponseTemplate,
    ServiceAttribute,
    ServiceType,
    Ward,
)

WARDS_FILE = Path(__file__).resolve().parent / "data/chicago_wards_2023_simplified.geojson"
BUS_STOPS_FILE = Path(__file__).resolve().parent / "data/chicago_cta_bus_stops.csv"
INTERSECTIONS_FILE = Path(__file__).resolve().parent / "data/chicago_intersections.csv"

DEMO_USERS = {
    "admin": ("admin@civicfix.local", "Ada Admin", "demo-admin-pass"),
    "staff": ("staff@civicfix.local", "Sam Streets", "demo-staff-pass"),
    "water": ("water@civicfix.local", "Wanda Water", "demo-water-pass"),
    "alderman": ("alderman@civicfix.local", "Alderman of the 1st Ward", "demo-alderman-pass"),
    "resident": ("resident@civicfix.local", "Rosa Resident", "demo-resident-pass"),
}

DEPARTMENTS = [
    {"slug": "streets-sanitation", "name": "Streets and Sanitation", "email": "dss@city.example"},
    {"slug": "transportation", "name": "Transportation (CDOT)", "email": "cdot@city.example"},
    {"slug": "water-management", "name": "Water Management", "email": "water@city.example"},
    {"slug": "public-health", "name": "Public Health", "email": "health@city.example"},
    {"slug": "parks-forestry", "name": "Parks and Forestry", "email": "parks@city.example"},
    {"slug": "transit", "name": "Transit Authority", "email": "", "notify": False},
]

YES_NO = [{"key": "yes", "name": "Yes"}, {"key": "no", "name": "No"}]

SERVICE_TYPES = [
    {
        "code": "pothole",
        "name": "Pothole in Street",
        "group": "Streets & Sidewalks",
        "department": "transportation",
        "sla": 7 * 24,
        "keywords": "pothole,hole,road,street,asphalt",
        "description": "A hole in the street's surface. Potholes in alleys go to Alley Repair.",
        "attributes": [
            {
                "code": "SIZE",
                "description": "About how big is it?",
                "datatype": "singlevaluelist",
                "required": True,
                "values": [
                    {"key": "small", "name": "Smaller than a dinner plate"},
                    {"key": "medium", "name": "Up to a car tyre"},
                    {"key": "large", "name": "Larger than a car tyre"},
                ],
            },
            {
                "code": "WHERE",
                "description": "Where on the street is it?",
                "datatype": "singlevaluelist",
                "required": False,
                "values": [
                    {"key": "lane", "name": "In a traffic lane"},
                    {"key": "bike", "name": "In a bike lane"},
                    {"key": "crosswalk", "name": "In a crosswalk"},
                    {"key": "curb", "name": "By the curb"},
                ],
            },
        ],
    },
    {
        "code": "graffiti",
        "name": "Graffiti Removal",
        "group": "Sanitation",
        "department": "streets-sanitation",
        "sla": 5 * 24,
        "keywords": "graffiti,tag,paint,vandalism",
        "description": "Graffiti on a building, garage, fence or city property.",
        "attributes": [
            {
                "code": "SURFACE",
                "description": "What is it painted on?",
                "datatype": "singlevaluelist",
                "required": True,
                "values": [
                    {"key": "brick", "name": "Brick or stone"},
                    {"key": "metal", "name": "Metal"},
                    {"key": "wood", "name": "Wood"},
                    {"key": "glass", "name": "Glass"},
                    {"key": "other", "name": "Other"},
                ],
            },
            {
                "code": "OFFENSIVE",
                "description": "Is it offensive (racist, obscene, gang-related)?",
                "datatype": "singlevaluelist",
                "required": False,
                "values": YES_NO,
            },
            {
                "code": "FLOOR",
                "description": "Which floor is it on? (1 = street level)",
                "datatype": "number",
                "required": False,
            },
        ],
    },
    {
        "code": "street-light-out",
        "name": "Street Light Out",
        "group": "Streets & Sidewalks",
        "department": "transportation",
        "sla": 4 * 24,
        "keywords": "light,lamp,dark,street light",
        "description": "One street light, or a few in a row, are out or flickering.",
        "attributes": [
            {
                "code": "POLE",
                "description": "Pole number, if you can see it",
                "datatype": "string",
                "required": False,
                "datatype_description": "Usually on a small plate at eye level.",
            },
            {
                "code": "PROBLEM",
                "description": "What is wrong?",
                "datatype": "multivaluelist",
                "required": True,
                "values": [
                    {"key": "out", "name": "Completely out"},
                    {"key": "flicker", "name": "Flickering"},
                    {"key": "day", "name": "On during the day"},
                    {"key": "damaged", "name": "Pole damaged or leaning"},
                ],
            },
        ],
    },
    {
        "code": "abandoned-vehicle",
        "name": "Abandoned Vehicle",
        "group": "Vehicles & Parking",
        "department": "streets-sanitation",
        "sla": 14 * 24,
        "keywords": "car,vehicle,abandoned,parked",
        "description": "A vehicle that has not moved for at least 7 days.",
        "attributes": [
            {
                "code": "PLATE",
                "description": "License plate",
                "datatype": "string",
                "required": False,
            },
            {
                "code": "SINCE",
                "description": "When did you first notice it?",
                "datatype": "datetime",
                "required": False,
            },
            {
                "code": "NOTE",
                "description": "A vehicle must be unmoved for 7 days before the city can tow it.",
                "datatype": "text",
                "required": False,
                "variable": False,
            },
        ],
    },
    {
        "code": "rodent-baiting",
        "name": "Rodent Baiting",
        "group": "Sanitation",
        "department": "streets-sanitation",
        "sla": 10 * 24,
        "keywords": "rats,rodents,mice,burrows",
        "description": "Rats seen, or burrows in a yard or alley.",
        "attributes": [
            {
                "code": "SEEN",
                "description": "What did you see?",
                "datatype": "multivaluelist",
                "required": False,
                "values": [
                    {"key": "rats", "name": "Rats"},
                    {"key": "burrows", "name": "Burrows"},
                    {"key": "droppings", "name": "Droppings"},
                ],
            }
        ],
    },
    {
        "code": "found-syringe",
        "name": "Found Syringe",
        "group": "Health & Safety",
        "department": "public-health",
        "sla": 24,
        "keywords": "needle,syringe,sharps",
        "description": "A used needle or syringe in a public place. Do not pick it up.",
        "attributes": [
            {
                "code": "COUNT",
                "description": "How many?",
                "datatype": "number",
                "required": True,
            }
        ],
    },
    {
        "code": "water-on-street",
        "name": "Water on Street / Flooding",
        "group": "Water",
        "department": "water-management",
        "sla": 2 * 24,
        "keywords": "water,flooding,leak,main break",
        "description": "Water running or pooling on the street, or a flooded viaduct.",
        "attributes": [
            {
                "code": "SOURCE",
                "description": "Where does the water seem to come from?",
                "datatype": "singlevaluelist",
                "required": False,
                "values": [
                    {"key": "hydrant", "name": "A fire hydrant"},
                    {"key": "ground", "name": "The ground / a crack in the street"},
                    {"key": "drain", "name": "A blocked drain"},
                    {"key": "unknown", "name": "I don't know"},
                ],
            }
        ],
    },
    {
        "code": "water-meter-stolen",
        "name": "Water Meter Stolen",
        "group": "Water",
        "department": "water-management",
        "sla": 3 * 24,
        "keywords": "meter,water meter,theft",
        "description": "A water meter has been stolen or its cover is missing.",
        "attributes": [],
    },
    {
        "code": "tree-debris",
        "name": "Tree Debris",
        "group": "Parks & Trees",
        "department": "parks-forestry",
        "sla": 7 * 24,
        "keywords": "tree,branch,limb,debris",
        "description": "Fallen branches or a tree that needs trimming on the parkway.",
        "attributes": [
            {
                "code": "BLOCKING",
                "description": "Is it blocking the street, alley or sidewalk?",
                "datatype": "singlevaluelist",
                "required": True,
                "values": YES_NO,
            }
        ],
    },
    {
        "code": "fallen-tree-greenway",
        "name": "Fallen Tree on a Greenway",
        "group": "Parks & Trees",
        "department": "parks-forestry",
        "sla": 3 * 24,
        "keywords": "tree,trail,greenway,path",
        "description": "A tree down across a trail, greenway or park path.",
        "attributes": [],
    },
    {
        "code": "dirty-bus-shelter",
        "name": "Dirty Bus Shelter",
        "group": "Transit",
        "department": "transit",
        "sla": 5 * 24,
        "keywords": "bus,shelter,stop,dirty",
        "description": "A bus shelter that is dirty, littered or has broken glass.",
        "attributes": [
            {
                "code": "STOP",
                "description": "Bus stop number, if shown",
                "datatype": "string",
                "required": False,
            },
            {
                "code": "DETAIL",
                "description": "What needs doing?",
                "datatype": "text",
                "required": False,
            },
        ],
    },
    {
        "code": "sanitation-code",
        "name": "Sanitation Code Violation",
        "group": "Sanitation",
        "department": "streets-sanitation",
        "sla": 14 * 24,
        "keywords": "garbage,trash,dumping,overflowing",
        "description": "Overflowing carts, dumping, or garbage left out.",
        "attributes": [],
    },
]

RESPONSE_TEMPLATES = [
    (
        None,
        "acknowledged",
        "Received",
        "Thank you. The city has received your report and will inspect it.",
    ),
    (
        None,
        "closed",
        "Duplicate",
        "This is a duplicate of an earlier report; we are working on that one.",
    ),
    (
        "transportation",
        "closed",
        "Pothole filled",
        "A crew filled this pothole. Thank you for reporting it.",
    ),
    ("transportation", "in_progress", "Crew scheduled", "A crew is scheduled to repair this."),
    ("streets-sanitation", "closed", "Graffiti removed", "The graffiti has been removed."),
    ("streets-sanitation", "closed", "Vehicle towed", "The vehicle was tagged and towed."),
    ("water-management", "closed", "Leak repaired", "The leak was found and repaired."),
    ("parks-forestry", "closed", "Debris cleared", "Forestry crews cleared the debris."),
    ("public-health", "closed", "Sharps collected", "The syringe(s) were collected safely."),
]


@dataclass
class DemoReport:
    created: dict[str, int] = field(default_factory=dict)

    def add(self, what: str, n: int = 1) -> None:
        if n:
            self.created[what] = self.created.get(what, 0) + n


def load_wards(report: DemoReport, path: Path = WARDS_FILE) -> None:
    data = json.loads(path.read_text())
    for feature in data["features"]:
        number = int(str(feature["properties"]["ward"]).strip())
        if Ward.objects.filter(number=number).exists():
            continue
        Ward.objects.create(
            number=number,
            name=f"Ward {number}",
            slug=f"ward-{number}",
            boundary=feature["geometry"],
        )
        report.add("wards")


def load_catalogue(report: DemoReport) -> None:
    for d in DEPARTMENTS:
        _, created = Department.objects.get_or_create(
            slug=d["slug"],
            defaults={
                "name": d["name"],
                "contact_email": d["email"],
                "notify_new_issues": d.get("notify", True),
            },
        )
        report.add("departments", int(created))
    departments = {d.slug: d for d in Department.objects.all()}
    for t in SERVICE_TYPES:
        service_type, created = ServiceType.objects.get_or_create(
            service_code=t["code"],
            defaults={
                "name": t["name"],
                "group": t["group"],
                "description": t["description"],
                "keywords": t["keywords"],
                "department": departments[t["department"]],
                "sla_hours": t["sla"],
            },
        )
        report.add("service types", int(created))
        for order, a in enumerate(t["attributes"], start=1):
            _, created = ServiceAttribute.objects.get_or_create(
                service_type=service_type,
                code=a["code"],
                defaults={
                    "order": order,
                    "description": a["description"],
                    "datatype": a["datatype"],
                    "datatype_description": a.get("datatype_description", ""),
                    "required": a.get("required", False),
                    "variable": a.get("variable", True),
                    "values": a.get("values", []),
                },
            )
            report.add("attributes", int(created))
    for slug, status, title, body in RESPONSE_TEMPLATES:
        _, created = ResponseTemplate.objects.get_or_create(
            department=departments.get(slug) if slug else None,
            title=title,
            defaults={"body": body, "status": status},
        )
        report.add("response templates", int(created))


def load_users(report: DemoReport) -> dict[str, User]:
    users = {}
    for role, (email, name, password) in DEMO_USERS.items():
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(
                email=email,
                password=password,
                display_name=name,
                email_verified=True,
                is_staff=role in ("admin", "staff", "water", "alderman"),
                is_superuser=role == "admin",
            )
            report.add("users")
        users[role] = user
    Department.objects.get(slug="streets-sanitation").staff.add(users["staff"])
    Department.objects.get(slug="transportation").staff.add(users["staff"])
    Department.objects.get(slug="water-management").staff.add(users["water"])
    Ward.objects.get(number=1).aldermen.add(users["alderman"])
    return users


def load_city(report: DemoReport) -> dict[str, User]:
    """Wards, catalogue and people, in one transaction; returns the demo accounts by role."""
    with transaction.atomic():
        load_wards(report)
        load_catalogue(report)
        return load_users(report)


BUS_STOPS = {
    "slug": "cta-bus-stops",
    "name": "CTA bus stops",
    "asset_label": "bus stop",
    "asset_label_plural": "bus stops",
    "description": "Every CTA bus stop in and around the city, one per direction of travel.",
    "adoptable": True,
    "max_adopters": 2,
    "care_task": "Keep the stop tidy: pick up litter, and tell the city what needs repairing",
    "care_every_days": 30,
}


def load_assets(report: DemoReport, path: Path = BUS_STOPS_FILE) -> AssetLayer:
    """The real CTA bus stops as an adoptable layer, reported against as "Dirty Bus Shelter".
    Imported like any city's layer (departments/importing/assets.py), so a second run finds
    every stop unchanged and writes nothing."""
    layer, created = AssetLayer.objects.get_or_create(
        slug=BUS_STOPS["slug"], defaults={k: v for k, v in BUS_STOPS.items() if k != "slug"}
    )
    ServiceType.objects.filter(service_code="dirty-bus-shelter", asset_layer__isnull=True).update(
        asset_layer=layer
    )
    if created or not layer.assets.exists():
        # The file has no bad line; if a changed copy had one, it is set aside in the temp dir.
        rejects = Path(tempfile.gettempdir()) / "civicfix-demo-stops.rejects.csv"
        summary = AssetImporter(layer, rejects_path=rejects).run(AssetFile(path))
        report.add("bus stops", summary.created)
    return layer


def load_places(report: DemoReport, path: Path = INTERSECTIONS_FILE) -> None:
    """The City's 24,048 named intersections as the gazetteer (import_places' bulk path, COPY on
    PostgreSQL); skipped when places are already there, so a second run writes nothing."""
    if Place.objects.exists():
        return
    rejects = Path(tempfile.gettempdir()) / "civicfix-demo-places.rejects.csv"
    summary = PlaceImporter(rejects_path=rejects).run(PlaceFile(path, fmt="intersections"))
    report.add("places", summary.created)
