"""The city's system misbehaving, for real: its process stopped, its proxy answering 500, cutting
the answer off, answering garbage, hanging, handing out a token, refusing a type. Every report ends
sent exactly once or visibly failed; none is lost and none is created twice upstream."""

from datetime import timedelta

import pytest

from departments.models import ServiceTypeUpstream
from issues.models import Notification, UpstreamHealth, UpstreamSend, UpstreamState
from issues.upstream import delivery, payloads
from issues.upstream.client import Client
from tests.factories import make_service_type, make_staff
from tests.upstream.conftest import report, send_due, time_passes
from tests.upstream.live import Rule

pytestmark = pytest.mark.django_db

REQUESTS = "/open311/v2/requests.json"


def assert_each_sent_exactly_once(city_system, issues) -> None:
    for issue in issues:
        issue.refresh_from_db()
        row = UpstreamSend.objects.get(issue=issue, kind="report")
        assert row.state == UpstreamState.SENT, (row.state, row.last_error)
        assert issue.external_id == row.remote_id
        there = city_system.requests_mentioning(issue.public_id, "POT")
        assert [r["service_request_id"] for r in there] == [issue.external_id]


@pytest.mark.slow
@pytest.mark.parametrize("path", ["direct", "behind a gateway"])
def test_city_down_during_50_reports_sends_each_once_when_it_is_back(
    ours, city_system, proxy, path, django_capture_on_commit_callbacks
):
    """Direct, the stopped city refuses the connection (nothing was sent); behind a gateway it
    answers 502 (something may have been), so each report is looked for before it is posted."""
    if path == "direct":
        ours.endpoint.base_url = f"{city_system.url}/open311/v2/"
        ours.endpoint.save()
    city_system.stop()
    try:
        issues = report(ours.pothole, 50)
        with django_capture_on_commit_callbacks(execute=True):
            assert send_due() == {"pending": 50}
        rows = UpstreamSend.objects.filter(kind="report")
        maybe_sent = path != "direct"
        assert set(rows.values_list("state", "attempts", "maybe_sent")) == {
            ("pending", 1, maybe_sent)
        }
        assert ("Could not reach" if path == "direct" else "HTTP 502") in rows.first().last_error
        # The department hears once that its city system is down, not fifty times.
        alerts = Notification.objects.filter(event="upstream_failing")
        assert list(alerts.values_list("recipient_email", flat=True)) == ["streets@ours.example"]
        assert UpstreamHealth.objects.get().consecutive_failures == 50
        time_passes()
        with django_capture_on_commit_callbacks(execute=True):
            assert send_due() == {"pending": 50}  # still down: still waiting, no second alert
        assert alerts.count() == 1
    finally:
        city_system.start()
    time_passes()
    assert send_due() == {"sent": 50}
    assert_each_sent_exactly_once(city_system, issues)
    assert UpstreamHealth.objects.get().consecutive_failures == 0
    time_passes()
    assert send_due() == {}


def test_a_500_after_the_city_created_it_is_found_there_not_sent_again(ours, city_system, proxy):
    created_then_500, refused_with_500 = report(ours.pothole, 2)
    proxy.add(Rule("POST", REQUESTS, "forward_then_500"), Rule("POST", REQUESTS, "fail_500"))
    assert send_due() == {"pending": 2}
    assert UpstreamSend.objects.filter(maybe_sent=True).count() == 2
    time_passes()
    assert send_due() == {"sent": 2}
    assert_each_sent_exactly_once(city_system, [created_then_500, refused_with_500])
    # The first was found by looking; only the second was posted again.
    assert proxy.posts(REQUESTS) == 3


@pytest.mark.parametrize("fault", ["forward_then_cut", "forward_then_garbage", "forward_then_hang"])
def test_an_answer_cut_off_unreadable_or_too_late_is_followed_by_a_look_not_a_second_post(
    ours, city_system, proxy, fault
):
    issues = report(ours.pothole, 2)
    proxy.add(Rule("POST", REQUESTS, fault, times=2))
    assert send_due() == {"pending": 2}
    assert all(UpstreamSend.objects.values_list("maybe_sent", flat=True))
    time_passes()
    assert send_due() == {"sent": 2}
    assert_each_sent_exactly_once(city_system, issues)
    assert proxy.posts(REQUESTS) == 2


def test_a_token_instead_of_an_id_is_resolved_and_never_posted_again(ours, city_system, proxy):
    (issue,) = report(ours.pothole)
    # The city answers with a token, and is not ready to say its id the first time it is asked.
    proxy.add(
        Rule("POST", REQUESTS, "forward_as_token"), Rule("GET", "/tokens/", "token_not_ready")
    )
    assert send_due() == {"pending": 1}
    row = UpstreamSend.objects.get()
    assert row.token and not row.remote_id and "token" in row.last_error
    time_passes()
    assert send_due() == {"sent": 1}
    assert_each_sent_exactly_once(city_system, [issue])
    assert proxy.posts(REQUESTS) == 1


