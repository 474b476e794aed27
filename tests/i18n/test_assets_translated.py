"""City assets and adoption, and the feeds, in each language: every asset and adoption page
(the layers, a layer, an asset, adopting, an adopter, giving up, a visit, the ward figures, "no
adoptions", not found) has no English left, apart from what the city or a resident wrote (the
layer's name and labels, the asset's name, the care task, a visit's note); the feeds' titles
and descriptions are in the reader's language, and the public page cache never gives one
language's feed to a reader of another."""

from __future__ import annotations

import re
from xml.etree import ElementTree

import pytest
from django.test import Client
from django.urls import reverse

from departments.models import Asset
from issues import pagecache, services
from issues.models import VisitOutcome
from tests.factories import make_issue
from tests.i18n.test_pages_translated import LANGUAGES, get, leftover_english

pytestmark = pytest.mark.django_db

TYPE_NAMES = {
    "es": "Marquesina sucia",
    "pl": "Brudna wiata przystankowa",
    "zh-hans": "候车亭脏污",
    "ar": "مظلة حافلات متّسخة",
}
# The layer's words as the city translated them (AssetLayer.translations).
LAYER_WORDS = {
    "name": {"es": "Marquesinas", "pl": "Wiaty", "zh-hans": "候车亭", "ar": "مظلات الحافلات"},
    "asset_label": {"es": "marquesina", "pl": "wiata", "zh-hans": "候车亭", "ar": "مظلة"},
    "asset_label_plural": {"es": "marquesinas", "pl": "wiaty", "zh-hans": "候车亭", "ar": "مظلات"},
    "care_task": {
        "es": "Limpiar la marquesina y recoger la basura",
        "pl": "Sprzątać wiatę i zbierać śmieci",
        "zh-hans": "清洁候车亭并捡拾垃圾",
        "ar": "تنظيف المظلة وجمع النفايات",
    },
}
# What the city and the residents wrote stays as written: the asset's name, kind and ward, the
# adopters' names and their notes.
CITY_AND_RESIDENTS = {
    "Clark & Randolph",
    "Clark & Randolph 1412",
    "1412",
    "· shelter",
    "Omar",
    # The open reports' rows are the issue lists' shared partial (templates/issues/_issue_rows.html,
    # wrapped with the lists), which still prints the type's original name.
    "Dirty Bus Shelter",
    "shelter",
    "Ward 42",
    "Swept the glass and emptied the bin.",
    "The bench is broken.",
}


@pytest.fixture
def translated_shelter(shelter):
    """The shelter, its layer's words and its type's name translated by the city."""
    dirty = shelter.layer.service_types.get()
    dirty.translations = {"name": TYPE_NAMES}
    dirty.save()
    shelter.layer.translations = LAYER_WORDS
    shelter.layer.save()
    return shelter


@pytest.fixture
def adopted(translated_shelter, neighbour, other_neighbour):
    """The shelter adopted by two neighbours (one shows his name), with a visit that found all
    good and one that found it needing repair (a report against it)."""
    shelter = translated_shelter
    mine = services.adopt_asset(asset=shelter, user=neighbour)
    services.adopt_asset(asset=shelter, user=other_neighbour, show_name=True)
    services.log_visit(
        adoption=mine,
        by=neighbour,
        outcome=VisitOutcome.ALL_GOOD,
        note="Swept the glass and emptied the bin.",
    )
    services.log_visit(
        adoption=mine, by=neighbour, outcome=VisitOutcome.NEEDS_REPAIR, note="The bench is broken."
    )
    return mine


def english_and_translated(client: Client, url: str) -> tuple[str, dict[str, str]]:
    return get(client, url, "en"), {language: get(client, url, language) for language in LANGUAGES}


PUBLIC_ID = re.compile(r"^[0-9A-Z]{4}-[0-9A-Z]{4}$")


def leftovers_of(client: Client, url: str) -> dict[str, list[str]]:
    english, pages = english_and_translated(client, url)
    found = {}
    for language, page in pages.items():
        pieces = leftover_english(english, page, CITY_AND_RESIDENTS)
        # A report's id (K7M2-9QXR) is the same in every language.
        found[language] = [piece for piece in pieces if not PUBLIC_ID.match(piece)]
    return found


def assert_no_english_left(client: Client, urls: list[str]) -> None:
    leftovers = {url: leftovers_of(client, url) for url in urls}
    empty = {language: [] for language in LANGUAGES}
    assert leftovers == {url: empty for url in urls}


def public_urls(shelter, adoption) -> list[str]:
    slug = shelter.layer.slug
    return [
        reverse("issues:asset_layers"),
        reverse("issues:asset_layer", args=[slug]),
        reverse("issues:asset_wards", args=[slug]),
        reverse("issues:asset", args=[slug, shelter.source_id]),
        reverse("issues:adopter", args=[adoption.adopter.public_id]),
        reverse("issues:asset", args=[slug, "no-such-asset"]),
        reverse("issues:asset_layer", args=["no-such-layer"]),
    ]


