"""Every email, rendered for a recipient who reads Spanish, Polish, Chinese or Arabic, has no
English left in its subject, text and HTML (apart from names, links and what people or the city
wrote), with its placeholders filled and its dates and numbers written the language's way; and
each kind goes out in its recipient's language, not the sender's (two people, two languages).

How: the same email is rendered for an English reader and for the language's reader. HTML is
compared piece by piece (tests/i18n/test_pages_translated.py), the text body line by line and the
subject word by word: anything the same in both, once links and the city's or people's own words
are taken out, is English left over."""

import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.core import mail
from django.utils import formats, timezone, translation

from departments.models import Ward
from issues import services
from issues.models import AreaAlert, NotificationEvent, Status, Subscription
from issues.notify import area_digests, digests, escalations, events, subscriptions
from issues.notify.digests import WardDigest
from issues.notify.recipients import Recipient, language_for
from issues.notify.rendering import Draft, render
from issues.services import alerts as alert_services
from tests.factories import (
    CITY_HALL,
    make_department,
    make_issue,
    make_service_type,
    make_user,
    square_boundary,
)
from tests.i18n.test_pages_translated import LANGUAGES, POTHOLE_NAMES, leftover_english

pytestmark = pytest.mark.django_db

# What the city or people wrote, names and ids: the same in every language.
CONTENT = [
    settings.SITE_NAME,
    settings.SITE_URL,
    "Ward 42",
    "121 N LaSalle St",
    "Zqx vvb",  # the report's description
    "Kiosk 7",
    "Lamppost",
    "Wipe the glass",
    "Riverside",
    "Rosa Díaz",
    "CityWorks 311",
    "HTTP 503",
    "Kpl wrr",  # a comment, a staff message
]
URL = re.compile(r"(https?://|/)\S*")
# The marks around a digest's entries, taken out just before sending (issues/notify/withdrawal.py).
MARK = re.compile(r"⟦/?cf-issue(:\d+)?⟧")


def strip_content(text: str, issue) -> str:
    text = URL.sub(" ", MARK.sub(" ", text))
    for piece in [*CONTENT, issue.public_id] if issue else CONTENT:
        text = text.replace(piece, " ")
    return text


def english_lines(english: str, translated: str, issue) -> list[str]:
    """Lines of a text body that are the same in English, once content is taken out."""
    theirs = {line.strip() for line in english.splitlines()}
    return [
        line
        for line in translated.splitlines()
        if line.strip() in theirs and re.search(r"[A-Za-z]", strip_content(line, issue))
    ]


def english_words(english: str, translated: str, issue) -> set[str]:
    words = set(re.findall(r"[A-Za-z]{2,}", strip_content(english, issue)))
    return words & set(re.findall(r"[A-Za-z]{2,}", strip_content(translated, issue)))


@pytest.fixture
def place(db):
    ward = Ward.objects.create(number=42, name="Ward 42", boundary=square_boundary(*CITY_HALL))
    department = make_department(
        "Transportation",
        translations={
            "name": {
                "es": "Transporte",
                "pl": "Transport miejski",
                "zh-hans": "交通局",
                "ar": "النقل",
            }
        },
    )
    other = make_department(
        "Streets",
        translations={
            "name": {"es": "Calles", "pl": "Ulice", "zh-hans": "街道局", "ar": "الشوارع"}
        },
    )
    service_type = make_service_type(
        department,
        code="pothole",
        name="Pothole in Street",
        translations={"name": POTHOLE_NAMES},
    )
    with events.suppressed():
        issue = make_issue(service_type, point=CITY_HALL, description="Zqx vvb")
    issue.refresh_from_db()
    return SimpleNamespace(
        ward=ward, department=department, other=other, type=service_type, issue=issue
    )


