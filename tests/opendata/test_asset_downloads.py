"""Asset layers and adoption in the open data: every asset with its adopter count, every adoption
with its visits; an adopter's name only if they chose to show it, and never an email."""

from __future__ import annotations

import csv
import io

import pytest

from issues import services
from issues.models import VisitOutcome
from tests.factories import make_asset

pytestmark = pytest.mark.django_db


def read_csv(client, url: str, **params) -> list[dict]:
    response = client.get(url, params)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment;")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def adopted(shelter, shelters, neighbour, other_neighbour):
    make_asset(shelters, "1413", name="=HYPERLINK(evil)")
    first = services.adopt_asset(asset=shelter, user=neighbour)
    services.log_visit(adoption=first, by=neighbour, outcome=VisitOutcome.CLEANED)
    services.set_name_shown(user=other_neighbour, show=True)
    second = services.adopt_asset(asset=shelter, user=other_neighbour)
    services.give_up_adoption(adoption=second, by=other_neighbour)
    return first, second


def test_assets_csv_lists_every_asset_with_how_many_look_after_it(client, adopted, shelters):
    rows = read_csv(client, "/data/assets.csv", layer=shelters.slug)
    by_id = {row["asset_id"]: row for row in rows}
    assert set(by_id) == {"1412", "1413"}
    assert by_id["1412"]["adopters"] == "1" and by_id["1412"]["adopters_allowed"] == "2"
    assert by_id["1412"]["ward"] == "42" and by_id["1412"]["layer"] == shelters.slug
    assert by_id["1413"]["name"] == "'=HYPERLINK(evil)"  # a formula is defused


def test_adoptions_csv_has_visits_and_names_only_where_chosen_never_emails(client, adopted):
    first, second = adopted
    rows = read_csv(client, "/data/adoptions.csv")
    by_id = {int(row["adoption"]): row for row in rows}
    assert by_id[first.pk]["adopter"] == "a neighbour"
    assert by_id[first.pk]["visits"] == "1" and by_id[first.pk]["last_visit_datetime"]
    assert by_id[first.pk]["adopter_page"] == first.adopter.public_id
    assert by_id[second.pk]["adopter"] == "Omar" and by_id[second.pk]["ended_how"] == "gave_up"
    text = repr(rows)
    assert "@example.org" not in text and "Nadia" not in text


def test_an_unknown_layer_is_a_400_that_says_so(client, adopted):
    response = client.get("/data/adoptions.csv", {"layer": "nope"})
    assert response.status_code == 400 and "no asset layer “nope”" in response.content.decode()