def test_the_public_asset_pages_have_no_english_left(client, shelter, adopted):
    assert_no_english_left(client, public_urls(shelter, adopted))


def test_the_adopters_own_pages_have_no_english_left(client, shelter, adopted, neighbour):
    client.force_login(neighbour)
    slug = shelter.layer.slug
    urls = [
        reverse("issues:asset", args=[slug, shelter.source_id]),  # "you look after it"
        reverse("issues:adopter", args=[adopted.adopter.public_id]),  # "show my name"
        reverse("issues:visit", args=[adopted.pk]),
        reverse("issues:give_up", args=[adopted.pk]),
    ]
    assert_no_english_left(client, urls)


def test_adopting_and_having_nothing_adopted_have_no_english_left(client, translated_shelter):
    shelter = translated_shelter
    from tests.factories import make_user

    client.force_login(make_user("newcomer@example.org", email_verified=True))
    adopt = reverse("issues:adopt", args=[shelter.layer.slug, shelter.source_id])
    assert_no_english_left(client, [adopt, reverse("issues:my_adoptions")])


def test_a_refused_form_and_the_thank_you_are_translated(client, translated_shelter, neighbour):
    shelter = translated_shelter
    client.force_login(neighbour)
    adopt = reverse("issues:adopt", args=[shelter.layer.slug, shelter.source_id])
    refused = client.post(adopt, {}, HTTP_ACCEPT_LANGUAGE="es")
    assert refused.status_code == 400 and "Este campo es obligatorio" in refused.content.decode()
    done = client.post(adopt, {"agree": "on"}, HTTP_ACCEPT_LANGUAGE="es", follow=True)
    html = done.content.decode()
    assert "Gracias: ahora usted cuida este elemento (marquesina)." in html
    assert "Usted lo cuida: Limpiar la marquesina y recoger la basura" in html


def test_the_words_of_the_pages_are_filled_in(client, shelter, adopted):
    slug = shelter.layer.slug
    asset = get(client, reverse("issues:asset", args=[slug, shelter.source_id]), "es")
    # The service type in the reader's language, the adopters "a neighbour" in it too, and the
    # repair report's id inside the sentence.
    assert TYPE_NAMES["es"] in asset and "un vecino" in asset and "Omar" in asset
    assert re.search(r'aviso <span class="request-id">[0-9A-Z-]+</span>', asset)
    layer = get(client, reverse("issues:asset_layer", args=[slug]), "es")
    # The bracket names the layer by its plural in every form: GNU msgfmt --check refuses a
    # form that uses a name (the singular label) the English plural does not have.
    assert "1 elemento (marquesinas)" in layer and "<h1>Marquesinas</h1>" in layer
    assert "una visita cada 30 días" in layer
    # The map's phrases, with their {count} left for the script to fill.
    assert 'data-cluster="Marquesinas: {count}; adoptados: {adopted}.' in layer
    wards = get(client, reverse("issues:asset_wards", args=[slug]), "ar")
    assert "المتبنّى: 1 من أصل مرفق واحد (مظلات)." in wards
    polish = get(client, reverse("issues:asset_wards", args=[slug]), "pl")
    assert "w ostatnich 30 dniach" in polish


def test_numbers_are_grouped_for_the_language(client, shelters):
    Asset.objects.bulk_create(
        Asset(layer=shelters, source_id=str(n), name="", latitude=41.88, longitude=-87.63)
        for n in range(1234)
    )
    url = reverse("issues:asset_layer", args=[shelters.slug])
    assert "1,234 bus shelters" in get(client, url, "en")
    assert "1\xa0234 elementos (bus shelters)" in get(client, url, "es")
    assert "1\xa0234 obiekty (bus shelters)" in get(client, url, "pl")  # Polish "few"
    assert "1234 مرفقًا (bus shelters)" in get(client, url, "ar")


# --- the feeds ---------------------------------------------------------------------------


def feed_texts(body: bytes) -> tuple[str, list[str], list[str]]:
    """The feed's language, its title and subtitle, and its entries' titles."""
    root = ElementTree.fromstring(body)  # noqa: S314 (our own server's output)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    language = root.get("{http://www.w3.org/XML/1998/namespace}lang", "")
    head = [root.findtext("a:title", "", ns), root.findtext("a:subtitle", "", ns)]
    entries = [entry.findtext("a:title", "", ns) for entry in root.findall("a:entry", ns)]
    return language, head, entries


@pytest.fixture
def reported(shelter, adopted):
    issue = make_issue(shelter.layer.service_types.get(), address="121 N LaSalle St")
    return issue


