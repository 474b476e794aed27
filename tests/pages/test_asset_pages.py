"""The public asset pages and adopting through them: an asset's page, a layer, adopting on its
terms, logging a visit (with a photo; "needs repair" becomes a report), giving up, an adopter's
page (their name only if they chose), and the layer's ward figures."""

from __future__ import annotations

import pytest
from django.urls import reverse

from issues import services
from issues.models import Adoption, Issue, Status, Visit, VisitOutcome
from tests.factories import make_asset, make_issue
from tests.pages.conftest import jpeg_bytes, upload

pytestmark = pytest.mark.django_db


def asset_url(asset) -> str:
    return reverse("issues:asset", args=[asset.layer.slug, asset.source_id])


def test_an_assets_page_says_what_it_is_its_reports_and_who_looks_after_it(
    client, shelter, neighbour, transit_staff
):
    dirty = shelter.layer.service_types.get()
    open_report = make_issue(dirty, asset=shelter, description="Litter everywhere")
    fixed = make_issue(dirty, asset=shelter, description="Graffiti on the glass")
    services.change_status(issue=fixed, to=Status.CLOSED, by=transit_staff, message="Cleaned")
    services.adopt_asset(asset=shelter, user=neighbour)
    page = client.get(asset_url(shelter))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Clark &amp; Randolph" in html and "Bus shelter" in html and "1412" in html
    assert "This bus shelter is already reported" in html
    assert [i.public_id for i in page.context["page"].open_reports] == [open_report.public_id]
    assert [i.public_id for i in page.context["page"].past_reports] == [fixed.public_id]
    assert "Looked after by" in html and "a neighbour" in html and "Nadia" not in html
    assert "neighbour@example.org" not in html
    assert "?type=dirty-bus-shelter&amp;asset=1412" in html  # report a problem with it


def test_an_unknown_asset_or_layer_is_a_404(client, shelter):
    assert client.get(reverse("issues:asset", args=[shelter.layer.slug, "nope"])).status_code == 404
    assert client.get(reverse("issues:asset", args=["nope", "1412"])).status_code == 404
    assert client.get(reverse("issues:asset_layer", args=["nope"])).status_code == 404


def test_adopting_asks_to_sign_in_then_for_agreement_to_the_terms(client, shelter, neighbour):
    adopt = reverse("issues:adopt", args=[shelter.layer.slug, shelter.source_id])
    assert client.get(adopt).status_code == 302  # to the sign-in page
    client.force_login(neighbour)
    terms = client.get(adopt).content.decode()
    assert "Clean the shelter and pick up litter" in terms and "A visit every 30 days" in terms
    refused = client.post(adopt, {})
    assert refused.status_code == 400 and not Adoption.objects.exists()
    done = client.post(adopt, {"agree": "on", "show_name": "on"})
    assert done.status_code == 302 and done["Location"] == asset_url(shelter)
    adoption = Adoption.objects.get()
    assert adoption.adopter.user == neighbour and adoption.adopter.show_name
    page = client.get(asset_url(shelter)).content.decode()
    assert "You look after it" in page and "Nadia" in page


def test_a_full_asset_refuses_another_adopter_with_a_reason(
    client, shelter, neighbour, other_neighbour
):
    shelter.layer.max_adopters = 1
    shelter.layer.save()
    services.adopt_asset(asset=shelter, user=other_neighbour)
    client.force_login(neighbour)
    assert "has all the adopters it can have" in client.get(asset_url(shelter)).content.decode()
    adopt = reverse("issues:adopt", args=[shelter.layer.slug, shelter.source_id])
    response = client.post(adopt, {"agree": "on"})
    assert response.status_code == 400
    assert "already has as many adopters as it can have" in response.content.decode()


def test_logging_a_visit_with_a_photo_and_needs_repair_reports_it(client, shelter, neighbour):
    adoption = services.adopt_asset(asset=shelter, user=neighbour)
    client.force_login(neighbour)
    url = reverse("issues:visit", args=[adoption.pk])
    assert "Your visit to Clark &amp; Randolph" in client.get(url).content.decode()
    response = client.post(
        url,
        {
            "outcome": VisitOutcome.NEEDS_REPAIR,
            "note": "The bench is broken.",
            "photo": upload("bench.jpg", jpeg_bytes((400, 300))),
        },
    )
    assert response.status_code == 302
    visit = Visit.objects.get()
    issue = Issue.objects.get()
    assert visit.issue == issue and issue.asset == shelter and visit.thumbnail
    page = client.get(asset_url(shelter)).content.decode()
    assert f"the repair is reported as {issue.public_id}" in page
    assert "The bench is broken." in page and "It needs a repair" in page