def test_a_type_the_city_refuses_fails_visibly_and_is_sent_after_the_mapping_is_fixed(
    ours, city_system, proxy, client
):
    ServiceTypeUpstream.objects.filter(service_type=ours.pothole).update(service_code="NOPE")
    (issue,) = report(ours.pothole)
    assert send_due() == {"failed": 1}
    row = UpstreamSend.objects.get()
    assert "HTTP 404" in row.last_error and "NOPE" in row.last_error
    assert not row.maybe_sent
    time_passes()
    assert send_due() == {}  # a refusal is not retried by itself

    # Staff see it on the issue page, with the city's reason and "Send again".
    crew = make_staff(ours.streets)
    client.force_login(crew)
    page = client.get(f"/admin/issues/issue/{issue.pk}/change/").content.decode()
    assert "NOPE" in page and "Send again" in page
    assert (
        issue.public_id in client.get("/admin/issues/issue/", {"city": "failed"}).content.decode()
    )

    ServiceTypeUpstream.objects.filter(service_type=ours.pothole).update(service_code="POT")
    response = client.post(f"/admin/issues/issue/{issue.pk}/work/send_again/", {"send": row.pk})
    assert response.status_code == 302
    assert send_due() == {"sent": 1}
    assert_each_sent_exactly_once(city_system, [issue])


def test_a_type_the_city_does_not_know_under_its_answers_fails_with_the_citys_words(
    ours, city_system
):
    # Our own code for a type the city has under another: its answer keys are not the city's.
    ServiceTypeUpstream.objects.filter(service_type=ours.pothole).update(attribute_map={})
    report(ours.pothole)
    assert send_due() == {"failed": 1}
    assert "SIZE" in UpstreamSend.objects.get().last_error


def test_a_report_that_may_have_arrived_is_not_posted_again_when_the_city_cannot_say(
    ours, city_system, proxy
):
    (issue,) = report(ours.pothole)
    proxy.add(Rule("POST", REQUESTS, "fail_500"))
    send_due()
    time_passes()
    # The city's request list is down too: we cannot tell, so we wait rather than post.
    proxy.add(Rule("GET", REQUESTS, "fail_500"))
    assert send_due() == {"pending": 1}
    assert proxy.posts(REQUESTS) == 1
    time_passes()
    assert send_due() == {"sent": 1}
    assert_each_sent_exactly_once(city_system, [issue])


def test_a_switched_off_endpoint_keeps_its_reports_waiting(ours, city_system):
    ours.endpoint.active = False
    ours.endpoint.save()
    report(ours.pothole)
    assert send_due() == {"skipped": 1}
    assert UpstreamSend.objects.get().attempts == 0
    ours.endpoint.active = True
    ours.endpoint.save()
    assert send_due() == {"sent": 1}


def test_a_type_kept_local_and_an_import_are_never_sent(ours):
    ServiceTypeUpstream.objects.filter(service_type=ours.pothole).update(never_send=True)
    report(ours.pothole)
    report(make_service_type(ours.streets, code="other"), attributes={}, source="import")
    assert not UpstreamSend.objects.exists()


def test_a_worker_that_died_mid_post_leaves_the_row_to_be_looked_for(ours, city_system, proxy):
    """The process died after its POST left and before it recorded the answer: the row is still
    claimed and marked maybe-sent; once the claim lapses the next worker looks first."""
    (issue,) = report(ours.pothole)
    row = UpstreamSend.objects.get()
    delivery._claim(row.pk)
    delivery._mark_posting(row)
    mapping = ServiceTypeUpstream.objects.get()
    Client(ours.endpoint).post_request(
        payloads.report_form(issue, endpoint=ours.endpoint, mapping=mapping)
    )  # the POST that went out before the process died
    assert send_due() == {"skipped": 1}  # still claimed by the dead worker
    UpstreamSend.objects.update(claimed_until=None)  # the claim lapses
    time_passes()
    assert send_due() == {"sent": 1}
    assert_each_sent_exactly_once(city_system, [issue])
    assert proxy.posts(REQUESTS) == 1


def test_a_city_that_will_not_list_its_requests_gets_no_second_post(ours, city_system, proxy):
    (issue,) = report(ours.pothole)
    proxy.add(Rule("POST", REQUESTS, "forward_then_500"), Rule("GET", REQUESTS, "fail_404"))
    send_due()
    time_passes()
    assert send_due() == {"pending": 1}  # it cannot be asked: it waits, not posted again
    assert "cannot say" in UpstreamSend.objects.get().last_error
    assert proxy.posts(REQUESTS) == 1
    time_passes()
    assert send_due() == {"sent": 1}  # it lists again: found, adopted
    assert_each_sent_exactly_once(city_system, [issue])


def test_no_post_starts_that_could_outlast_the_workers_claim(ours, proxy, monkeypatch):
    """A claim lapses after LEASE; a POST that might still be running then could meet a second
    worker's. So none starts unless the endpoint's timeout fits in what is left."""
    monkeypatch.setattr(delivery, "LEASE", timedelta(seconds=1))  # shorter than the 2 s timeout
    report(ours.pothole)
    assert send_due() == {"pending": 1}
    assert "ran out of time" in UpstreamSend.objects.get().last_error
    assert proxy.posts(REQUESTS) == 0