FEEDS = [
    ("/feeds/issues/new/", "Nuevas solicitudes: toda la ciudad"),
    ("/feeds/issues/updated/", "Solicitudes actualizadas: toda la ciudad"),
    ("/feeds/wards/42/new/", "Nuevas solicitudes: Ward 42"),
    ("/feeds/types/dirty-bus-shelter/new/", f"Nuevas solicitudes: {TYPE_NAMES['es']}"),
]


@pytest.mark.parametrize(("url", "title"), FEEDS)
def test_a_feed_asked_for_in_spanish_has_spanish_titles(client, reported, url, title):
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 200
    language, head, entries = feed_texts(response.content)
    assert language == "es"
    assert head == [
        title,
        "Avisos públicos del sistema de solicitudes de la ciudad, los más recientes primero.",
    ]
    # The type in Spanish, the address as written, the status in Spanish.
    assert f"{TYPE_NAMES['es']}, 121 N LaSalle St (Nuevo)" in entries


def test_the_issue_area_and_alert_feeds_are_in_the_readers_language(client, reported):
    issue_feed = client.get(
        reverse("issues:issue_feed", args=[reported.public_id]), HTTP_ACCEPT_LANGUAGE="pl"
    )
    language, head, _entries = feed_texts(issue_feed.content)
    assert language == "pl"
    assert head[0] == f"{TYPE_NAMES['pl']} {reported.public_id}: historia zgłoszenia"
    area = client.get(
        "/feeds/area.atom?lat=41.8837&lon=-87.6324&radius=500", HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    language, head, entries = feed_texts(area.content)
    assert language == "zh-hans"
    assert head[0].endswith("周围 500 米内的新报告")
    assert any(
        entry.startswith(f"[{reported.public_id}] {TYPE_NAMES['zh-hans']}：") for entry in entries
    )
    # A shared cache in front keeps one copy per language.
    assert {"Accept-Language", "Cookie"} <= {v.strip() for v in area["Vary"].split(",")}
    refused = client.get("/feeds/area.atom?lat=x", HTTP_ACCEPT_LANGUAGE="ar")
    assert refused.status_code == 400 and "lat" in refused.content.decode()
    assert "Give lat" not in refused.content.decode()


def test_the_page_cache_never_serves_one_languages_feed_to_another(client, reported, monkeypatch):
    monkeypatch.setattr(pagecache, "_minute", lambda: 29_000_000)
    url = "/feeds/issues/new/"
    spanish = client.get(url, HTTP_ACCEPT_LANGUAGE="es")
    assert spanish["X-Page-Cache"] == "miss"
    assert client.get(url, HTTP_ACCEPT_LANGUAGE="es")["X-Page-Cache"] == "hit"
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert english["X-Page-Cache"] == "miss"
    assert feed_texts(english.content)[1][0] == "New issues: all of the city"
    assert feed_texts(english.content)[0] == "en"
    arabic = Client()
    arabic.cookies["django_language"] = "ar"
    from_cookie = arabic.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert feed_texts(from_cookie.content)[0] == "ar"
    assert feed_texts(client.get(url, HTTP_ACCEPT_LANGUAGE="es").content)[0] == "es"
    for response in (spanish, english, from_cookie):
        assert {"Accept-Language", "Cookie"} <= {v.strip() for v in response["Vary"].split(",")}


def test_what_residents_wrote_stays_as_written_in_a_feed(client, shelter, adopted):
    make_issue(shelter.layer.service_types.get(), description="Glass smashed near the bench")
    response = client.get("/feeds/issues/new/", HTTP_ACCEPT_LANGUAGE="ar")
    language, head, entries = feed_texts(response.content)
    assert language == "ar" and head[0] == "طلبات جديدة: المدينة كلها"
    assert all(entry.startswith(TYPE_NAMES["ar"]) for entry in entries)
    assert "Glass smashed near the bench" in response.content.decode()


def test_the_workbench_edits_a_layers_words_in_each_language(shelters):
    from issues.admin.assets import AssetLayerForm

    data = {
        "name": "Bus shelters",
        "slug": shelters.slug,
        "asset_label": "bus shelter",
        "asset_label_plural": "bus shelters",
        "description": "",
        "adoptable": "on",
        "max_adopters": 2,
        "care_task": "Clean the shelter and pick up litter",
        "care_every_days": 30,
        "asset_label__es": "marquesina",
        "asset_label__zh_hans": "候车亭",
    }
    form = AssetLayerForm(data, instance=shelters)
    assert form.is_valid(), form.errors
    form.save()
    shelters.refresh_from_db()
    assert shelters.translations["asset_label"] == {"es": "marquesina", "zh-hans": "候车亭"}
    assert "name__ar" in AssetLayerForm().fields and "care_task__pl" in AssetLayerForm().fields
