"""A light first page: ward outlines under a versioned URL kept for a year, responses compressed,
static files hashed and compressed by the release step's collectstatic (issue 19)."""

import gzip
import json
import re

import pytest
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse

from departments.models import Ward
from tests.factories import make_issue


def _map_config(client) -> dict:
    html = client.get(reverse("issues:home")).content.decode()
    start = html.index('<script id="map-config" type="application/json">') + len(
        '<script id="map-config" type="application/json">'
    )
    return json.loads(html[start : html.index("</script>", start)])


def test_home_map_loads_outlines_from_a_versioned_url_kept_for_a_year(client, chicago_wards):
    config = _map_config(client)
    response = client.get(config["wardsUrl"])
    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert len(json.loads(response.content)["features"]) == 50
    # The finer outlines for street zooms are larger than the city-wide ones.
    street = client.get(config["wardsStreetUrl"])
    assert street.status_code == 200 and len(street.content) > len(response.content)


def test_an_edited_boundary_gets_a_new_outline_url_and_the_old_one_redirects(client, chicago_wards):
    before = _map_config(client)["wardsUrl"]
    ward = Ward.objects.get(number=1)
    ward.name = "Ward One (renamed)"
    ward.save()
    after = _map_config(client)["wardsUrl"]
    assert after != before
    old = client.get(before)
    assert old.status_code == 302 and old["Location"] == after
    # The redirect must not be kept for a year: the next change moves the URL again.
    assert old["Cache-Control"] == "public, max-age=60"


def test_an_unknown_level_of_detail_is_a_clear_404(client, chicago_wards):
    version = _map_config(client)["wardsUrl"].split("/")[-2]
    response = client.get(reverse("issues:ward_outlines_at", args=[version, "satellite"]))
    assert response.status_code == 404
    assert "city, street" in response.content.decode()


def test_city_outlines_compress_to_a_fraction(client, chicago_wards):
    url = _map_config(client)["wardsUrl"]
    plain = client.get(url)
    packed = client.get(url, headers={"accept-encoding": "gzip"})
    assert packed["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(packed.content)) == json.loads(plain.content)
    # 50 Chicago wards: ~60 KB of GeoJSON, ~12 KB on the wire.
    assert len(packed.content) < 16_000 < len(plain.content)


@pytest.mark.parametrize(
    "url",
    ["issues:home", "opendata:issues_csv", "open311:requests"],
)
def test_pages_and_data_are_gzipped_for_clients_that_ask(client, service_type, url):
    for _ in range(30):
        make_issue(service_type)
    kwargs = {"fmt": "json"} if url == "open311:requests" else {}
    path = reverse(url, kwargs=kwargs)
    plain = client.get(path)
    packed = client.get(path, headers={"accept-encoding": "gzip, deflate, br"})
    assert plain.status_code == packed.status_code == 200
    assert "Content-Encoding" not in plain
    assert packed["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed["Vary"]
    body = packed.getvalue() if packed.streaming else packed.content
    expected = plain.getvalue() if plain.streaming else plain.content
    assert gzip.decompress(body) == expected


def test_home_map_scripts_do_not_block_the_first_render(client, db):
    html = client.get(reverse("issues:home")).content.decode()
    for name in ("leaflet/leaflet.js", "js/civicmap.js", "js/map.js"):
        tag = html[html.index(name) - 40 : html.index(name) + 40]
        assert "defer" in tag, tag


def test_production_static_files_are_hashed_compressed_and_cached_for_a_year(tmp_path, db):
    """What the release step does (collectstatic with the production storage), then the page and
    WhiteNoise as production runs them: no finders, hashed names, gzip copies, far-future."""
    manifest = {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage",
    }
    with override_settings(
        STATIC_ROOT=tmp_path,
        STORAGES={
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": manifest,
        },
        WHITENOISE_USE_FINDERS=False,
        WHITENOISE_AUTOREFRESH=False,
    ):
        call_command("collectstatic", "--no-input", verbosity=0)
        client = Client()  # a fresh handler: WhiteNoise reads its settings when it starts
        html = client.get(reverse("issues:home")).content.decode()
        url = re.search(r'src="(/static/leaflet/leaflet\.[0-9a-f]{12}\.js)"', html).group(1)
        response = client.get(url, headers={"accept-encoding": "gzip"})
        assert response.status_code == 200
        assert response["Content-Encoding"] == "gzip"
        assert "immutable" in response["Cache-Control"]
        assert "max-age=315360000" in response["Cache-Control"]
        size = sum(len(chunk) for chunk in response.streaming_content)
        assert size < 50_000  # leaflet.js is ~147 KB as it is