def drafts(place) -> dict[str, tuple[Draft, dict]]:
    """One draft of each kind (a few kinds twice, for their variants), with the values whose
    formatting is checked: {label: (draft, {"date"/"datetime"/"number": value})}."""
    issue, now = place.issue, timezone.now().replace(microsecond=0)
    when = now - timedelta(days=3)
    issue.closed_at = when
    alert = AreaAlert(
        pk=7,
        email="a@example.org",
        label="Riverside",
        latitude=41.88,
        longitude=-87.63,
        radius_m=1500,
    )
    change = SimpleNamespace(
        get_to_status_display=lambda: Status.CLOSED.label,
        message="Kpl wrr",
        from_department=place.other,
        to_department=place.department,
    )
    comment = SimpleNamespace(body="Kpl wrr")
    staffer = make_user("crew@city.example", display_name="Rosa Díaz")
    layer = SimpleNamespace(asset_label="Lamppost")
    asset = SimpleNamespace(name="Kiosk 7", source_id="K7")
    adoption = SimpleNamespace(pk=3, care_task="Wipe the glass")
    hotspot = SimpleNamespace(
        report_count=1200,
        radius_m=1500,
        latitude=41.88365,
        longitude=-87.63201,
        window_start=when,
        window_end=now,
    )
    digest = WardDigest(ward=place.ward, url="http://x/w/42", opened=1200, closed=2, overdue=1)
    digest.new_issues = [issue]
    digest.oldest_open = [issue]
    endpoint = SimpleNamespace(name="CityWorks 311")
    health = SimpleNamespace(consecutive_failures=1200, failing_since=when, last_error="HTTP 503")
    urls = {"admin_url": "http://x/admin/1/"}

    def d(event, context, **extra):
        return Draft(
            event=event,
            ref="x",
            recipient=None,
            issue=extra.pop("issue", issue),
            context=context,
            **extra,
        )

    E = NotificationEvent
    return {
        "adoption_reminder": (
            d(
                E.ADOPTION_REMINDER,
                {
                    "adoption": adoption,
                    "asset": asset,
                    "layer": layer,
                    "due": when,
                    "visit_url": "http://x/v",
                    "asset_url": "http://x/a",
                },
                issue=None,
                unsubscribe_scope=("adoption", 3),
            ),
            {"date": when},
        ),
        "alert_confirm": (
            d(
                E.ALERT_CONFIRM,
                {"alert": alert, "confirm_url": "http://x/c"},
                issue=None,
                unsubscribe_scope=("all", None),
            ),
            {"number": 1500},
        ),
        "alert_digest": (
            d(
                E.ALERT_DIGEST,
                {
                    "alert": alert,
                    "since": when,
                    "new_issues": [issue],
                    "closed_issues": [issue],
                    "new_count": 3,
                    "closed_count": 1,
                },
                issue=None,
                unsubscribe_scope=("alert", 7),
            ),
            {"datetime": when, "number": 1500},
        ),
        "area_alert": (
            d(E.AREA_ALERT, {"alert": alert, "kind": None}, unsubscribe_scope=("alert", 7)),
            {"number": 1500, "datetime": issue.requested_at},
        ),
        "area_alert_comment": (
            d(
                E.AREA_ALERT,
                {"alert": alert, "kind": "comment_added", "comment": comment},
                unsubscribe_scope=("alert", 7),
            ),
            {},
        ),
        "area_alert_status": (
            d(
                E.AREA_ALERT,
                {"alert": alert, "kind": "status_changed", "status_change": change},
                unsubscribe_scope=("alert", 7),
            ),
            {},
        ),
        "department_new_issue": (
            d(E.DEPARTMENT_NEW_ISSUE, {**urls}, unsubscribe_scope=("department", 1)),
            {"datetime": issue.requested_at},
        ),
        "department_transfer": (
            d(
                E.DEPARTMENT_TRANSFER,
                {"status_change": change, **urls},
                unsubscribe_scope=("department", 1),
            ),
            {},
        ),
        "fixed_followup": (
            d(E.FIXED_FOLLOWUP, {"yes_url": "http://x/y", "no_url": "http://x/n"}),
            {"date": when},
        ),
        "hotspot": (
            d(
                E.HOTSPOT,
                {
                    "alert": hotspot,
                    "service_type": place.type,
                    "ward": place.ward,
                    "list_url": "http://x/l",
                    "dashboard_url": "http://x/d",
                },
                issue=None,
                ward=place.ward,
                unsubscribe_scope=("digest", None),
            ),
            {"date": when, "number": 1500, "count": 1200},
        ),
        "issue_reopened": (
            d(
                E.ISSUE_REOPENED,
                {"status_change": change, **urls},
                unsubscribe_scope=("department", 1),
            ),
            {},
        ),
        "overdue_escalation": (
            d(
                E.OVERDUE_ESCALATION,
                {
                    "to_supervisors": False,
                    "due_at": when,
                    "overdue_by": escalations._overdue_by(when, now),
                    "department": place.department,
                    "assignee": staffer,
                    **urls,
                },
                unsubscribe_scope=("escalation", None),
            ),
            {"datetime": when},
        ),
        "overdue_escalation_supervisors": (
            d(
                E.OVERDUE_ESCALATION,
                {
                    "to_supervisors": True,
                    "due_at": when,
                    "overdue_by": escalations._overdue_by(when, now),
                    "department": place.department,
                    "assignee": None,
                    **urls,
                },
                unsubscribe_scope=("escalation", None),
            ),
            {"datetime": when},
        ),
        "report_confirm": (
            d(
                E.REPORT_CONFIRM,
                {"confirm_url": "http://x/c", "hours": 48},
                unsubscribe_scope=("all", None),
            ),
            {},
        ),
        "upstream_failing": (
            d(
                E.UPSTREAM_FAILING,
                {
                    "endpoint": endpoint,
                    "health": health,
                    "outbox_url": "http://x/o",
                    "department": place.department,
                },
                issue=None,
                unsubscribe_scope=("department", 1),
            ),
            {"datetime": when, "count": 1200},
        ),
        "ward_digest": (
            d(
                E.WARD_DIGEST,
                {
                    "wards": [digest, digest],
                    "since": when,
                    "now": now,
                    "totals": {"opened": 1200, "closed": 4, "overdue": 2},
                },
                issue=None,
                unsubscribe_scope=("digest", None),
            ),
            {"datetime": when},
        ),
        "ward_digest_one_ward": (
            d(
                E.WARD_DIGEST,
                {
                    "wards": [digest],
                    "since": when,
                    "now": now,
                    "totals": {"opened": 1200, "closed": 2, "overdue": 1},
                },
                issue=None,
                ward=place.ward,
                unsubscribe_scope=("digest", None),
            ),
            {"datetime": when},
        ),
        "ward_new_issue": (d(E.WARD_NEW_ISSUE, {}, unsubscribe_scope=("ward", place.ward.pk)), {}),
    }


