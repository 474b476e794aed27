"""The ward dashboards in every language: every page (the league, a ward with issues in several
statuses and types so that every chart has data, the comparison, the types and a type, the
monthly report, my wards signed in, the bad-request page) has no English left in what a person
reads, the charts' SVG text (titles, descriptions, labels) included, and the definitions too;
numbers and dates are written the language's way; and the ward figures' cache never serves one
language's type names to another."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone, translation

from issues.dashboards.ward import cached_ward_dashboard
from issues.models import HotspotAlert
from tests.dashboards.conftest import build_scenario, load_some_wards
from tests.factories import make_user
from tests.i18n.test_pages_translated import (
    LANGUAGES,
    POTHOLE_NAMES,
    get,
    leftover_english,
    visible,
)

pytestmark = pytest.mark.django_db

NAMES = {
    "pothole": POTHOLE_NAMES,
    "graffiti": {
        "es": "Pintadas",
        "pl": "Graffiti na murach",
        "zh-hans": "涂鸦",
        "ar": "كتابات على الجدران",
    },
}
# The wards' names as the city wrote them (city content, like a street name), alone and as a
# page's title.
WARD_NAMES = {f"Ward {n}" for n in (1, 2, 3, 11)} | {
    f"Ward {n} · {settings.SITE_NAME}" for n in (1, 2, 3, 11)
}


@pytest.fixture
def scenario(db, department):
    s = build_scenario(load_some_wards(), department)
    for service_type in (s.pothole, s.graffiti):
        service_type.translations = {"name": NAMES[service_type.service_code]}
        service_type.save()
    now = timezone.now()
    first = s.issues[0]
    for key, expected in (("a", 0.004), ("b", None)):
        HotspotAlert.objects.create(
            service_type=s.pothole,
            ward=s.ward,
            latitude=first.latitude,
            longitude=first.longitude,
            radius_m=250,
            report_count=3,
            window_start=now - timedelta(days=7),
            window_end=now,
            key=key,
            expected_count=expected,
        )
    return s


def pages(s) -> list[str]:
    slug = s.ward.slug
    month = timezone.localdate().strftime("%Y-%m")
    return [
        "/wards/",
        "/wards/?sort=median_days",
        "/wards/?sort=sla_share&dir=asc",
        f"/wards/{slug}/",
        f"/wards/{s.other_ward.slug}/",
        f"/wards/{slug}/report/?month={month}",
        f"/wards/{slug}/report/",
        "/wards/compare/",
        f"/wards/compare/?wards={s.ward.number}&wards={s.other_ward.number}",
        "/wards/types/",
        "/wards/types/pothole/",
        "/wards/types/graffiti/",
        # The bad-request page, for each message it can carry.
        "/wards/?sort=nonsense",
        "/wards/?dir=sideways",
        "/wards/compare/?wards=x",
        "/wards/compare/?wards=99",
        "/wards/compare/?wards=1,2,3,11,12,13",
        f"/wards/{slug}/report/?month=13-2026",
    ]


# A chart bar's hover title: a ward's name and its figure ("Ward 1: 9").
WARD_FIGURE = re.compile(r"^Ward \d+: [\d.,–]+$")


def no_english_left(client, url: str) -> dict[str, list[str]]:
    english = get(client, url, "en")
    leftovers = {}
    for language in LANGUAGES:
        translated = get(client, url, language)
        assert f'<html lang="{language}"' in translated
        leftovers[language] = [
            piece
            for piece in leftover_english(english, translated, WARD_NAMES)
            if not WARD_FIGURE.match(piece)
        ]
    return leftovers


def test_every_dashboard_page_has_no_english_left(client, scenario):
    for url in pages(scenario):
        assert no_english_left(client, url) == {language: [] for language in LANGUAGES}, url


def test_signed_in_pages_have_no_english_left(client, scenario):
    """An alderman's ward page (the watch and digest forms) and my wards, held and watched."""
    alderman = make_user(notify_ward_digest=True)
    scenario.ward.aldermen.add(alderman)
    client.force_login(alderman)
    client.post(f"/wards/{scenario.other_ward.slug}/watch/", {"action": "watch"})
    for url in (
        "/wards/mine/",
        f"/wards/{scenario.ward.slug}/",
        f"/wards/{scenario.other_ward.slug}/",
    ):
        assert no_english_left(client, url) == {language: [] for language in LANGUAGES}, url
    # A signed-in resident watching nothing: the sign-in prompt and the empty list.
    client.force_login(make_user())
    for url in ("/wards/mine/", f"/wards/{scenario.ward.slug}/"):
        assert no_english_left(client, url) == {language: [] for language in LANGUAGES}, url
    client.logout()
    assert no_english_left(client, f"/wards/{scenario.ward.slug}/") == {
        language: [] for language in LANGUAGES
    }


