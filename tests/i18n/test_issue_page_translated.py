"""The issue page and everything a resident does after reporting (follow, vote, update, fixed or
not fixed, edit, track, their account, report abuse, alerts, unsubscribe links), rendered in each
language with no English left (tests/i18n/test_pages_translated.py says how that is checked).

What people wrote (descriptions, comments, names, addresses, alert names, email addresses) and
request ids are shown as written, so each check names them as content."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import formats, timezone, translation

from departments.models import Ward
from issues import services
from issues.models import Status, StatusChange
from issues.notify import events, links, subscriptions
from issues.photos import prepare_photo
from issues.services import alerts as alert_services
from tests.factories import (
    CITY_HALL,
    make_attribute,
    make_department,
    make_issue,
    make_service_type,
    make_staff,
    make_user,
    square_boundary,
)
from tests.i18n.test_pages_translated import (
    ALLOWED,
    LANGUAGES,
    POTHOLE_NAMES,
    leftover_english,
    visible,
)
from tests.pages.conftest import jpeg_bytes, upload

pytestmark = pytest.mark.django_db

# Formats and names that are the same in every language.
SAME = {"JSON", "CSV", "Ward 42", "Ward 42:"}


# Strings of other areas' files shown on these pages: the comment form (issues/forms.py, the
# report form's file), the question fields (issues/_questions.html) and the list rows
# (issues/_issue_rows.html). Tolerated only while the catalogue has no translation for them, so
# the check tightens by itself once their files are translated.
OTHER_AREAS = {
    "Add a public comment",
    "Everyone can read comments. Don't include phone numbers or other private details.",
}
# City content those other templates print as written (not yet through `translated`).
OTHER_AREAS_CONTENT = {"How big is it?", "Larger than a tyre", "Pothole in Street"}


def untranslated_elsewhere(language: str) -> set[str]:
    with translation.override(language):
        return {text for text in OTHER_AREAS if translation.gettext(text) == text}


def five(text: dict) -> dict:
    return {"es": text["es"], "pl": text["pl"], "zh-hans": text["zh-hans"], "ar": text["ar"]}


@pytest.fixture
def city(db):
    Ward.objects.create(number=42, name="Ward 42", boundary=square_boundary(*CITY_HALL))
    department = make_department(
        "Transportation",
        translations={
            "name": five(
                {"es": "Transporte", "pl": "Transport", "zh-hans": "交通局", "ar": "إدارة النقل"}
            )
        },
    )
    pothole = make_service_type(
        department,
        code="pothole",
        name="Pothole in Street",
        translations={"name": five(POTHOLE_NAMES)},
    )
    make_attribute(
        pothole,
        "SIZE",
        "singlevaluelist",
        description="How big is it?",
        values=[{"key": "large", "name": "Larger than a tyre"}],
        translations={
            "description": five(
                {
                    "es": "¿Qué tamaño tiene?",
                    "pl": "Jak duża jest?",
                    "zh-hans": "有多大？",
                    "ar": "ما حجمها؟",
                }
            ),
            "choice:large": five(
                {
                    "es": "Más grande que un neumático",
                    "pl": "Większa niż opona",
                    "zh-hans": "比轮胎大",
                    "ar": "أكبر من إطار سيارة",
                }
            ),
        },
    )
    staff = make_staff(department, display_name="Sam Staffer")
    return {"department": department, "pothole": pothole, "staff": staff}


def page(client, url: str, language: str, status=(200,), method="get", data=None) -> str:
    response = getattr(client, method)(url, data or {}, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code in status, (url, language, response.status_code)
    html = response.content.decode()
    if "<html" in html:
        assert f'<html lang="{language}"' in html
    return html


def no_english(client, url, content=(), status=(200,), each=None) -> dict[str, str]:
    """The page in English and in every language: nothing but `content` the same. `each`, when
    given, is called before each rendering (for pages a POST changes)."""
    if each:
        each()
    english = page(client, url, "en", status)
    pages, leftovers = {}, {}
    for language in LANGUAGES:
        if each:
            each()
        pages[language] = page(client, url, language, status)
        allowed = SAME | set(content) | untranslated_elsewhere(language)
        leftovers[language] = leftover_english(english, pages[language], allowed)
    assert leftovers == {language: [] for language in LANGUAGES}, url
    return pages


def people(*users) -> set[str]:
    return {str(u.public_name) for u in users}


@pytest.fixture
def busy_issue(city):
    """An open issue with a photo, an answer, a transfer-free history, a status message, an
    official reply, a resident's comment, a "still there" update with a photo and a "fixed"
    one, and two votes."""
    rosa = make_user(display_name="Rosa")
    fran = make_user(display_name="Fran")
    with events.suppressed():
        issue = make_issue(
            city["pothole"],
            reporter=rosa,
            attributes={"SIZE": ["large"]},
            photos=[prepare_photo(upload("hole.jpg", jpeg_bytes()))],
        )
        services.change_status(
            issue=issue, to=Status.ACKNOWLEDGED, by=city["staff"], message="Crew booked."
        )
        services.add_comment(issue=issue, author=city["staff"], body="We will be there Monday.")
        services.add_comment(issue=issue, author=fran, body="Same on my block.")
        services.add_resident_update(
            issue=issue,
            author=fran,
            kind="still_there",
            body="Still deep.",
            photos=[prepare_photo(upload("still.jpg", jpeg_bytes(color="blue")))],
        )
        services.add_resident_update(issue=issue, author=rosa, kind="fixed")
        services.add_vote(issue=issue, user=fran)
        services.add_vote(issue=issue, user=make_user())
    issue.refresh_from_db()
    content = {
        issue.public_id,
        issue.address,
        issue.description,
        "Crew booked.",
        "We will be there Monday.",
        "Same on my block.",
        "Still deep.",
        "2",
        *people(rosa, fran),
    }
    return issue, content, rosa, fran


def test_the_open_issue_page_has_no_english_left(client, busy_issue):
    issue, content, _rosa, _fran = busy_issue
    pages = no_english(client, issue.get_absolute_url() + "?new=1", content)
    with translation.override("es"):
        reported = formats.date_format(timezone.localtime(issue.requested_at), "DATETIME_FORMAT")
    spanish = pages["es"]
    assert reported in spanish  # the date in Spanish words and order
    assert "Bache en la calle" in spanish and "Transporte" in spanish
    assert "Más grande que un neumático" in spanish and "¿Qué tamaño tiene?" in spanish
    assert "2</strong> personas también tienen este problema" in spanish
    assert "شخصان يواجهان هذا أيضًا" in pages["ar"]  # Arabic's dual
    assert "osoby też mają ten problem" in pages["pl"]
    assert "Fran dice que sigue ahí" in spanish
    assert "Rosa dice que está arreglado" in spanish
    assert "Transporte respondió" in spanish  # the department speaks, in Spanish
    assert "路面坑洞" in pages["zh-hans"]


@pytest.mark.parametrize("who", ["reporter", "neighbour"])
def test_the_issue_page_signed_in_has_no_english_left(client, busy_issue, who):
    issue, content, rosa, fran = busy_issue
    client.force_login(rosa if who == "reporter" else fran)
    if who == "reporter":
        # Inside the window to change it: a fresh report of Rosa's.
        with events.suppressed():
            issue = make_issue(issue.service_type, reporter=rosa, description="Another hole")
        content = {issue.public_id, issue.address, "Another hole", *people(rosa)}
    no_english(client, issue.get_absolute_url() + "?voted=1", content)


def test_a_closed_issue_with_resolution_after_photos_and_duplicates(client, city):
    with events.suppressed():
        issue = make_issue(
            city["pothole"], photos=[prepare_photo(upload("before.jpg", jpeg_bytes()))]
        )
        repeat = make_issue(city["pothole"])
        services.mark_duplicate(issue=repeat, original=issue, by=city["staff"])
        services.change_status(
            issue=issue,
            to=Status.CLOSED,
            by=city["staff"],
            resolution="fixed",
            message="Patched with hot asphalt.",
            photos=[prepare_photo(upload("after.jpg", jpeg_bytes(color="green")))],
        )
    content = {issue.public_id, repeat.public_id, issue.address, issue.description}
    content |= {"Patched with hot asphalt.", f"{repeat.public_id}."}
    pages = no_english(client, issue.get_absolute_url(), content)
    assert "Después (Transporte, oficial)" in pages["es"]
    # The repeat points to the original, in the reader's language.
    repeat_pages = no_english(client, repeat.get_absolute_url(), content)
    assert f"Ir a la solicitud {issue.public_id}" in repeat_pages["es"]


def test_the_nearby_box_has_no_english_left(client, city):
    with events.suppressed():
        issue = make_issue(city["pothole"])
    url = reverse("issues:report_nearby") + (
        f"?type=pothole&latitude={CITY_HALL[0]}&longitude={CITY_HALL[1]}"
    )
    pages = no_english(client, url, {issue.public_id, issue.address})
    assert "Bache en la calle" in pages["es"] and "a 0 m" in pages["es"]
    client.force_login(make_user())
    no_english(client, url, {issue.public_id, issue.address})


def test_the_reporters_pages_have_no_english_left(client, city, settings):
    rosa = make_user(display_name="Rosa")
    client.force_login(rosa)
    with events.suppressed():
        issue = make_issue(city["pothole"], reporter=rosa, attributes={"SIZE": ["large"]})
    content = {issue.public_id, issue.description, *OTHER_AREAS_CONTENT}
    edit = reverse("issues:edit_report", args=[issue.public_id])
    no_english(client, edit, content)
    # Once the window is over: the page that says so.
    settings.REPORT_EDIT_MINUTES = 0
    no_english(client, edit, content, status=(200, 403, 409))


def test_the_edit_refusal_is_translated(client, city):
    rosa = make_user(display_name="Rosa")
    client.force_login(rosa)
    with events.suppressed():
        issue = make_issue(city["pothole"], reporter=rosa)
    edit = reverse("issues:edit_report", args=[issue.public_id])
    english = page(client, edit, "en", method="post", data={"description": ""}, status=(400,))
    for language in LANGUAGES:
        translated = page(
            client, edit, language, method="post", data={"description": ""}, status=(400,)
        )
        allowed = SAME | OTHER_AREAS_CONTENT | {issue.public_id}
        assert leftover_english(english, translated, allowed) == []


@pytest.fixture
def closed_issue(city, settings):
    rosa = make_user("rosa@example.org", display_name="Rosa")
    when = timezone.now() - timedelta(days=settings.FOLLOWUP_AFTER_DAYS + 1)
    with events.suppressed():
        issue = make_issue(city["pothole"], reporter=rosa)
        services.change_status(
            issue=issue, to=Status.CLOSED, by=city["staff"], at=when, resolution="fixed"
        )
    issue.refresh_from_db()
    return issue, rosa


def test_the_fixed_and_not_fixed_pages_have_no_english_left(client, closed_issue):
    issue, rosa = closed_issue
    content = {issue.public_id, issue.address, f"· {issue.address} ·"}
    token = links.followup_token(issue)
    yes = reverse("issues:fixed", kwargs={"token": token, "answer": "yes"})
    no = reverse("issues:fixed", kwargs={"token": token, "answer": "no"})
    no_english(client, yes, content)
    no_english(client, no, content)
    not_fixed = links.not_fixed_url(issue, rosa.email)
    no_english(client, not_fixed, content)
    # A note too long: the error in the reader's language.
    english = page(client, no, "en", (400,), "post", {"note": "x" * 5000})
    for language in LANGUAGES:
        translated = page(client, no, language, (400,), "post", {"note": "x" * 5000})
        assert leftover_english(english, translated, content) == [], language
        assert "x" * 100 in translated
    # Reopened from the "Is it fixed?" link: the thanks, then the page that says it changed.
    english = page(client, no, "en", (200,), "post", {"note": "Still a hole."})
    assert "Reopened" in english
    pages = no_english(client, yes, content)
    assert "Esta solicitud ha cambiado desde que le preguntamos" in pages["es"]
    no_english(client, not_fixed, content)  # cannot be reopened from here


def test_a_reopened_page_has_no_english_left(client, city, settings):
    """Each language reopens its own closed report (a report is reopened once)."""
    rosa = make_user("rosa@example.org", display_name="Rosa")
    pages = {}
    for language in ["en", *LANGUAGES]:
        with events.suppressed():
            issue = make_issue(city["pothole"], reporter=rosa, address="9 Elm St")
            services.change_status(
                issue=issue, to=Status.CLOSED, by=city["staff"], resolution="fixed"
            )
        issue.refresh_from_db()
        url = links.not_fixed_url(issue, rosa.email)
        pages[language] = page(client, url, language, (200,), "post", {"note": ""})
        assert issue.public_id in pages[language]
        pages[language] = pages[language].replace(issue.public_id, "ID")
    assert "Reopened" in pages["en"]
    for language in LANGUAGES:
        assert leftover_english(pages["en"], pages[language], {"ID", "· 9 Elm St ·"}) == []
    # The public status message is stored once for every reader: in the city's language,
    # whichever language the reporter's page was in.
    reopened = StatusChange.objects.filter(to_status=Status.OPEN, from_status=Status.CLOSED)
    assert {change.message for change in reopened} == {
        "Reopened: the reporter says this is not fixed."
    }


def test_bad_links_have_no_english_left(client):
    no_english(client, reverse("issues:fixed", args=["forged", "yes"]), status=(400,))
    no_english(client, reverse("issues:not_fixed", args=["forged"]), status=(400,))
    no_english(client, reverse("issues:alert_confirm", args=["forged"]), status=(400,))
    no_english(client, reverse("notify:unsubscribe", args=["forged"]), status=(400,))


def test_the_tracker_and_not_found_have_no_english_left(client, city):
    no_english(client, reverse("issues:track"))
    pages = no_english(client, reverse("issues:track") + "?id=ZZZZ-ZZZZ", status=(404,))
    assert "“ZZZZ-ZZZZ”" in pages["es"]
    no_english(client, "/issues/ZZZZ-ZZZZ/", {"ZZZZ-ZZZZ"}, status=(404,))


def test_the_profile_and_data_pages_have_no_english_left(client, busy_issue):
    issue, content, rosa, _fran = busy_issue
    client.force_login(rosa)
    subscriptions.follow_issue(issue=issue, user=rosa)
    alert_services.create_alert(
        latitude=CITY_HALL[0], longitude=CITY_HALL[1], radius_m=500, user=rosa, label="My street"
    )
    alert_services.create_alert(
        latitude=CITY_HALL[0], longitude=CITY_HALL[1], radius_m=2000, user=rosa
    )
    with translation.override("en"):
        label = rosa.area_alerts.get(radius_m=2000).label
    content = {issue.public_id, issue.address, f"{rosa.email} ·", "My street", label, "Rosa"}
    content |= OTHER_AREAS_CONTENT
    with translation.override("es"):
        # The list rows' vote count (issues/_issue_rows.html, the list's file), until translated.
        if (
            translation.ngettext("%(n)s has this too", "%(n)s have this too", 2)
            == "%(n)s have this too"
        ):
            content.add("· 2 have this too")
    pages = no_english(client, reverse("issues:profile"), content)
    assert "Bache en la calle" in pages["es"]
    no_english(client, reverse("issues:delete_account"))
    english = page(client, reverse("issues:delete_account"), "en", (200, 400), "post")
    for language in LANGUAGES:
        translated = page(client, reverse("issues:delete_account"), language, (200, 400), "post")
        assert leftover_english(english, translated) == [], language


def test_report_abuse_has_no_english_left(client, busy_issue):
    issue, _content, _rosa, fran = busy_issue
    client.force_login(fran)
    url = reverse("issues:report_abuse", args=[issue.public_id])
    comment = issue.comments.filter(is_internal=False).first()
    photo = issue.photos.first()
    for query in ("", f"?comment={comment.pk}", f"?photo={photo.pk}"):
        pages = no_english(client, url + query, {f"{issue.public_id}."})
    assert issue.public_id in pages["es"]
    english = page(client, url, "en", (400,), "post")
    for language in LANGUAGES:
        translated = page(client, url, language, (400,), "post")
        assert leftover_english(english, translated) == [], language


def test_the_alert_pages_have_no_english_left(client, city, deliver):
    url = reverse("issues:alert_new")
    units = {"500 m", "1 km", "2 km", "5 km"}  # the same words in Spanish and Polish
    pages = no_english(client, url, units)
    assert "Bache en la calle" in pages["es"] and "De 200 m a 5000 m." in pages["es"]
    no_english(client, url + f"?lat={CITY_HALL[0]}&lon={CITY_HALL[1]}", units)
    data = {
        "latitude": CITY_HALL[0],
        "longitude": CITY_HALL[1],
        "radius_m": 500,
        "frequency": "daily",
        "label": "By the school",
    }
    english = page(client, url, "en", (400,), "post", {**data, "radius_m": 3})
    for language in LANGUAGES:
        translated = page(client, url, language, (400,), "post", {**data, "radius_m": 3})
        assert leftover_english(english, translated, units) == [], language
    sent = {}
    for language in ["en", *LANGUAGES]:
        email = f"{language}@example.org"
        sent[language] = page(client, url, language, (200,), "post", {**data, "email": email})
        assert email in sent[language]
    for language in LANGUAGES:
        content = {f"{language}@example.org", "en@example.org"}
        assert leftover_english(sent["en"], sent[language], content | units) == []
    alert = alert_services.create_alert(
        latitude=CITY_HALL[0],
        longitude=CITY_HALL[1],
        radius_m=500,
        email="neighbour@example.org",
        label="By the school",
    )
    confirm = links.alert_confirm_url(alert)
    no_english(client, confirm, {"neighbour@example.org", "By the school"})
    english = page(client, confirm, "en", (200,), "post")
    for language in LANGUAGES:
        translated = page(client, confirm, language, (200,), "post")
        assert leftover_english(english, translated, {"By the school"}) == [], language
    client.force_login(make_user())
    no_english(client, url, units)


def test_the_unsubscribe_pages_have_no_english_left(client, busy_issue, city):
    issue, _content, rosa, _fran = busy_issue
    for scope, target in [
        ("issue", issue.pk),
        ("ward", Ward.objects.get().pk),
        ("digest", None),
        ("department", city["department"].pk),
        ("escalation", None),
        ("all", None),
    ]:
        token = links.unsubscribe_token(email=rosa.email, scope=scope, target_id=target)
        content = {rosa.email}
        url = reverse("notify:unsubscribe", args=[token])
        pages = no_english(client, url, content)
        if scope == "department":
            assert "Transporte" in pages["es"]
        if scope == "issue":
            assert issue.public_id in pages["es"]
        for view in ("unsubscribe", "resubscribe"):
            target_url = reverse(f"notify:{view}", args=[token])
            english = page(client, target_url, "en", (200,), "post")
            for language in LANGUAGES:
                translated = page(client, target_url, language, (200,), "post")
                left = leftover_english(english, translated, content | {issue.public_id})
                assert left == [], (scope, view, language)


def test_visible_helper_still_sees_buttons():
    # A guard for this file's reuse: the shared helper reads button values and labels.
    assert "Go" in visible('<input type="submit" value="Go">')
    assert "Menu" in ALLOWED
