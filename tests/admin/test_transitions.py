"""The one status-change path: every legal and every illegal move, who may make it, and what
each move records (history, timestamps, outbox rows scheduled on commit)."""

import itertools

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from issues import services
from issues.models import Notification, NotificationEvent, Status, StatusChange
from issues.services import ALLOWED_TRANSITIONS, TransitionError
from tests.factories import make_issue, rendered

pytestmark = pytest.mark.django_db

# The only way to reach each status from a new report, through legal moves.
PATH_TO = {
    Status.OPEN: [],
    Status.ACKNOWLEDGED: [Status.ACKNOWLEDGED],
    Status.IN_PROGRESS: [Status.IN_PROGRESS],
    Status.CLOSED: [Status.CLOSED],
    Status.ARCHIVED: [Status.CLOSED, Status.ARCHIVED],
}

EXPECTED_LEGAL = {
    (Status.OPEN, Status.ACKNOWLEDGED),
    (Status.OPEN, Status.IN_PROGRESS),
    (Status.OPEN, Status.CLOSED),
    (Status.ACKNOWLEDGED, Status.IN_PROGRESS),
    (Status.ACKNOWLEDGED, Status.CLOSED),
    (Status.IN_PROGRESS, Status.CLOSED),
    (Status.CLOSED, Status.ARCHIVED),
    (Status.CLOSED, Status.OPEN),
}
ALL_PAIRS = list(itertools.product(Status.values, Status.values))


def issue_in(status, service_type, by):
    issue = make_issue(service_type, reporter_email="pat@example.net")
    for step in PATH_TO[status]:
        services.change_status(issue=issue, to=step, by=by)
    return issue


def test_the_workflow_table_is_what_docs_staff_md_says():
    legal = {(a, b) for a, targets in ALLOWED_TRANSITIONS.items() for b in targets}
    assert legal == EXPECTED_LEGAL


@pytest.mark.parametrize(("start", "to"), sorted(EXPECTED_LEGAL))
def test_legal_transition_is_made_and_recorded(pothole, sam, start, to):
    issue = issue_in(start, pothole, sam)
    before = issue.updated_at
    change = services.change_status(issue=issue, to=to, by=sam, message="Crew sent.")
    issue.refresh_from_db()
    assert issue.status == to
    assert (change.from_status, change.to_status, change.changed_by) == (start, to, sam)
    assert change.message == "Crew sent."
    assert issue.status_notes == "Crew sent."
    assert issue.updated_at >= before
    if to == Status.CLOSED:
        assert issue.closed_at == change.created_at
    if to == Status.OPEN:
        assert issue.closed_at is None and issue.followup_sent_at is None


@pytest.mark.parametrize(("start", "to"), [p for p in ALL_PAIRS if p not in EXPECTED_LEGAL])
def test_illegal_transition_is_refused_with_a_reason_and_changes_nothing(pothole, sam, start, to):
    issue = issue_in(start, pothole, sam)
    history = StatusChange.objects.filter(issue=issue).count()
    with pytest.raises(TransitionError) as refused:
        services.change_status(issue=issue, to=to, by=sam, message="nope")
    reason = " ".join(refused.value.messages)
    assert Status(start).label.lower() in reason
    issue.refresh_from_db()
    assert issue.status == start
    assert StatusChange.objects.filter(issue=issue).count() == history


def test_unknown_status_is_refused(pothole, sam):
    issue = issue_in(Status.OPEN, pothole, sam)
    with pytest.raises(TransitionError, match="not a status"):
        services.change_status(issue=issue, to="fixed", by=sam)


def test_overlong_message_is_refused(pothole, sam):
    issue = issue_in(Status.OPEN, pothole, sam)
    with pytest.raises(ValidationError):
        services.change_status(issue=issue, to=Status.CLOSED, by=sam, message="x" * 4001)
    issue.refresh_from_db()
    assert issue.status == Status.OPEN


def test_staff_of_another_department_may_not_change_status(pothole, wanda):
    issue = issue_in(Status.OPEN, pothole, None)
    with pytest.raises(PermissionDenied):
        services.change_status(issue=issue, to=Status.ACKNOWLEDGED, by=wanda)
    issue.refresh_from_db()
    assert issue.status == Status.OPEN


def test_a_resident_may_not_change_status_even_their_own_report(pothole, rosa):
    issue = make_issue(pothole, reporter=rosa)
    services.change_status(issue=issue, to=Status.CLOSED, by=None)
    with pytest.raises(PermissionDenied):
        services.change_status(issue=issue, to=Status.OPEN, by=rosa)


def test_admin_may_change_any_departments_issue(pothole, boss):
    issue = issue_in(Status.OPEN, pothole, None)
    services.change_status(issue=issue, to=Status.CLOSED, by=boss)
    assert issue.status == Status.CLOSED


def test_staff_reopen_a_closed_issue(pothole, sam):
    issue = issue_in(Status.CLOSED, pothole, sam)
    change = services.change_status(issue=issue, to=Status.OPEN, by=sam, message="Not done yet.")
    assert change.from_status == Status.CLOSED
    assert issue.status == Status.OPEN and issue.closed_at is None


def test_the_system_reopens_for_a_residents_not_fixed_answer(pothole, sam):
    """by=None is the system acting on the reporter's "not fixed" reply: allowed from closed,
    recorded with no person as the actor."""
    issue = issue_in(Status.CLOSED, pothole, sam)
    change = services.change_status(
        issue=issue, to=Status.OPEN, by=None, message="Reporter: not fixed."
    )
    assert change.changed_by is None
    assert issue.status == Status.OPEN


