"""The cast of bench/load, made in the bench database by `manage.py shell` (Django set up with
the bench's environment): residents and a staff member with signed-in sessions, an Open311 key,
and the issues they will look at, vote on, move and close. Prints one JSON line for the load
generator. Running it again reuses the accounts and picks issues that are still open.

Sessions are written here rather than signed into over HTTP: a sign-in is a password hash
(about a third of a second of CPU on purpose), which would be timed as load and is not what a
resident does on every visit. The session rows are the same ones a sign-in writes.
"""

from __future__ import annotations

import json
from importlib import import_module

STAFF_DEPARTMENT = "transportation"
STAFF_EMAIL = "load-staff@city.example"
HARVESTER_EMAIL = "load-harvester@example.org"


def _signed_in(user) -> str:
    """A session key for `user`, as django.contrib.auth.login stores it."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key


def _user(email: str, name: str):
    from accounts.models import User

    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=None, display_name=name)
    return user


def _staff():
    from departments import services as department_services
    from departments.models import Department

    department = Department.objects.get(slug=STAFF_DEPARTMENT)
    user = _user(STAFF_EMAIL, "Load Staff")
    department_services.add_staff(department=department, user=user)
    return user, department


def _api_key() -> str:
    from accounts.services import issue_api_key

    owner = _user(HARVESTER_EMAIL, "Load Harvester")
    _key, raw = issue_api_key(owner=owner, name="bench/load")
    return raw


def _sample(queryset, n: int) -> list:
    """About `n` rows spread over the table, without ORDER BY random() over a million rows:
    random primary-key windows."""
    import random

    from django.db.models import Max

    top = queryset.aggregate(top=Max("pk"))["top"] or 0
    rows: list = []
    tries = 0
    while len(rows) < n and tries < n * 4:
        tries += 1
        start = random.randint(0, max(top - 500, 0))
        rows += list(queryset.filter(pk__gte=start, pk__lt=start + 500)[:3])
    unique = {row.pk: row for row in rows}  # two windows may overlap
    return list(unique.values())[:n]


def run(residents: int, pages: int, staff_issues: int) -> None:
    from issues.models import Issue, Status

    users = [_user(f"load-resident-{n}@example.net", f"Resident {n}") for n in range(residents)]
    staff, department = _staff()
    public = Issue.objects.public().filter(ward__isnull=False, latitude__isnull=False)
    sample = _sample(public.only("pk", "public_id", "latitude", "longitude"), pages)
    open_here = Issue.objects.public().filter(department=department, status=Status.OPEN)
    print(
        json.dumps(
            {
                "resident_sessions": [_signed_in(u) for u in users],
                "staff_session": _signed_in(staff),
                "api_key": _api_key(),
                "issues": [i.public_id for i in sample],
                # New reports go where reports already are: in a ward (elsewhere is refused).
                "points": [(i.latitude, i.longitude) for i in sample],
                "staff_issues": [i.pk for i in _sample(open_here.only("pk"), staff_issues)],
                "service_code": "pothole",
                "web_service_code": "water-meter-stolen",
            }
        )
    )
