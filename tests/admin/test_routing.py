"""Routing at creation: department from the type, ward from the point. A point in no ward is
refused on the resident form and kept, flagged for triage, from the API, imports and staff."""

import pytest
from django.core.exceptions import ValidationError

from issues.models import Issue, Source, Status
from tests.admin.conftest import NO_WARD_POINT, WARD_2_POINT, changelist_url, shown_ids
from tests.factories import make_issue

pytestmark = pytest.mark.django_db


def test_department_from_type_and_ward_from_point(leak, wards):
    issue = make_issue(leak, point=WARD_2_POINT)
    assert issue.department == leak.department
    assert issue.ward == wards[2] and not issue.needs_triage


def test_resident_form_refuses_a_point_in_no_ward(pothole, wards):
    with pytest.raises(ValidationError) as refused:
        make_issue(pothole, point=NO_WARD_POINT, require_ward=True)
    assert "outside" in str(refused.value.message_dict["location"])
    assert not Issue.objects.exists()


@pytest.mark.parametrize("source", [Source.OPEN311, Source.IMPORT, Source.STAFF])
def test_other_doors_keep_the_report_and_flag_it(pothole, wards, source):
    issue = make_issue(pothole, point=NO_WARD_POINT, source=source)
    assert issue.pk and issue.needs_triage and issue.ward is None
    assert issue.status == Status.OPEN


def test_a_report_with_only_an_address_waits_in_triage(pothole, wards):
    issue = make_issue(
        pothole, point=None, address="Near the old water tower", source=Source.OPEN311
    )
    assert issue.needs_triage and issue.latitude is None


def test_triage_filter_finds_them_for_the_right_department(
    client, sam, wanda, pothole, leak, wards
):
    mine = make_issue(pothole, point=NO_WARD_POINT, source=Source.OPEN311)
    theirs = make_issue(leak, point=None, address="somewhere", source=Source.IMPORT)
    make_issue(pothole, point=WARD_2_POINT)
    client.force_login(sam)
    assert shown_ids(client.get(changelist_url(), {"triage": "yes"})) == {mine.public_id}
    client.force_login(wanda)
    assert shown_ids(client.get(changelist_url(), {"triage": "yes"})) == {theirs.public_id}


def test_requested_at_given_in_local_time_is_stored_as_the_same_instant(pothole, wards):
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    local = datetime(2026, 7, 4, 21, 0, tzinfo=ZoneInfo("America/Chicago"))
    issue = make_issue(pothole, requested_at=local)
    issue.refresh_from_db()
    assert issue.requested_at == local
    assert issue.expected_at - issue.requested_at == timedelta(hours=pothole.sla_hours)