def test_nobody_reopens_an_archived_issue(pothole, sam, boss):
    issue = issue_in(Status.ARCHIVED, pothole, sam)
    for by in (None, sam, boss):
        with pytest.raises(TransitionError, match="archived"):
            services.change_status(issue=issue, to=Status.OPEN, by=by)


def test_status_change_writes_one_outbox_row_per_follower_and_schedules_delivery_on_commit(
    pothole, sam, django_capture_on_commit_callbacks
):
    issue = issue_in(Status.OPEN, pothole, sam)
    with django_capture_on_commit_callbacks() as callbacks:
        change = services.change_status(issue=issue, to=Status.CLOSED, by=sam, message="Filled.")
    rows = rendered(
        Notification.objects.filter(issue=issue, event=NotificationEvent.STATUS_CHANGED)
    )
    assert [r.recipient_email for r in rows] == ["pat@example.net"]
    assert "Filled." in rows[0].body_text
    assert len(callbacks) == 1  # one delivery batch, only once the transaction commits
    assert change.pk


def test_a_refused_change_writes_no_outbox_rows(pothole, sam):
    issue = issue_in(Status.CLOSED, pothole, sam)
    before = Notification.objects.count()
    with pytest.raises(TransitionError):
        services.change_status(issue=issue, to=Status.IN_PROGRESS, by=sam)
    assert Notification.objects.count() == before


def test_a_stale_instance_cannot_skip_the_workflow(pothole, sam):
    """The check reads the row under a lock, not the caller's copy: two staff acting on the same
    page cannot close an issue twice."""
    issue = issue_in(Status.OPEN, pothole, sam)
    stale = type(issue).objects.get(pk=issue.pk)
    services.change_status(issue=issue, to=Status.CLOSED, by=sam)
    with pytest.raises(TransitionError, match="already closed"):
        services.change_status(issue=stale, to=Status.CLOSED, by=sam)
    assert StatusChange.objects.filter(issue=issue, to_status=Status.CLOSED).count() == 1


# --- transfer and assignment go through the same path -----------------------------------


def test_transfer_is_recorded_and_tells_the_new_department(pothole, sam, water, sam2):
    issue = issue_in(Status.ACKNOWLEDGED, pothole, sam)
    services.assign_issue(issue=issue, assignee=sam2, by=sam)
    change = services.transfer_issue(issue=issue, to_department=water, by=sam, message="Water main")
    issue.refresh_from_db()
    assert issue.department == water
    assert issue.assignee is None
    assert issue.status == Status.ACKNOWLEDGED
    assert change.is_transfer and change.from_department == pothole.department
    told = Notification.objects.filter(event=NotificationEvent.DEPARTMENT_TRANSFER, issue=issue)
    assert [n.recipient_email for n in told] == ["water@city.example"]


def test_transfer_to_the_same_department_is_refused(pothole, sam, streets):
    issue = issue_in(Status.OPEN, pothole, sam)
    with pytest.raises(ValidationError, match="already with"):
        services.transfer_issue(issue=issue, to_department=streets, by=sam)


def test_an_archived_issue_is_not_transferred(pothole, sam, water):
    issue = issue_in(Status.ARCHIVED, pothole, sam)
    with pytest.raises(ValidationError, match="archived"):
        services.transfer_issue(issue=issue, to_department=water, by=sam)


def test_staff_cannot_transfer_another_departments_issue(leak, sam, streets):
    issue = issue_in(Status.OPEN, leak, None)
    with pytest.raises(PermissionDenied):
        services.transfer_issue(issue=issue, to_department=streets, by=sam)


def test_assign_only_to_members_of_the_issues_department(pothole, sam, sam2, wanda, boss):
    issue = issue_in(Status.OPEN, pothole, sam)
    services.assign_issue(issue=issue, assignee=sam2, by=sam)
    assert issue.assignee_id == sam2.pk
    for outsider in (wanda, boss):
        with pytest.raises(ValidationError, match="does not work for"):
            services.assign_issue(issue=issue, assignee=outsider, by=sam)
    services.assign_issue(issue=issue, assignee=None, by=sam)
    issue.refresh_from_db()
    assert issue.assignee is None


def test_hiding_needs_a_reason_and_a_worker(pothole, sam, wanda):
    issue = issue_in(Status.OPEN, pothole, sam)
    with pytest.raises(ValidationError, match="Say why"):
        services.set_hidden(target=issue, hidden=True, by=sam, reason="  ")
    with pytest.raises(PermissionDenied):
        services.set_hidden(target=issue, hidden=True, by=wanda, reason="spam")
    with pytest.raises(ValidationError, match="255"):
        services.set_hidden(target=issue, hidden=True, by=sam, reason="x" * 256)
    services.set_hidden(target=issue, hidden=True, by=sam, reason="Neighbour's phone number")
    issue.refresh_from_db()
    assert issue.is_hidden and issue.hidden_reason == "Neighbour's phone number"
    services.set_hidden(target=issue, hidden=False, by=sam)
    issue.refresh_from_db()
    assert not issue.is_hidden and issue.hidden_reason == ""


def test_bulk_change_reports_each_refusal_and_keeps_the_rest(pothole, leak, sam):
    mine = issue_in(Status.OPEN, pothole, sam)
    closed = issue_in(Status.CLOSED, pothole, sam)
    theirs = issue_in(Status.OPEN, leak, None)
    changed, refused = services.bulk_change_status(
        issues=[mine, closed, theirs], to=Status.ACKNOWLEDGED, by=sam
    )
    assert changed == [mine]
    reasons = dict((i.pk, why) for i, why in refused)
    assert "closed" in reasons[closed.pk]
    assert "department" in reasons[theirs.pk]