def test_the_charts_and_definitions_are_translated(client, scenario):
    """The SVG's words (title, desc, bar titles, axis names) and the figures' definitions are
    translated, not skipped; numbers and week labels in the charts are the language's."""
    url = f"/wards/{scenario.ward.slug}/"
    english = get(client, url, "en")
    spanish = get(client, url, "es")
    assert 'class="wards-defns"' in spanish and "<svg" in spanish
    assert "Reportes por estado" in spanish  # the status chart's title
    assert "Número de reportes abiertos" in spanish  # an axis name
    assert "Semana del" in spanish  # the weekly chart's bar titles
    assert "cuantos menos, mejor" in spanish.lower()  # a definition's "fewer is better"
    assert "Bache en la calle" in spanish and "Pothole in Street" not in spanish
    # Weeks under the bars: "Nov 23" in English, "23 Nov" in Spanish, "11月23日" in Chinese.
    today = timezone.localdate()
    # The first of the 26 weeks has a label under it (every fourth week has one).
    monday = today - timedelta(days=today.weekday(), weeks=25)
    with translation.override("en"):
        from django.utils.formats import date_format

        english_week = date_format(monday, "M j")
    assert f">{english_week}</text>" in english
    assert f">{english_week}</text>" not in spanish
    chinese = get(client, url, "zh-hans")
    assert f">{monday.month}月{monday.day}日</text>" in chinese
    # Every piece of the charts is translated in every language (the SVG on its own).
    for language in LANGUAGES:
        page = get(client, url, language)
        english_svg = "".join(re.findall(r"<svg.*?</svg>", english, re.S))
        svg = "".join(re.findall(r"<svg.*?</svg>", page, re.S))
        assert len(visible(svg)) > 20
        left = leftover_english(english_svg, svg, WARD_NAMES)
        assert [piece for piece in left if not WARD_FIGURE.match(piece)] == [], language


def test_numbers_dates_and_plurals_follow_the_language(client, scenario):
    url = f"/wards/{scenario.ward.slug}/"
    english, spanish, polish = (get(client, url, lang) for lang in ("en", "es", "pl"))
    # Graffiti's median, 2.5 days, with the language's decimal comma.
    assert ">2.5<" in english and ">2,5<" in spanish and ">2,5<" in polish
    # Dates in the language's own words and order.
    with translation.override("es"):
        from django.utils.formats import date_format

        today = date_format(timezone.localdate(), "DATE_FORMAT")
    assert today in spanish and " de " in today
    # Ordinals from the language, never an English suffix on a number.
    assert "1st of" in english or "2nd of" in english
    assert "º de " in spanish  # Django's Spanish ordinal: "1º de 4 distritos"
    assert "st of" not in spanish and "nd of" not in spanish
    # Plurals: Arabic's form for 11 to 99 ("90 يومًا"), Polish's for 26 weeks ("26 tygodni").
    arabic = get(client, url, "ar")
    assert "90 يومًا" in arabic
    assert "26 tygodni" in polish
    # The hotspot with its counted reports, in a whole sentence per language.
    assert "3</a> zgłoszenia" in polish and "3</a> reportes" in spanish
    # The monthly report's month name.
    month = timezone.localdate().strftime("%Y-%m")
    report = get(client, f"/wards/{scenario.ward.slug}/report/?month={month}", "es")
    with translation.override("es"):
        assert date_format(timezone.localdate(), "YEAR_MONTH_FORMAT") in report