def test_a_bad_photo_is_refused_with_its_reason_and_no_visit_is_logged(client, shelter, neighbour):
    adoption = services.adopt_asset(asset=shelter, user=neighbour)
    client.force_login(neighbour)
    response = client.post(
        reverse("issues:visit", args=[adoption.pk]),
        {"outcome": VisitOutcome.CLEANED, "photo": upload("x.jpg", b"not a picture")},
    )
    assert response.status_code == 400
    assert "is not a picture we can read" in response.content.decode()
    assert not Visit.objects.exists()


def test_nobody_else_logs_visits_or_gives_up_for_an_adopter(
    client, shelter, neighbour, other_neighbour
):
    adoption = services.adopt_asset(asset=shelter, user=neighbour)
    client.force_login(other_neighbour)
    assert client.get(reverse("issues:visit", args=[adoption.pk])).status_code == 403
    assert client.post(reverse("issues:give_up", args=[adoption.pk])).status_code == 403
    assert Adoption.objects.get().is_active


def test_giving_up_through_the_page(client, shelter, neighbour):
    adoption = services.adopt_asset(asset=shelter, user=neighbour)
    client.force_login(neighbour)
    response = client.post(reverse("issues:give_up", args=[adoption.pk]), {"note": "Moving"})
    assert response.status_code == 302
    adoption.refresh_from_db()
    assert not adoption.is_active and adoption.end_note == "Moving"


def test_an_adopters_page_shows_their_assets_and_visits_and_their_name_only_if_chosen(
    client, shelter, shelters, neighbour
):
    adoption = services.adopt_asset(asset=shelter, user=neighbour)
    services.adopt_asset(asset=make_asset(shelters, "1413", name="Clark & Lake"), user=neighbour)
    services.log_visit(adoption=adoption, by=neighbour, outcome=VisitOutcome.CLEANED, note="Swept")
    url = adoption.adopter.get_absolute_url()
    page = client.get(url).content.decode()
    assert "A neighbour looks after" in page and "Nadia" not in page
    assert "Clark &amp; Randolph" in page and "Clark &amp; Lake" in page and "Swept" in page
    assert "neighbour@example.org" not in page
    client.force_login(neighbour)
    client.post(reverse("issues:my_adoptions"), {"show_name": "1"})
    client.logout()
    assert "Nadia looks after" in client.get(url).content.decode()


def test_my_adoptions_leads_to_my_page_or_says_there_is_none(client, shelter, neighbour):
    client.force_login(neighbour)
    assert (
        "You have not adopted anything yet"
        in client.get(reverse("issues:my_adoptions")).content.decode()
    )
    adoption = services.adopt_asset(asset=shelter, user=neighbour)
    response = client.get(reverse("issues:my_adoptions"))
    assert response["Location"] == adoption.adopter.get_absolute_url()


def test_a_layers_page_lists_its_assets_adopted_or_available(client, shelter, shelters, neighbour):
    make_asset(shelters, "1413", name="Clark & Lake")
    services.adopt_asset(asset=shelter, user=neighbour)
    page = client.get(reverse("issues:asset_layer", args=[shelters.slug])).content.decode()
    assert "2 bus shelters" in page
    assert "adopted, room for one more" in page and "available" in page
    assert "Bus shelters" in client.get(reverse("issues:asset_layers")).content.decode()


def test_the_ward_figures_count_assets_adopted_adopters_and_recent_visits(
    client, shelter, shelters, neighbour, other_neighbour
):
    make_asset(shelters, "1413", name="Clark & Lake")
    make_asset(shelters, "9001", point=(41.5, -88.5), name="Out of town")
    adoption = services.adopt_asset(asset=shelter, user=neighbour)
    services.adopt_asset(asset=shelter, user=other_neighbour)
    services.log_visit(adoption=adoption, by=neighbour, outcome=VisitOutcome.CLEANED)
    page = client.get(reverse("issues:asset_wards", args=[shelters.slug]))
    rows = {(r.ward, r.assets, r.adopted, r.adopters, r.visits) for r in page.context["rows"]}
    assert rows == {(42, 2, 1, 2, 1), (None, 1, 0, 0, 0)}
    assert "1 of 3 bus shelters are adopted." in page.content.decode()


def test_a_cached_asset_page_shows_a_new_adoption_at_once(client, shelter, neighbour):
    """Asset pages are in the public page cache; an adoption moves its counter."""
    assert (
        "Nobody looks after this bus shelter yet" in client.get(asset_url(shelter)).content.decode()
    )
    services.adopt_asset(asset=shelter, user=neighbour)
    assert "Looked after by" in client.get(asset_url(shelter)).content.decode()
