"""The demo's routing (issue 16): a crew that takes Transportation's potholes in wards 1-10 in
turn, the Loop's street lights to one person at high priority (a drawn area), and Water's
flooding to Wanda. Sam and Wanda supervise their departments, so the demo accounts can edit the
rules. The crew's two other members have no password: they take issues, they do not sign in."""

from __future__ import annotations

from django.db import transaction

from accounts.models import User
from departments import services
from departments.models import Department, Priority, RoutingRule, ServiceType, Team, Ward

# The Loop, roughly: Lake Street to Congress, Wacker to Michigan.
LOOP = {
    "type": "Polygon",
    "coordinates": [
        [[-87.6365, 41.8755], [-87.6240, 41.8755], [-87.6240, 41.8858], [-87.6365, 41.8858],
         [-87.6365, 41.8755]]
    ],
}  # fmt: skip

CREW = [("tess.transport@civicfix.local", "Tess Transport"), ("omar.transport@civicfix.local",
        "Omar Transport")]  # fmt: skip


def _crew_member(email: str, name: str, department: Department) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(
            email=email, password=None, display_name=name, email_verified=True
        )
    services.add_staff(department=department, user=user)
    return user


def load_routing(report, users: dict[str, User]) -> None:
    """Teams and rules for the demo departments (once: kept as they are when they exist)."""
    with transaction.atomic():
        transport = Department.objects.get(slug="transportation")
        water = Department.objects.get(slug="water-management")
        transport.supervisors.add(users["staff"])
        water.supervisors.add(users["water"])
        crew = [_crew_member(email, name, transport) for email, name in CREW]
        team, created = Team.objects.get_or_create(department=transport, name="North side crew")
        if created:
            team.members.set([users["staff"], *crew])
            report.add("teams")
        _rule(
            report,
            transport,
            "Potholes in wards 1-10",
            position=10,
            types=["pothole"],
            wards=range(1, 11),
            team=team,
        )
        _rule(
            report,
            transport,
            "Street lights in the Loop",
            position=20,
            types=["street-light-out"],
            area=LOOP,
            assignee=users["staff"],
            priority=Priority.HIGH,
        )
        _rule(
            report,
            water,
            "Water on the street",
            position=10,
            types=["water-on-street"],
            assignee=users["water"],
            priority=Priority.HIGH,
        )


def _rule(report, department, name, *, types=(), wards=(), **fields) -> None:
    rule, created = RoutingRule.objects.get_or_create(
        department=department, name=name, defaults=fields
    )
    if created:
        rule.service_types.set(ServiceType.objects.filter(service_code__in=types))
        rule.wards.set(Ward.objects.filter(number__in=list(wards)))
        report.add("routing rules")