def written(draft: Draft, language: str):
    # An address with no account, which asked in `language` (language_for).
    draft.recipient = Recipient(email="reader@example.org", language=language)
    row = render(draft, "reader@example.org")
    assert not row.last_error, row.last_error
    return row


KINDS = [
    "adoption_reminder",
    "alert_confirm",
    "alert_digest",
    "area_alert",
    "area_alert_comment",
    "area_alert_status",
    "department_new_issue",
    "department_transfer",
    "fixed_followup",
    "hotspot",
    "issue_reopened",
    "overdue_escalation",
    "overdue_escalation_supervisors",
    "report_confirm",
    "upstream_failing",
    "ward_digest",
    "ward_digest_one_ward",
    "ward_new_issue",
]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", KINDS)
def test_every_email_is_written_in_the_readers_language(place, kind, language):
    draft, values = drafts(place)[kind]
    issue = draft.issue or place.issue  # digests list it
    english = written(draft, "en")
    theirs = written(draft, language)

    assert not english_words(english.subject, theirs.subject, issue), theirs.subject
    assert not english_lines(english.body_text, theirs.body_text, issue), theirs.body_text
    leftover = [
        piece
        for piece in leftover_english(english.body_html, theirs.body_html, set(CONTENT))
        if re.search(r"[A-Za-z]", strip_content(piece, issue))
    ]
    assert not leftover, leftover
    bidi = "rtl" if language == "ar" else "ltr"
    assert f'<html lang="{language}" dir="{bidi}">' in theirs.body_html
    for body in (theirs.body_text, theirs.body_html):
        assert "{{" not in body and "%(" not in body and "None" not in body
        assert theirs.unsubscribe_url in body

    # Placeholders filled, the way the language writes dates and numbers.
    with translation.override(language):
        expected = []
        if "date" in values:
            expected.append(formats.date_format(timezone.localtime(values["date"]), "DATE_FORMAT"))
        if "datetime" in values:
            expected.append(
                formats.date_format(timezone.localtime(values["datetime"]), "DATETIME_FORMAT")
            )
        if "number" in values:
            expected.append(formats.number_format(values["number"], 0, force_grouping=True))
        if "count" in values:
            expected.append(str(values["count"]))
    for text in expected:
        assert text in theirs.body_text, (text, theirs.body_text)
    # The city's own words in the reader's language: type and department names.
    if draft.issue is not None or kind == "hotspot":
        with translation.override(language):
            type_name = place.type.translations["name"][language]
        assert type_name in theirs.body_text + theirs.subject, theirs.subject


