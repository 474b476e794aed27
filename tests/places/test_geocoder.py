"""The geocoder's HTTP backend against a live CivicFix (its /places/search and /places/reverse
speak Nominatim's JSON), never a mock; and the fall back to the gazetteer when the server
refuses connections or hangs."""

import socket
import time

import pytest

from departments.models import Place
from departments.places.geocoder import Gazetteer, NominatimHTTP, geocoder
from tests.places.small import load_small_gazetteer


@pytest.fixture
def places(chicago_wards, tmp_path):
    return load_small_gazetteer(tmp_path)


def test_the_default_geocoder_is_the_gazetteer(settings):
    settings.GEOCODER_URL = ""
    assert isinstance(geocoder(), Gazetteer)


def test_the_http_backend_finds_places_on_a_live_civicfix(live_server, places, settings):
    settings.GEOCODER_URL = f"{live_server.url}/places"
    backend = geocoder()
    assert isinstance(backend, NominatimHTTP)
    results = backend.search("addison and ashland")
    assert results[0].name == "N Ashland Ave & W Addison St"
    assert results[0].ward_number == 47  # placed in our wards by us, not by the server
    named = backend.reverse(41.94699, -87.66850)
    assert named.name == "near N Ashland Ave & W Addison St"
    assert backend.reverse(41.80, -87.30) is None  # the lake: Nominatim's "Unable to geocode"


def test_answers_are_cached(live_server, places, settings):
    backend = NominatimHTTP(f"{live_server.url}/places", timeout=2)
    first = backend.search("kedzie & north")
    # The server's places gone, the answer still comes from the cache, without asking.
    Place.objects.all().delete()
    assert backend.search("kedzie & north") == first
    assert backend.search("ashland & addison") == []


def test_a_refused_server_falls_back_to_the_gazetteer(places):
    backend = NominatimHTTP("http://127.0.0.1:1/places", timeout=1)  # nothing listens on port 1
    assert backend.search("ashland & addison")[0].name == "N Ashland Ave & W Addison St"
    assert backend.reverse(41.94699, -87.66850).name == "near N Ashland Ave & W Addison St"


def test_a_hung_server_falls_back_within_its_timeout(places):
    # A socket that accepts connections (the kernel's backlog) and never answers.
    hung = socket.socket()
    hung.bind(("127.0.0.1", 0))
    hung.listen(8)
    try:
        backend = NominatimHTTP(f"http://127.0.0.1:{hung.getsockname()[1]}", timeout=0.5)
        started = time.monotonic()
        results = backend.search("ashland & addison")
        assert time.monotonic() - started < 3
        assert results[0].name == "N Ashland Ave & W Addison St"
    finally:
        hung.close()
