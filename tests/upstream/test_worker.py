"""Our side's real worker: a Celery worker process, the real Redis broker, PostgreSQL shared with
this test, and the city's live CivicFix. Reports committed here reach the city once each, handed
over on commit and sent by the worker; a task delivered twice sends nothing twice."""

import time

import pytest

from issues.models import UpstreamSend, UpstreamState
from issues.upstream.delivery import send_to_city
from tests.notify.test_worker_integration import live_worker, sink  # noqa: F401  (fixtures)
from tests.upstream.conftest import report

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def wait_until_sent(n: int, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if UpstreamSend.objects.filter(state=UpstreamState.SENT).count() >= n:
            return
        time.sleep(0.2)
    states = list(UpstreamSend.objects.values_list("state", "last_error"))
    pytest.fail(f"Not all sent in {seconds} s: {states}")


@pytest.mark.usefixtures("sink")
def test_reports_committed_here_reach_the_city_once_through_the_worker(ours, city_system):
    issues = report(ours.pothole, 10)  # each commits: the worker is handed its row on commit
    wait_until_sent(10)
    # The broker hands the same rows over again (a redelivered task, beat's re-queue).
    send_to_city.delay(list(UpstreamSend.objects.values_list("pk", flat=True)))
    time.sleep(1)
    for issue in issues:
        issue.refresh_from_db()
        there = city_system.requests_mentioning(issue.public_id, "POT")
        assert [r["service_request_id"] for r in there] == [issue.external_id]