def test_the_account_emails_are_translated(db):
    from django.template.loader import render_to_string

    ctx = {
        "SITE_NAME": settings.SITE_NAME,
        "login_url": "http://x/l",
        "reset_url": "http://x/r",
        "url": "http://x/u",
    }
    for name in ("verify", "already_registered"):
        english = {
            part: render_to_string(f"accounts/emails/{name}{part}.txt", ctx)
            for part in ("", "_subject")
        }
        for language in LANGUAGES:
            with translation.override(language):
                theirs = {
                    part: render_to_string(f"accounts/emails/{name}{part}.txt", ctx)
                    for part in ("", "_subject")
                }
            assert not english_words(english["_subject"], theirs["_subject"], None)
            assert not english_lines(english[""], theirs[""], None), theirs[""]
            assert settings.SITE_NAME in theirs[""] and "http://x/" in theirs[""]


# Each kind goes to each person in their own language -----------------------------------------


def sent_to(messages, address):
    (message,) = [m for m in messages if m.to == [address]]
    return message


def test_a_ward_digest_to_two_aldermen_in_two_languages(place, deliver):
    ana = make_user("ana@example.org", language="es")
    piotr = make_user("piotr@example.org", language="pl")
    place.ward.aldermen.add(ana, piotr)
    with translation.override("zh-hans"):  # whoever runs beat: never their language
        _, sent = deliver(digests.queue_ward_digests)
    assert sent_to(sent, "ana@example.org").subject.startswith("Ward 42 hoy:")
    assert sent_to(sent, "piotr@example.org").subject.startswith("Ward 42 dzisiaj:")


def test_ward_watchers_without_accounts_get_the_language_they_watched_in(place, deliver):
    with translation.override("ar"):
        subscriptions.watch_ward(ward=place.ward, email="layla@example.org")
    with translation.override("es"):
        subscriptions.watch_ward(ward=place.ward, email="lucia@example.org")
    assert Subscription.objects.get(email="layla@example.org").language == "ar"
    with translation.override("pl"):  # the reporter's page: not the watchers' language
        issue, sent = deliver(
            make_issue, place.type, point=CITY_HALL, reporter_email="r@example.org"
        )
    assert (
        sent_to(sent, "layla@example.org").subject
        == f"[{issue.public_id}] بلاغ حفرة في الشارع جديد في Ward 42"
    )
    assert sent_to(sent, "lucia@example.org").subject == (
        f"[{issue.public_id}] Reporte nuevo de Bache en la calle en Ward 42"
    )


