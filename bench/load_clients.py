"""bench/load's clients: residents, staff and API harvesters, each a thread with its own cookies
(requests.Session), sending every request to one of the web process sets at random as a load
balancer would (cookies are per host, not per port, so a session works on either).

Every request is timed and recorded under its kind; an answer is an error when it is a 5xx, a
4xx the client did not ask for, or no answer at all. A report (web form or Open311 POST) that got
its success answer is remembered with the unique marker in its description, so the run can
count afterwards that every one of them is stored.
"""

from __future__ import annotations

import io
import random
import re
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field

import requests

CITY_BBOX = (-87.94, 41.64, -87.52, 42.03)  # w, s, e, n: Chicago (as bench/measure.py)
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
ERRORLIST = re.compile(r'<ul class="errorlist.*?</ul>', re.S)
REFERENCE = "/healthz (trivial view, reference)"
NEW_REPORT = re.compile(r"/issues/([^/]+)/\?new=1")


def small_jpeg() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (320, 240), (90, 90, 90)).save(out, format="JPEG", quality=80)
    return out.getvalue()


@dataclass
class Recorder:
    """Times, statuses and errors per kind of request, shared by every client thread."""

    times: dict = field(default_factory=lambda: defaultdict(list))
    errors: dict = field(default_factory=lambda: defaultdict(list))
    timeline: list = field(default_factory=list)  # (second into the run, kind, seconds taken)
    samples: dict = field(default_factory=dict)
    reports: list = field(default_factory=list)  # (marker, public id, second into the run)
    lock: threading.Lock = field(default_factory=threading.Lock)
    started: float = field(default_factory=time.monotonic)

    def record(self, kind: str, seconds: float, problem: str | None) -> None:
        with self.lock:
            self.times[kind].append(seconds)
            self.timeline.append((time.monotonic() - self.started, kind, seconds))
            if problem:
                self.errors[kind].append((round(time.monotonic() - self.started, 1), problem))

    def sample(self, kind: str, text: str) -> None:
        """The first error answer of each kind, what a form said is wrong if it says it."""
        found = ERRORLIST.search(text)
        with self.lock:
            self.samples.setdefault(kind, (found.group(0) if found else "", text))

    def stored_report(self, marker: str, public_id: str) -> None:
        with self.lock:
            self.reports.append((marker, public_id, time.monotonic() - self.started))


class Client:
    """One person (or program) with its own cookies; `ports` are the web sets behind the
    balancer."""

    def __init__(self, ports: list[int], recorder: Recorder, cast: dict, n: int, stop: float):
        self.ports = ports
        self.recorder = recorder
        self.cast = cast
        self.n = n
        self.stop = stop
        self.random = random.Random(f"{type(self).__name__}{n}")
        self.http = requests.Session()
        self.rounds = 0
        self.reports = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.random.choice(self.ports)}{path}"

    def call(self, kind: str, method: str, path: str, ok=(200,), **kw) -> requests.Response | None:
        started = time.perf_counter()
        try:
            response = self.http.request(
                method, self.url(path), timeout=60, allow_redirects=False, **kw
            )
        except requests.RequestException as exc:
            self.recorder.record(kind, time.perf_counter() - started, type(exc).__name__)
            return None
        seconds = time.perf_counter() - started
        problem = None if response.status_code in ok else f"HTTP {response.status_code}"
        self.recorder.record(kind, seconds, problem)
        if problem:
            self.recorder.sample(kind, response.text)
        return response if problem is None else None

    def token(self, response: requests.Response | None) -> str | None:
        match = response is not None and TOKEN.search(response.text)
        return match.group(1) if match else None

    def in_a_ward(self) -> tuple[float, float]:
        """A point in a ward, a few metres from an existing report: a report outside the city
        (the lake, a suburb) is refused, a 400 this bench does not ask for."""
        lat, lon = self.random.choice(self.cast["points"])
        return lat + self.random.uniform(-2e-4, 2e-4), lon + self.random.uniform(-2e-4, 2e-4)

    def issue(self) -> str:
        return self.random.choice(self.cast["issues"])

    def marker(self) -> str:
        self.reports += 1
        return f"loadmark-{self.cast['run']}-{type(self).__name__.lower()}{self.n}-{self.reports}"

    def run(self) -> None:
        while time.monotonic() < self.stop:
            self.rounds += 1
            self.round()

    def round(self) -> None:
        raise NotImplementedError


