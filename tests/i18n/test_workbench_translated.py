"""The staff workbench (the admin as each department's queue) in each language: a member of
staff who reads Spanish, Polish, Chinese or Arabic finds no English in the workbench's own words
on the queue (with its filters), an issue's page (with a timeline of several kinds), the bulk
close and transfer pages, a bulk job's progress, the abuse reports and the catalogue's pages.

Django's own admin words are translated by Django; what the city wrote (type, department and
template names, the resident's description, people's names) stays as written. Both are checked
the same way as every other page (tests/i18n/test_pages_translated.py): the page is rendered in
English and in the language, and any piece of visible text the same in both is English left
over, unless it is the city's or a person's own words (CITY_WORDS) or a name or code."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from departments.models import Priority, RoutingRule, Team
from issues import services
from issues.models import AbuseReason, BulkAction, Status
from tests.admin.conftest import *  # noqa: F403  (the staff area's cast, and its URLs)
from tests.admin.conftest import change_url, changelist_url
from tests.factories import make_issue
from tests.i18n.test_pages_translated import LANGUAGES, leftover_english, visible

pytestmark = pytest.mark.django_db

# What the city and people wrote (fixtures of tests/admin), and names and codes that are the
# same in every language.
CITY_WORDS = {
    "Streets and Sanitation",
    "Water Management",
    "Pothole in Street",
    "Water on Street",
    "Pothole filled",
    "A crew filled this pothole.",
    "Pothole by City Hall",
    "Water bubbling up",
    "Sam Streets",
    "Pat Private",
    "Ward 42",
    "Ward 2",
    "121 N LaSalle St",
    "Streets",  # the pothole type's group
    "closed",  # a response template's status, as stored
    "boss",  # the admin's short name
    "Crew North",
    "Potholes up north",
    "Crew is on the way.",
    "Checked with the foreman.",
    "dss@city.example",
    "water@city.example",
    "sam@city.example",
    "boss@city.example",
    "pat.private@example.net",
    "312-555-0101",
    "pothole",
    "leak",
    "K7M2-9QXR",
    "CivicFix",
    "JSON",
    "XML",
    "—",
    "-",
    "→",
    "⚠",
    "·",
    "/",
    ":",
}


# The same word in the language (the catalogue test still fails on any untranslated entry).
SAME_WORD = {"Normal", "Web", "No", "Import"}
# Django's own admin words that its catalogues leave in English (alt texts of icons) or lack in
# one of the languages.
DJANGO_OWN = {"Search", "True", "False", "Breadcrumbs", "Add link", "Change or view list link"}
DJANGO_OWN |= {"Model name"}


def get(client: Client, url: str, language: str) -> str:
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200, (url, language, response.status_code)
    assert response["Content-Language"] == language
    return response.content.decode()


def post(client: Client, url: str, data: dict, language: str) -> str:
    response = client.post(url, data, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200, (url, language, response.status_code)
    return response.content.decode()


def ours(pieces_left: list[str], extra: set[str]) -> list[str]:
    """Leftovers that are not the city's or people's own words, a request id, a slug, or such
    words with numbers (a point's coordinates) and a breadcrumb's arrow."""
    allowed = CITY_WORDS | SAME_WORD | DJANGO_OWN | extra
    left = []
    for piece in pieces_left:
        bare = piece.removeprefix("› ")
        if piece in allowed or bare in allowed or "@" in piece:
            continue
        if re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}( Pothole in Street)?|(dept|ward)-\d+", bare):
            continue
        for words in sorted(CITY_WORDS, key=len, reverse=True):
            bare = bare.replace(words, "")
        if not any(ch.isalpha() for ch in bare):
            continue
        left.append(piece)
    return left


def assert_no_english(render, extra: set[str] = frozenset()) -> dict[str, str]:
    english = render("en")
    pages = {}
    leftovers = {}
    for language in LANGUAGES:
        pages[language] = render(language)
        leftovers[language] = ours(leftover_english(english, pages[language]), set(extra))
    assert leftovers == {language: [] for language in LANGUAGES}, leftovers
    return pages


@pytest.fixture
def worked_issue(streets_issue, sam, boss, close_template):
    """An issue with a timeline of every kind: status change, internal note, public reply,
    assignment, priority, hidden comment."""
    services.change_status(issue=streets_issue, to=Status.ACKNOWLEDGED, by=sam, message="")
    services.add_comment(
        issue=streets_issue, author=sam, body="Checked with the foreman.", internal=True
    )
    comment = services.add_comment(
        issue=streets_issue, author=sam, body="Crew is on the way.", internal=False
    )
    services.assign_issue(issue=streets_issue, assignee=sam, by=sam)
    services.set_priority(issue=streets_issue, priority=Priority.HIGH, by=sam)
    services.change_status(issue=streets_issue, to=Status.IN_PROGRESS, by=sam, message="")
    services.report_abuse(issue=streets_issue, comment=comment, reason=AbuseReason.values[0])
    streets_issue.refresh_from_db()
    return streets_issue


QUEUE_VIEWS = [
    "",
    "?status=all",
    "?status=open&overdue=yes",
    "?status=open&assigned=me",
    "?status=closed",
    "?status=all&priority=high_up&triage=no&city=sent",
    "?q=pothole",
]


@pytest.mark.parametrize("view", QUEUE_VIEWS)
def test_the_queue_and_its_filters_have_no_english_left(client, sam, worked_issue, view):
    client.force_login(sam)
    pages = assert_no_english(lambda language: get(client, changelist_url() + view, language))
    if view == "":
        # The issue is listed, with its status and priority in the reader's words.
        assert "En curso" in pages["es"] and "Alta" in pages["es"]
        assert "W realizacji" in pages["pl"]
        assert "处理中" in pages["zh-hans"]
        assert worked_issue.public_id in pages["ar"]


def test_an_issues_page_with_its_timeline_has_no_english_left(client, sam, worked_issue):
    client.force_login(sam)
    pages = assert_no_english(lambda language: get(client, change_url(worked_issue), language))
    # The timeline's entries and the people in them, in the reader's words.
    assert "Nota interna" in pages["es"]
    assert "Checked with the foreman." in pages["es"]
    assert "Sam Streets" in pages["pl"]
    assert "时间线" in pages["zh-hans"]
    assert "السجل الزمني" in pages["ar"]


def test_an_issues_page_read_by_an_admin_has_no_english_left(client, boss, worked_issue):
    client.force_login(boss)
    assert_no_english(lambda language: get(client, change_url(worked_issue), language))


def test_the_bulk_close_and_transfer_pages_have_no_english_left(
    client, sam, streets_issue, water, close_template
):
    client.force_login(sam)
    for action in ("close_with_template", "transfer"):
        data = {"action": action, "_selected_action": [streets_issue.pk]}
        pages = assert_no_english(
            lambda language, data=data: post(client, changelist_url(), data, language)
        )
    assert "Transferir 1 solicitud" not in pages["es"]  # a whole sentence, not pieces
    assert "Enviar 1 solicitud a la cola de otro departamento." in pages["es"]


def test_a_bulk_jobs_progress_page_has_no_english_left(client, sam, pothole, wards):
    issues = [make_issue(pothole, description=f"Hole {n}") for n in range(5)]
    services.change_status(issue=issues[0], to=Status.ACKNOWLEDGED, by=sam, message="")
    job = services.start_bulk_job(by=sam, action=BulkAction.ACKNOWLEDGE, issues=issues)
    services.run_bulk_job(job.pk, limit=3)
    client.force_login(sam)
    url = f"/admin/issues/bulkjob/{job.pk}/change/"
    # Why an issue was skipped is stored as the job ran, in its starter's language (English).
    stored = {"The issue is already acknowledged."}
    pages = assert_no_english(lambda language: get(client, url, language), stored)
    assert "3 de 5 solicitudes procesadas" in pages["es"]
    assert "Przetworzono zgłoszenia: 3 z 5" in pages["pl"]
    services.run_bulk_job(job.pk)
    pages = assert_no_english(lambda language: get(client, url, language), stored)
    assert "4 solicitudes cambiadas" in pages["es"]
    assert "4 zgłoszenia zmienione" in pages["pl"] and "1 pozostało bez zmian" in pages["pl"]


def test_a_bulk_job_says_why_in_its_starters_language(sam, pothole, wards):
    sam.language = "pl"
    sam.save(update_fields=["language"])
    issues = [make_issue(pothole) for _n in range(2)]
    services.change_status(issue=issues[0], to=Status.ACKNOWLEDGED, by=sam, message="")
    job = services.start_bulk_job(by=sam, action=BulkAction.ACKNOWLEDGE, issues=issues)
    services.run_bulk_job(job.pk)
    reasons = [item.reason for item in job.items.all() if item.reason]
    assert reasons and all("Zgłoszenie" in reason for reason in reasons), reasons


def test_the_abuse_reports_have_no_english_left(client, sam, worked_issue):
    client.force_login(sam)
    pages = assert_no_english(lambda language: get(client, "/admin/issues/abusereport/", language))
    assert "1 denuncia de abuso pendiente" in pages["es"]


@pytest.fixture
def catalogue(streets, pothole, sam, wards, close_template):
    team = Team.objects.create(department=streets, name="Crew North")
    team.members.add(sam)
    rule = RoutingRule.objects.create(department=streets, name="Potholes up north", team=team)
    rule.wards.add(wards[2])
    return {"team": team, "rule": rule}


CATALOGUE_PAGES = [
    "departments/department",
    "departments/servicetype",
    "departments/responsetemplate",
    "departments/ward",
    "departments/team",
    "departments/routingrule",
]


@pytest.mark.parametrize("page", CATALOGUE_PAGES)
def test_the_catalogues_pages_have_no_english_left(client, boss, catalogue, page):
    from django.apps import apps

    client.force_login(boss)
    app_label, model_name = page.split("/")
    obj = apps.get_model(app_label, model_name).objects.order_by("pk").first()
    urls = [f"/admin/{page}/", f"/admin/{page}/{obj.pk}/change/"]
    if page != "departments/ward":  # wards come from the city's boundaries, not a form
        urls.append(f"/admin/{page}/add/")
    for url in urls:
        assert_no_english(lambda language, url=url: get(client, url, language))


def test_the_leftover_check_sees_english(client, sam, worked_issue):
    """The check itself: an English page read as English is all leftovers."""
    client.force_login(sam)
    english = get(client, change_url(worked_issue), "en")
    assert "Timeline" in visible(english)
    assert "Timeline" in leftover_english(english, english)