def test_the_ward_figures_cache_keeps_each_language_apart(client, scenario):
    """The cached figures carry the types' and statuses' names: a page rendered in English
    first must not hand its English names to the Spanish reader a moment later."""
    with translation.override("en"):
        english = cached_ward_dashboard(ward=scenario.ward)
    with translation.override("es"):
        spanish = cached_ward_dashboard(ward=scenario.ward)
    assert {r.name for r in english.by_type} == {"Pothole in Street", "Graffiti"}
    assert {r.name for r in spanish.by_type} == {"Bache en la calle", "Pintadas"}
    assert {label for _v, label, _n in spanish.by_status} >= {"Cerrado"}
    # And through the pages (the public page cache keys on the language as well).
    get(client, f"/wards/{scenario.ward.slug}/", "en")
    polish = get(client, f"/wards/{scenario.ward.slug}/", "pl")
    assert "Dziura w jezdni" in polish and "Pothole in Street" not in polish


def test_arabic_chart_labels_read_right_to_left_in_a_left_to_right_chart(client, scenario):
    """The SVG keeps its axes and numbers left to right (site.css); each Arabic label is a
    right-to-left isolate inside it, so "0-7 يوم" keeps its number where an Arabic reader
    expects it. Other languages' labels are left as they are."""
    url = f"/wards/{scenario.ward.slug}/"
    arabic = get(client, url, "ar")
    assert '<html lang="ar" dir="rtl"' in arabic
    assert "\u2067حفرة في الشارع\u2069</text>" in arabic  # a type's bar
    assert "\u2067عدد البلاغات المفتوحة\u2069</text>" in arabic  # an axis name
    assert "\u2067" not in get(client, url, "es")


def test_watching_and_the_digest_answer_in_the_language(client, scenario):
    alderman = make_user(notify_ward_digest=False)
    scenario.ward.aldermen.add(alderman)
    client.force_login(alderman)
    slug = scenario.ward.slug
    answers = {
        "es": ("Recibirá un correo electrónico", "Ya no sigue", "Recibirá un resumen diario"),
        "pl": ("Otrzymasz e-mail", "Nie obserwujesz już", "Będziesz otrzymywać"),
        "zh-hans": ("都会收到一封电子邮件", "您已不再关注", "您将收到"),
        "ar": ("ستتلقى رسالة بريد إلكتروني", "لم تعد تتابع", "ستتلقى ملخصًا يوميًا"),
    }
    for language, (watched, unwatched, digest) in answers.items():
        headers = {"HTTP_ACCEPT_LANGUAGE": language}
        page = client.post(f"/wards/{slug}/watch/", {"action": "watch"}, follow=True, **headers)
        assert watched in page.content.decode() and "Ward 1" in page.content.decode()
        page = client.post(f"/wards/{slug}/watch/", {"action": "unwatch"}, follow=True, **headers)
        assert unwatched in page.content.decode()
        page = client.post("/wards/digest/", {"notify_ward_digest": "on"}, follow=True, **headers)
        assert digest in page.content.decode()


def test_chart_numbers_are_grouped_the_language_way():
    """A busy type's weekly chart across the city: its axis and its bars' titles write 2,000 as
    each language does, even inside the SVG (which is otherwise left unlocalised)."""
    from issues.dashboards.charts import weekly_chart
    from issues.dashboards.ward import WeekRow

    weeks = [WeekRow(start=timezone.localdate() - timedelta(weeks=1), opened=1500, closed=1200)]
    rendered = {}
    for language in ("en", "es", "pl"):
        with translation.override(language):
            chart = weekly_chart(title="t", desc="d", weeks=weeks)
            rendered[language] = chart.svg()
    assert ">2,000</text>" in rendered["en"] and "1,500 opened" in rendered["en"]
    assert ">2\xa0000</text>" in rendered["es"] and "1\xa0500 abiertos" in rendered["es"]
    assert ">2\xa0000</text>" in rendered["pl"] and "otwarte 1\xa0500" in rendered["pl"]
