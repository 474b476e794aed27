"""The adoption rules, through the services: the layer's terms and limit, one adoption per
person and asset, visits and their due dates, "needs repair" as a report in the same step,
giving up, and staff ending an adoption."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, connections
from django.utils import timezone

from departments.models import Asset, ServiceType
from issues import services
from issues.models import Adoption, EndReason, Issue, Visit, VisitOutcome
from issues.photos import prepare_photo
from tests.factories import make_department, make_staff, make_user
from tests.pages.conftest import jpeg_bytes, upload

pytestmark = pytest.mark.django_db


def test_a_resident_adopts_an_asset_on_its_layers_terms(shelter, neighbour):
    before = timezone.now()
    adoption = services.adopt_asset(asset=shelter, user=neighbour)
    assert adoption.care_task == "Clean the shelter and pick up litter"
    assert adoption.every_days == 30
    assert (
        before + timedelta(days=30) <= adoption.next_due_at <= timezone.now() + timedelta(days=30)
    )
    assert Asset.objects.get(pk=shelter.pk).adopter_count == 1
    assert adoption.adopter.show_name is False  # "a neighbour" unless they choose otherwise


def test_an_asset_takes_no_more_adopters_than_its_layer_allows(shelter, neighbour, other_neighbour):
    services.adopt_asset(asset=shelter, user=neighbour)
    services.adopt_asset(asset=shelter, user=other_neighbour)
    third = make_user("third@example.org")
    with pytest.raises(ValidationError, match="as many adopters as it can have"):
        services.adopt_asset(asset=shelter, user=third)
    assert Adoption.objects.active().filter(asset=shelter).count() == 2
    assert Asset.objects.get(pk=shelter.pk).adopter_count == 2


def test_nobody_adopts_the_same_asset_twice(shelter, neighbour):
    services.adopt_asset(asset=shelter, user=neighbour)
    with pytest.raises(ValidationError, match="already look after"):
        services.adopt_asset(asset=shelter, user=neighbour)


def test_an_asset_of_a_layer_that_is_not_adoptable_cannot_be_adopted(shelter, neighbour):
    shelter.layer.adoptable = False
    shelter.layer.save()
    with pytest.raises(ValidationError, match="cannot be adopted"):
        services.adopt_asset(asset=shelter, user=neighbour)


def test_adopting_needs_an_account(shelter):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(PermissionDenied):
        services.adopt_asset(asset=shelter, user=AnonymousUser())


def test_giving_up_frees_the_place_for_a_neighbour(shelter, neighbour, other_neighbour):
    shelter.layer.max_adopters = 1
    shelter.layer.save()
    adoption = services.adopt_asset(asset=shelter, user=neighbour)
    services.give_up_adoption(adoption=adoption, by=neighbour, note="Moving away")
    adoption.refresh_from_db()
    assert adoption.end_reason == EndReason.GAVE_UP and adoption.ended_at is not None
    assert Asset.objects.get(pk=shelter.pk).adopter_count == 0
    services.adopt_asset(asset=shelter, user=other_neighbour)  # the place is free again


def test_only_the_adopter_logs_visits_or_gives_up(shelter, neighbour, other_neighbour):
    adoption = services.adopt_asset(asset=shelter, user=neighbour)
    with pytest.raises(PermissionDenied):
        services.log_visit(adoption=adoption, by=other_neighbour, outcome=VisitOutcome.CLEANED)
    with pytest.raises(PermissionDenied):
        services.give_up_adoption(adoption=adoption, by=other_neighbour)


def test_a_visit_sets_the_next_due_date_one_rhythm_later(shelter, neighbour):
    adoption = services.adopt_asset(asset=shelter, user=neighbour)
    now = timezone.now()
    Adoption.objects.filter(pk=adoption.pk).update(
        started_at=now - timedelta(days=40), next_due_at=now - timedelta(days=10)
    )
    adoption.refresh_from_db()
    visited = now - timedelta(days=2)
    services.log_visit(
        adoption=adoption, by=neighbour, outcome=VisitOutcome.CLEANED, visited_at=visited
    )
    adoption.refresh_from_db()
    assert adoption.next_due_at == visited + timedelta(days=30)


def test_a_visit_in_the_future_or_before_the_adoption_is_refused(shelter, neighbour):
    adoption = services.adopt_asset(asset=shelter, user=neighbour)
    for when in (timezone.now() + timedelta(days=2), adoption.started_at - timedelta(days=3)):
        with pytest.raises(ValidationError):
            services.log_visit(
                adoption=adoption, by=neighbour, outcome=VisitOutcome.CLEANED, visited_at=when
            )
    assert not Visit.objects.exists()


def test_needs_repair_reports_the_asset_in_the_same_step(shelter, neighbour):
    adoption = services.adopt_asset(asset=shelter, user=neighbour)
    photo = prepare_photo(upload("glass.jpg", jpeg_bytes((300, 200))))
    visit = services.log_visit(
        adoption=adoption,
        by=neighbour,
        outcome=VisitOutcome.NEEDS_REPAIR,
        note="A pane of glass is smashed.",
        photo=photo,
    )
    issue = Issue.objects.get(pk=visit.issue_id)
    assert issue.asset_id == shelter.pk
    assert issue.service_type.service_code == "dirty-bus-shelter"  # the layer's only type
    assert (issue.latitude, issue.longitude) == (shelter.latitude, shelter.longitude)
    assert issue.reporter_id == neighbour.pk and issue.description == "A pane of glass is smashed."
    assert issue.address == "Clark & Randolph"  # the asset's name stands in for the address
    assert issue.photos.count() == 1 and visit.image and visit.thumbnail
    assert issue.open311_attributes == {"asset_id": ["1412"]}  # what the upstream send posts


def test_a_repair_report_that_is_refused_logs_no_visit_either(shelter, neighbour):
    adoption = services.adopt_asset(asset=shelter, user=neighbour)
    ServiceType.objects.filter(service_code="dirty-bus-shelter").update(active=False)
    with pytest.raises(ValidationError):
        services.log_visit(adoption=adoption, by=neighbour, outcome=VisitOutcome.NEEDS_REPAIR)
    assert not Visit.objects.exists() and not Issue.objects.exists()


def test_needs_repair_asks_which_type_when_the_layer_has_several(shelter, neighbour):
    second = ServiceType.objects.get(service_code="dirty-bus-shelter")
    second.pk, second.service_code, second.name = None, "broken-shelter", "Broken Shelter"
    second.save()
    adoption = services.adopt_asset(asset=shelter, user=neighbour)
    with pytest.raises(ValidationError) as refused:
        services.log_visit(adoption=adoption, by=neighbour, outcome=VisitOutcome.NEEDS_REPAIR)
    assert "repair_type" in refused.value.message_dict
    visit = services.log_visit(
        adoption=adoption, by=neighbour, outcome=VisitOutcome.NEEDS_REPAIR, repair_type=second
    )
    assert visit.issue.service_type == second


def test_staff_of_the_layers_department_end_an_adoption_saying_why(
    shelter, neighbour, transit_staff
):
    adoption = services.adopt_asset(asset=shelter, user=neighbour)
    with pytest.raises(ValidationError, match="Say why"):
        services.end_adoption(adoption=adoption, by=transit_staff, note="")
    services.end_adoption(adoption=adoption, by=transit_staff, note="The shelter is removed.")
    adoption.refresh_from_db()
    assert adoption.end_reason == EndReason.ENDED_BY_CITY and adoption.ended_by == transit_staff
    assert Asset.objects.get(pk=shelter.pk).adopter_count == 0
    with pytest.raises(ValidationError, match="has ended"):
        services.log_visit(adoption=adoption, by=neighbour, outcome=VisitOutcome.CLEANED)


def test_staff_of_another_department_cannot_end_an_adoption(shelter, neighbour):
    adoption = services.adopt_asset(asset=shelter, user=neighbour)
    water = make_staff(make_department("Water"), email="water@city.example")
    with pytest.raises(PermissionDenied):
        services.end_adoption(adoption=adoption, by=water, note="Not ours")


@pytest.mark.django_db(transaction=True)
def test_two_people_taking_the_last_place_at_once_get_it_once(shelter, neighbour, other_neighbour):
    """The asset's row lock: both adopt at the same moment, the layer allows one more."""
    if connection.vendor != "postgresql":
        pytest.skip("Row locks need PostgreSQL (set DATABASE_URL=postgres://...)")
    shelter.layer.max_adopters = 1
    shelter.layer.save()
    results, start = [], threading.Barrier(2)

    def adopt(person):
        try:
            start.wait()
            services.adopt_asset(asset=Asset.objects.get(pk=shelter.pk), user=person)
            results.append("adopted")
        except ValidationError:
            results.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=adopt, args=(p,)) for p in (neighbour, other_neighbour)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == ["adopted", "refused"]
    assert Adoption.objects.active().filter(asset=shelter).count() == 1
    assert Asset.objects.get(pk=shelter.pk).adopter_count == 1
