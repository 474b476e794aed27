"""generate_issues: realistic synthetic issues inside the wards, with histories, and no email."""

import pytest
from django.core.management import CommandError

from departments.models import ServiceType, Ward
from issues.models import Issue, Notification, StatusChange

pytestmark = pytest.mark.django_db


def test_it_loads_the_demo_city_when_empty_and_places_every_issue_in_its_ward(run_command):
    output = run_command("generate_issues", "400", "--seed", "3", "--no-progress")

    assert "400 issues" in output
    assert Ward.objects.count() == 50
    assert ServiceType.objects.exists()
    issues = list(Issue.objects.values_list("latitude", "longitude", "ward_id", "needs_triage"))
    assert len(issues) == 400
    found = Ward.objects.ids_for_points((lat, lon) for lat, lon, _w, _t in issues)
    # Simplified neighbours share edges to within a metre: allow a point on a boundary.
    agree = sum(1 for (_lat, _lon, ward, _t), f in zip(issues, found, strict=True) if f == ward)
    assert agree >= 398
    assert not any(triage for *_rest, triage in issues)
    assert Notification.objects.count() == 0


def test_issues_have_histories_that_match_their_status(run_command):
    run_command("generate_issues", "400", "--seed", "4", "--no-progress")

    statuses = set(Issue.objects.values_list("status", flat=True))
    assert {"open", "closed"} <= statuses
    assert len(statuses) >= 4
    assert StatusChange.objects.filter(from_status="", to_status="open").count() == 400
    for issue in Issue.objects.prefetch_related("status_changes")[:100]:
        changes = list(issue.status_changes.all())
        assert changes[-1].to_status == issue.status
        assert changes[0].created_at == issue.requested_at
        assert (issue.closed_at is not None) == (issue.status in ("closed", "archived"))
        assert [c.created_at for c in changes] == sorted(c.created_at for c in changes)
    assert Issue.objects.values("public_id").distinct().count() == 400


def test_the_type_mix_follows_the_catalogue_weights(run_command):
    run_command("generate_issues", "1000", "--seed", "5", "--no-progress")
    potholes = Issue.objects.filter(service_type__service_code="pothole").count()
    meters = Issue.objects.filter(service_type__service_code="water-meter-stolen").count()
    assert potholes > 5 * meters


def test_generating_costs_queries_per_batch_not_per_issue(run_command):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    run_command("generate_issues", "10", "--no-progress")  # the demo city first
    counts = []
    for n in ("1200", "2400"):
        with CaptureQueriesContext(connection) as queries:
            run_command("generate_issues", n, "--batch-size", "2400", "--no-progress")
        counts.append(len(queries))
    # One batch either way. The closing rollup recount costs queries per ward and per chunk of
    # counter rows (wards x types x days), never one per issue: 1,200 more issues, a few more.
    assert counts[1] - counts[0] < 120, counts
    assert Issue.objects.count() == 3610


@pytest.mark.parametrize("args", [["0"], ["5", "--batch-size", "0"]])
def test_nonsense_counts_are_refused(run_command, args):
    with pytest.raises(CommandError):
        run_command("generate_issues", *args)
