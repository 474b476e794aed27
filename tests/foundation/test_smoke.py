from tests.factories import CITY_HALL, make_issue


def test_issue_is_routed_to_department_and_ward(chicago_wards, service_type):
    issue = make_issue(service_type, point=CITY_HALL)
    assert issue.department == service_type.department
    assert issue.ward.number == 42
    assert not issue.needs_triage
