"""The city's system in these tests is a second live CivicFix (tests/upstream/live.py), reached
through a fault-injecting proxy; our side is this test process, whose delivery and polling run
in-process as the worker and beat would run them."""

from __future__ import annotations

import http.cookiejar
import re
import urllib.parse
import urllib.request
from types import SimpleNamespace

import pytest
from django.utils import timezone

from departments.models import ServiceTypeUpstream, UpstreamEndpoint
from issues import services
from issues.models import UpstreamSend
from issues.upstream import delivery
from tests.factories import CITY_HALL, make_attribute, make_department, make_service_type
from tests.upstream.live import FaultProxy, LiveCivicFix


@pytest.fixture(scope="session")
def city_system(tmp_path_factory):
    """The city's own CivicFix, one per test session (and per xdist worker)."""
    city = LiveCivicFix(tmp_path_factory.mktemp("city-system"))
    city.prepare()
    city.start()
    yield city
    city.stop()


@pytest.fixture
def proxy(city_system):
    if city_system.process is None:  # a test stopped it and failed before starting it again
        city_system.start()
    proxy = FaultProxy(city_system.port)
    yield proxy
    proxy.close()


@pytest.fixture
def ours(db, proxy, city_system):
    """Our CivicFix: Streets sends to the city's system (through the proxy); our pothole type is
    their POT, our SIZE question their HOLE_SIZE with other answer keys."""
    endpoint = UpstreamEndpoint(
        name="City 311",
        base_url=f"{proxy.url}/open311/v2/",
        jurisdiction_id="city.example",
        send_updates=True,
        fetch_updates=True,
        timeout_seconds=2,
    )
    endpoint.set_api_key(city_system.seeded["api_key"])
    endpoint.save()
    streets = make_department("Streets", upstream=endpoint, contact_email="streets@ours.example")
    pothole = make_service_type(streets, code="pothole", name="Pothole")
    make_attribute(
        pothole,
        "SIZE",
        "singlevaluelist",
        required=True,
        values=[{"key": "s", "name": "Small"}, {"key": "l", "name": "Large"}],
    )
    ServiceTypeUpstream.objects.create(
        service_type=pothole,
        service_code="POT",
        attribute_map={"SIZE": {"code": "HOLE_SIZE", "values": {"s": "small", "l": "large"}}},
    )
    return SimpleNamespace(endpoint=endpoint, streets=streets, pothole=pothole)


def report(service_type, n: int = 1, **extra) -> list:
    """Residents' reports, made through the service as the report form makes them."""
    made = []
    for i in range(n):
        fields = {
            "service_type": service_type,
            "latitude": CITY_HALL[0] + i * 0.0001,
            "longitude": CITY_HALL[1],
            "address": f"{100 + i} N LaSalle St",
            "description": f"Deep pothole number {i}",
            "attributes": {"SIZE": ["l"]},
            "reporter_email": f"resident{i}@example.org",
            **extra,
        }
        made.append(services.create_issue(**fields))
    return made


def send_due() -> dict:
    """What the worker does with every row that is due (beat's re-queue hands them over)."""
    ids = list(
        UpstreamSend.objects.filter(state="pending", next_attempt_at__lte=timezone.now())
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return delivery.deliver_many(ids)


def time_passes() -> None:
    """The backoff is minutes long: make every waiting row due now."""
    UpstreamSend.objects.filter(state="pending").update(next_attempt_at=timezone.now())


class Workbench:
    """The city's staff in their own CivicFix's workbench, over HTTP like a browser."""

    def __init__(self, city: LiveCivicFix):
        self.city = city
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self._get("/admin/login/")
        self._post(
            "/admin/login/?next=/admin/",
            {"username": city.seeded["crew"], "password": city.seeded["crew_password"]},
        )

    def _csrf(self) -> str:
        return next(c.value for c in self.jar if c.name == "csrftoken")

    def _get(self, path: str) -> str:
        with self.opener.open(f"{self.city.url}{path}", timeout=20) as answer:
            return answer.read().decode()

    def _post(self, path: str, form: dict) -> str:
        data = urllib.parse.urlencode({**form, "csrfmiddlewaretoken": self._csrf()}).encode()
        with self.opener.open(f"{self.city.url}{path}", data=data, timeout=20) as answer:
            return answer.read().decode()

    def close(self, their_id: str, message: str) -> None:
        listing = self._get(f"/admin/issues/issue/?q={their_id}")
        pk = re.search(r"/admin/issues/issue/(\d+)/change/", listing).group(1)
        self._post(
            f"/admin/issues/issue/{pk}/work/status/",
            {"to": "closed", "resolution": "fixed", "template": "", "message": message},
        )
