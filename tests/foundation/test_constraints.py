"""The data model's invariants hold in the database itself, not only in forms."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from issues import services
from issues.models import Issue, Status, Subscription, Vote, new_public_id, normalize_public_id
from tests.factories import CITY_HALL, make_attribute, make_issue, make_service_type, make_user


def _refused_by_database(**changes):
    issue = Issue.objects.latest("pk")
    with pytest.raises(IntegrityError), transaction.atomic():
        Issue.objects.filter(pk=issue.pk).update(**changes)
    issue.refresh_from_db()
    return issue


@pytest.mark.parametrize(
    "changes",
    [
        {"latitude": 91},
        {"latitude": -90.5},
        {"longitude": 180.01},
        {"longitude": -200},
        {"latitude": None},  # a latitude without a longitude
        {"status": "resolved"},  # not one of our statuses
        {"description": "x" * 4001},
    ],
)
def test_database_refuses_bad_values_and_keeps_the_row(chicago_wards, service_type, changes):
    original = make_issue(service_type)
    stored = _refused_by_database(**changes)
    assert (stored.latitude, stored.longitude, stored.status, stored.description) == (
        original.latitude,
        original.longitude,
        original.status,
        original.description,
    )


def test_model_validation_explains_bad_coordinates(service_type):
    issue = Issue(
        service_type=service_type,
        department=service_type.department,
        latitude=95,
        longitude=-87.6,
    )
    with pytest.raises(ValidationError) as caught:
        issue.full_clean()
    assert "latitude" in caught.value.message_dict


def test_model_validation_explains_long_description(service_type):
    issue = Issue(
        service_type=service_type,
        department=service_type.department,
        latitude=CITY_HALL[0],
        longitude=CITY_HALL[1],
        description="x" * 4001,
    )
    with pytest.raises(ValidationError) as caught:
        issue.full_clean()
    assert "4000" in " ".join(caught.value.message_dict["description"])


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"latitude": 120.0, "longitude": -87.6}, "latitude"),
        ({"latitude": 41.8, "longitude": -187.6}, "longitude"),
        ({"latitude": 41.8, "longitude": None}, "latitude"),
        ({"description": "y" * 4001}, "description"),
        ({"latitude": None, "longitude": None, "address": ""}, "location"),
    ],
)
def test_create_issue_refuses_bad_input_with_a_message(chicago_wards, service_type, kwargs, field):
    params = {"latitude": CITY_HALL[0], "longitude": CITY_HALL[1], "address": "x", **kwargs}
    with pytest.raises(ValidationError) as caught:
        services.create_issue(service_type=service_type, **params)
    assert field in caught.value.message_dict
    assert all(caught.value.message_dict[field])
    assert Issue.objects.count() == 0


def test_missing_required_attribute_is_refused(chicago_wards, service_type):
    make_attribute(
        service_type,
        "SIZE",
        "singlevaluelist",
        required=True,
        values=[{"key": "small", "name": "Small"}, {"key": "large", "name": "Large"}],
    )
    with pytest.raises(ValidationError) as caught:
        make_issue(service_type)
    assert "needs an answer" in caught.value.message_dict["attribute[SIZE]"][0]
    with pytest.raises(ValidationError) as caught:
        make_issue(service_type, attributes={"SIZE": ["enormous"]})
    assert "not one of the choices" in caught.value.message_dict["attribute[SIZE]"][0]
    issue = make_issue(service_type, attributes={"SIZE": ["large"]})
    assert issue.attributes == {"SIZE": "large"}


def test_unknown_attribute_code_is_refused_not_dropped(chicago_wards, service_type):
    with pytest.raises(ValidationError) as caught:
        make_issue(service_type, attributes={"NOPE": ["1"]})
    assert "attribute[NOPE]" in caught.value.message_dict


def test_inactive_service_type_is_refused(chicago_wards):
    service_type = make_service_type(active=False)
    with pytest.raises(ValidationError) as caught:
        make_issue(service_type)
    assert "service_code" in caught.value.message_dict


def test_unknown_service_type_cannot_be_stored(chicago_wards, service_type):
    issue = make_issue(service_type)
    with pytest.raises(IntegrityError), transaction.atomic():
        Issue.objects.filter(pk=issue.pk).update(service_type_id=999_999)
        # SQLite checks deferred foreign keys at commit; force the check inside the block.
        from django.db import connection

        connection.check_constraints(table_names=["issues_issue"])


def test_one_vote_per_account(chicago_wards, service_type):
    issue, user = make_issue(service_type), make_user()
    assert services.add_vote(issue=issue, user=user) is True
    assert services.add_vote(issue=issue, user=user) is False
    assert Vote.objects.filter(issue=issue).count() == 1
    issue.refresh_from_db()
    assert issue.vote_count == 1


def test_subscription_needs_exactly_one_target_and_one_follower(chicago_wards, service_type):
    issue = make_issue(service_type)
    with pytest.raises(IntegrityError), transaction.atomic():
        Subscription.objects.create(email="a@example.org")  # neither issue nor ward
    with pytest.raises(IntegrityError), transaction.atomic():
        Subscription.objects.create(issue=issue)  # nobody follows
    with pytest.raises(IntegrityError), transaction.atomic():
        Subscription.objects.create(issue=issue, ward=chicago_wards[0], email="a@example.org")


def test_public_ids_are_unguessable_and_forgiving_to_type():
    ids = {new_public_id() for _ in range(2000)}
    assert len(ids) == 2000
    sample = next(iter(ids))
    assert len(sample) == 9 and sample[4] == "-"
    assert not set(sample.replace("-", "")) & set("ILOU")
    assert normalize_public_id(sample.lower().replace("-", " ")) == sample
    assert normalize_public_id("abcd-efgo") == "ABCD-EFG0"


def test_new_issue_gets_sla_due_time_and_history(chicago_wards, service_type):
    issue = make_issue(service_type)
    assert issue.expected_at == issue.requested_at + timedelta(hours=72)
    change = issue.status_changes.get()
    assert (change.from_status, change.to_status) == ("", Status.OPEN)
