"""Open311 in the client's language: the catalogue (service names, descriptions, groups,
questions and their answers, the service notice) follows `locale` (which wins) or
Accept-Language, with Content-Language saying which; service requests stay as written."""

import pytest

from tests.open311.test_post import form

pytestmark = pytest.mark.django_db


@pytest.fixture
def translated_pothole(pothole):
    pothole.translations = {
        "name": {"es": "Bache en la calle", "pl": "Dziura w jezdni"},
        "description": {"es": "Un hoyo en la calle."},
        "service_notice": {"es": "La ciudad lo revisará en 7 días."},
    }
    pothole.save()
    size = pothole.attributes.get(code="SIZE")
    size.translations = {
        "description": {"es": "¿Qué tamaño tiene?"},
        "choice:large": {"es": "Grande"},
    }
    size.save()
    return pothole


def names(response) -> dict:
    return {s["service_code"]: s["service_name"] for s in response.json()}


def test_accept_language_translates_the_service_list(client, translated_pothole, graffiti):
    response = client.get("/open311/v2/services.json", HTTP_ACCEPT_LANGUAGE="es-MX,es;q=0.9")
    assert response["Content-Language"] == "es"
    assert "Accept-Language" in response["Vary"]
    listed = {s["service_code"]: s for s in response.json()}
    assert listed["pothole"]["service_name"] == "Bache en la calle"
    assert listed["pothole"]["description"] == "Un hoyo en la calle."
    # Not translated: the city's own words, never a blank.
    assert listed["graffiti"]["service_name"] == "Graffiti Removal"


def test_the_locale_parameter_wins_over_accept_language(client, translated_pothole):
    response = client.get("/open311/v2/services.json?locale=pl", HTTP_ACCEPT_LANGUAGE="es")
    assert response["Content-Language"] == "pl"
    assert names(response)["pothole"] == "Dziura w jezdni"
    # Nothing asked: the city's default.
    plain = client.get("/open311/v2/services.json")
    assert plain["Content-Language"] == "en" and names(plain)["pothole"] == "Pothole in Street"


def test_the_cached_list_is_kept_per_language(client, translated_pothole):
    for _ in range(2):
        assert names(client.get("/open311/v2/services.json?locale=es"))["pothole"] == (
            "Bache en la calle"
        )
        english = client.get("/open311/v2/services.json", HTTP_ACCEPT_LANGUAGE="en")
        assert names(english)["pothole"] == "Pothole in Street"
        spanish = client.get("/open311/v2/services.json", HTTP_ACCEPT_LANGUAGE="es")
        assert names(spanish)["pothole"] == "Bache en la calle"
        assert spanish["Content-Language"] == "es"


def test_the_definition_translates_questions_and_answers_keeping_keys(client, translated_pothole):
    response = client.get("/open311/v2/services/pothole.json?locale=es-ES")
    assert response["Content-Language"] == "es"
    size = next(a for a in response.json()["attributes"] if a["code"] == "SIZE")
    assert size["description"] == "¿Qué tamaño tiene?"
    assert size["values"] == [{"key": "small", "name": "Small"}, {"key": "large", "name": "Grande"}]
    xml = client.get("/open311/v2/services/pothole.xml?locale=es").content.decode()
    assert "<name>Grande</name>" in xml and "<key>large</key>" in xml


def test_gettexts_spelling_and_an_unspoken_language(client, translated_pothole):
    chinese = client.get("/open311/v2/services.json?locale=zh_Hans")
    assert chinese["Content-Language"] == "zh-hans"
    finnish = client.get("/open311/v2/services.json?locale=fi-FI")
    assert finnish.status_code == 200 and finnish["Content-Language"] == "en"
    assert names(finnish)["pothole"] == "Pothole in Street"


def test_a_malformed_locale_is_a_400_that_says_why(client, translated_pothole):
    response = client.get("/open311/v2/services.json?locale=<script>")
    assert response.status_code == 400
    assert "locale" in response.json()[0]["description"]


def test_requests_stay_as_the_resident_wrote_them(client, translated_pothole, api_key, wards):
    posted = client.post(
        "/open311/v2/requests.json?locale=es",
        form(api_key, description="Deep hole by the bus stop", address_string="121 N LaSalle"),
    )
    assert posted.status_code == 200, posted.content
    assert posted.json()[0]["service_notice"] == "La ciudad lo revisará en 7 días."
    public_id = posted.json()[0]["service_request_id"]
    shown = client.get(f"/open311/v2/requests/{public_id}.json?locale=es").json()[0]
    assert shown["description"] == "Deep hole by the bus stop"
    assert shown["address"].startswith("121 N LaSalle")