def test_area_alerts_reach_each_subscriber_in_their_language(place, deliver):
    for language, email in (("zh-hans", "chen@example.org"), ("ar", "omar@example.org")):
        with translation.override(language):
            alert, sent = deliver(
                alert_services.create_alert,
                email=email,
                latitude=CITY_HALL[0],
                longitude=CITY_HALL[1],
                radius_m=1500,
            )
        assert alert.language == language
        confirm = sent_to(sent, email)
        assert not re.search(r"[A-Za-z]{4,}", strip_content(confirm.subject, None)), confirm.subject
        alert.confirmed_at = timezone.now()
        alert.save()
    _, sent = deliver(make_issue, place.type, point=CITY_HALL, reporter_email="r@example.org")
    assert "路面坑洞" in sent_to(sent, "chen@example.org").subject
    assert "حفرة في الشارع" in sent_to(sent, "omar@example.org").subject


def test_alert_digests_go_in_the_alerts_language(place, deliver):
    day_ago = timezone.now() - timedelta(days=2)
    for language, email in (("pl", "ola@example.org"), ("es", "eva@example.org")):
        with translation.override(language):
            alert = alert_services.create_alert(
                email=email,
                latitude=CITY_HALL[0],
                longitude=CITY_HALL[1],
                radius_m=1500,
                frequency="daily",
            )
        AreaAlert.objects.filter(pk=alert.pk).update(confirmed_at=day_ago)
    mail.outbox.clear()
    with events.suppressed():
        make_issue(place.type, point=CITY_HALL, reporter_email="r@example.org")
    _, sent = deliver(area_digests.queue_alert_digests)
    # Two new reports: the one just made, and the fixture's.
    assert "nowe: 2, zamknięte: 0" in sent_to(sent, "ola@example.org").subject
    assert "nuevos: 2, cerrados: 0" in sent_to(sent, "eva@example.org").subject


def test_escalations_go_in_each_staff_members_language(place, deliver):
    issue = place.issue
    mei = make_user("mei@city.example", language="zh-hans")
    sam = make_user("sam@city.example", language="ar")
    place.department.staff.add(mei, sam)
    type(issue).objects.filter(pk=issue.pk).update(expected_at=timezone.now() - timedelta(hours=5))
    _, sent = deliver(escalations.queue_escalations)
    to_mei, to_sam = sent_to(sent, "mei@city.example"), sent_to(sent, "sam@city.example")
    assert to_mei.subject.startswith("逾期") and "小时" in to_mei.subject
    assert to_sam.subject.startswith("متأخر") and "ساعات" in to_sam.body


def test_a_merged_duplicates_followers_keep_their_language(place):
    staff_user = make_user("lead@city.example", is_staff=True)
    place.department.staff.add(staff_user)
    with translation.override("pl"):
        subscriptions.follow_issue(issue=place.issue, email="kasia@example.org")
    with events.suppressed():
        target = make_issue(place.type, point=CITY_HALL)
    with translation.override("zh-hans"), events.suppressed():  # the staff member's language
        services.mark_duplicate(issue=place.issue, original=target, by=staff_user)
    moved = Subscription.objects.get(issue=target, email="kasia@example.org")
    assert moved.language == "pl"
    assert language_for(Recipient(email=moved.email, subscription=moved), target) == "pl"


def test_account_emails_go_in_the_accounts_language(deliver):
    from accounts import tokens

    owner = make_user("zofia@example.org", language="pl")
    with translation.override("es"):  # someone signs up with her address on a Spanish page
        _, sent = deliver(tokens.send_already_registered_email, owner)
    assert sent_to(sent, "zofia@example.org").subject == (
        f"Masz już konto w serwisie {settings.SITE_NAME}"
    )
    newcomer = make_user("nuevo@example.org")
    with translation.override("es"):  # no choice saved: the page's language
        _, sent = deliver(tokens.send_verification_email, newcomer)
    assert (
        sent_to(sent, "nuevo@example.org").subject
        == f"Confirme su correo para {settings.SITE_NAME}"
    )
