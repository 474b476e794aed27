"""load_demo is idempotent; migrations apply from scratch on SQLite and PostgreSQL."""

import os
import subprocess
import sys
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count
from django.test import override_settings

from accounts.models import User
from departments.models import Asset, Department, Place, ServiceAttribute, ServiceType, Ward
from issues import demo, demo_routing
from issues.models import (
    AbuseReport,
    Adoption,
    Comment,
    HotspotAlert,
    Issue,
    Notification,
    StatusChange,
    Subscription,
    Visit,
    Vote,
)
from tests.module_rows import rows_for_the_module

ROOT = Path(__file__).resolve().parents[2]
MODELS = [
    User,
    Department,
    ServiceType,
    ServiceAttribute,
    Ward,
    Issue,
    StatusChange,
    Comment,
    Vote,
    Subscription,
    Asset,
    Place,
    Adoption,
    Visit,
]


def counts() -> dict[str, int]:
    return {m.__name__: m.objects.count() for m in MODELS}


@pytest.fixture(scope="module")
def demo_counts(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[dict[str, int]]:
    """The demo loaded once for this module's tests that read it (a load takes seconds), and
    the rows it made, per model."""

    def load() -> dict[str, int]:
        with override_settings(DEBUG=True):
            call_command("load_demo", issues=40, stdout=StringIO())
        return counts()

    media = tmp_path_factory.mktemp("demo-media")
    with rows_for_the_module(django_db_blocker, media, load) as first:
        yield first


def test_load_demo_twice_changes_nothing(demo_counts, db, settings):
    settings.DEBUG = True
    first = demo_counts
    snapshot = dict(Issue.objects.values_list("external_id", "public_id"))
    call_command("load_demo", issues=40, stdout=StringIO())
    assert counts() == first
    assert dict(Issue.objects.values_list("external_id", "public_id")) == snapshot
    # 40 demo issues, one duplicate of the 4th, the two stories (syringes, water meters), the
    # repair a demo adopter's visit reported against a bus stop, and the five private and held
    # reports of the safety demo (issue 20), and the fresh reports the routing rules gave out
    # (issue 16).
    stories = demo.SYRINGE_REPORTS + sum(demo.METER_WEEKS)
    routed = sum(count for _code, _where, count in demo_routing.REPORTS)
    assert first["Ward"] == 50 and first["Issue"] == 40 + 1 + stories + 1 + 5 + routed
    assert first["Asset"] == 10_760 and first["Adoption"] == 2
    assert first["Place"] == 24_048  # the City's intersections: the gazetteer


def test_demo_has_what_privacy_checks_need(demo_counts, db):
    assert Issue.objects.filter(reporter__isnull=True).exclude(reporter_email="").exists()
    # One hidden by a moderator, five kept back by their type (private or held, issue 20).
    assert Issue.objects.filter(is_hidden=True).count() == 1 + 5
    assert Issue.objects.filter(withheld="private").count() == 2
    assert Issue.objects.filter(withheld="held").count() == 3
    assert ServiceType.objects.filter(stops_reports=True).exists()
    assert AbuseReport.objects.waiting().count() == 1
    assert Comment.objects.filter(is_internal=True).exists()
    assert Issue.objects.filter(status="closed").exists()
    assert StatusChange.objects.filter(from_status="open").exists()
    # History is written without emailing anyone.
    assert Notification.objects.count() == 0


# Not marked slow: its cost is the module's one demo load, which its neighbours share (a slow
# mark would run it first, apart from them, and load the demo twice).
def test_demo_tells_its_stories(demo_counts, db):
    """The demo alderman's ward is the busiest; the hotspot detection finds the syringes by the
    park and the water-meter surge; addresses name the pin's nearest intersection."""
    busiest = Issue.objects.values("ward__number").annotate(n=Count("id")).order_by("-n").first()
    assert busiest["ward__number"] == demo.ALDERMAN_WARD
    assert (
        Ward.objects.get(number=demo.ALDERMAN_WARD)
        .aldermen.filter(email="alderman@civicfix.local")
        .exists()
    )
    alerts = {a.service_type.service_code: a for a in HotspotAlert.objects.all()}
    assert set(alerts) == {"found-syringe", "water-meter-stolen"}
    assert alerts["found-syringe"].ward.number == demo.ALDERMAN_WARD
    assert alerts["found-syringe"].report_count >= 5
    assert all(a.p_value < 0.001 for a in alerts.values())
    syringe = Issue.objects.filter(external_id="syringe-0").get()
    assert syringe.address.startswith("near ") and "&" in syringe.address
    assert StatusChange.objects.filter(message__startswith="Duplicate of report").exists()


def test_load_demo_refuses_without_debug(db, settings):
    from django.core.management.base import CommandError

    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("load_demo", issues=1, stdout=StringIO())


def test_no_missing_migrations(db):
    call_command("makemigrations", "--check", "--dry-run", stdout=StringIO())


def _migrate(database_url: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME")}
    env.update({"DATABASE_URL": database_url, "SECRET_KEY": "migrate-test", "DEBUG": "false"})
    return subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
def test_migrations_apply_on_a_fresh_sqlite_file(tmp_path):
    result = _migrate(f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    assert result.returncode == 0, result.stderr
    assert "Applying issues.0001_initial... OK" in result.stdout


@pytest.mark.slow
def test_migrations_apply_on_a_fresh_postgresql_database(empty_postgres_url):
    result = _migrate(empty_postgres_url)
    assert result.returncode == 0, result.stderr
    assert "Applying issues.0001_initial... OK" in result.stdout


def test_suite_database_has_the_constraints(db):
    names = {
        c for c in connection.introspection.get_constraints(connection.cursor(), "issues_issue")
    }
    assert {"issue_latitude_range", "issue_longitude_range", "issue_description_max_4000"} <= names