class Resident(Client):
    """The map, issue pages, a report with a photo every third round, a vote every other one.
    Reading is anonymous (what the page cache serves); voting needs the resident's account."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.member = requests.Session()
        self.member.cookies.set("sessionid", self.cast["resident_sessions"][self.n])
        self.photo = small_jpeg()

    def round(self) -> None:
        w, s, e, n = CITY_BBOX
        self.call("home map page", "GET", "/")
        self.call(
            "map GeoJSON, zoomed out", "GET", f"/map/issues.geojson?bbox={w},{s},{e},{n}&zoom=11"
        )
        lat, lon = self.in_a_ward()
        box = f"{lon - 0.006},{lat - 0.004},{lon + 0.006},{lat + 0.004}"
        self.call("map GeoJSON, zoomed in", "GET", f"/map/issues.geojson?bbox={box}&zoom=16")
        self.call("issue page", "GET", f"/issues/{self.issue()}/")
        if self.rounds % 3 == 0:
            self.report(lat, lon)
        if self.rounds % 2 == 0:
            self.vote()

    def report(self, lat: float, lon: float) -> None:
        token = self.token(self.call("report form", "GET", "/report/"))
        if token is None:
            return
        marker = self.marker()
        data = {
            "csrfmiddlewaretoken": token,
            "service_code": self.cast["web_service_code"],
            "latitude": f"{lat:.6f}",
            "longitude": f"{lon:.6f}",
            "description": f"Meter taken from the pit. {marker}",
            "email": f"load-reporter-{self.n}@example.net",
            "not_duplicate": "1",  # the "Is this it?" step is its own page, timed as a GET
            "website": "",
        }
        files = {"photos": ("meter.jpg", self.photo, "image/jpeg")}
        response = self.call(
            "report sent (photo)", "POST", "/report/", ok=(302,), data=data, files=files
        )
        match = response is not None and NEW_REPORT.search(response.headers.get("Location", ""))
        if match:
            self.recorder.stored_report(marker, match.group(1))
            self.call("issue page", "GET", response.headers["Location"])

    def vote(self) -> None:
        anonymous, self.http = self.http, self.member
        try:
            public_id = self.issue()
            token = self.token(self.call("issue page, signed in", "GET", f"/issues/{public_id}/"))
            if token is not None:
                data = {"csrfmiddlewaretoken": token}
                self.call("vote", "POST", f"/issues/{public_id}/vote/", ok=(302,), data=data)
        finally:
            self.http = anonymous


class Staff(Client):
    """The queue, an issue's workbench page and a status change each round; a bulk close of a
    few issues every fourth round, through the queue's action as the tests post it."""

    QUEUE = "/admin/issues/issue/"

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.http.cookies.set("sessionid", self.cast["staff_session"])
        # Each staff thread works its own slice of the open issues, so no two move one issue.
        self.pool = list(self.cast["staff_issues"][self.n :: self.cast["staff_threads"]])

    def round(self) -> None:
        token = self.token(self.call("staff queue", "GET", self.QUEUE))
        if token is None or len(self.pool) < 6:
            time.sleep(0.5)
            return
        pk = self.pool.pop()
        self.call("staff issue page", "GET", f"{self.QUEUE}{pk}/change/")
        data = {"csrfmiddlewaretoken": token, "to": "acknowledged", "message": "Crew booked."}
        self.call(
            "staff status change", "POST", f"{self.QUEUE}{pk}/work/status/", ok=(302,), data=data
        )
        if self.rounds % 4 == 0:
            chosen = [self.pool.pop() for _ in range(5)]
            data = {
                "csrfmiddlewaretoken": token,
                "action": "close_with_template",
                "_selected_action": chosen,
                "apply": "1",
                "resolution": "fixed",
                "message": "Fixed on the round.",
            }
            self.call("staff bulk close (5)", "POST", self.QUEUE, ok=(302,), data=data)


class Harvester(Client):
    """An Open311 client: pages of requests.json, the service list, a feed, and a POST every
    fifth round with the bench's API key."""

    def round(self) -> None:
        page = self.random.randint(1, 40)
        self.call(
            "Open311 requests.json page",
            "GET",
            f"/open311/v2/requests.json?page={page}&page_size=50",
        )
        self.call("Open311 services.json", "GET", "/open311/v2/services.json")
        self.call("Atom feed of new issues", "GET", "/feeds/issues/new/")
        if self.rounds % 5 == 0:
            self.post()

    def post(self) -> None:
        marker = self.marker()
        lat, lon = self.in_a_ward()
        data = {
            "api_key": self.cast["api_key"],
            "service_code": self.cast["service_code"],
            "lat": f"{lat:.6f}",
            "long": f"{lon:.6f}",
            "attribute[SIZE]": "large",
            "description": f"Deep hole in the lane. {marker}",
            "email": f"load-api-{self.n}@example.net",
        }
        response = self.call(
            "Open311 POST", "POST", "/open311/v2/requests.json", ok=(200, 201), data=data
        )
        if response is not None:
            answer = response.json()[0]
            public_id = answer.get("service_request_id") or answer.get("token")
            self.recorder.stored_report(marker, str(public_id))


class Probe(Client):
    """The trivial view (/healthz), twice a second, timed under the same load: the reference the
    other figures are read against on a machine shared with other work (bench/run's ratios)."""

    def round(self) -> None:
        self.call(REFERENCE, "GET", "/healthz")
        time.sleep(0.5)
