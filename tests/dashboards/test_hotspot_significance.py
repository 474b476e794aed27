"""Hotspots that are hotspots: a cluster counts only when the ward's own baseline cannot explain
it. Burlington's found-syringe story is the case: syringes piling up near one park are found; a
steady trickle of a busy type across the ward, which forms chance groups now and then, is not.
"""

from __future__ import annotations

import math
import random
from datetime import timedelta

import pytest
import shapely
from django.utils import timezone

from departments.wards import shape_from_geojson
from issues.models import HotspotAlert
from issues.notify import hotspots
from tests.dashboards.conftest import points_in
from tests.dashboards.test_hotspots import offset
from tests.factories import make_issue, make_service_type

SEED = "civicfix-demo-hotspots"


def test_poisson_tail_against_hand_computed_values():
    assert hotspots.poisson_tail(0, 1.0) == 1.0
    assert hotspots.poisson_tail(1, 1.0) == pytest.approx(1 - math.exp(-1))
    assert hotspots.poisson_tail(3, 1.0) == pytest.approx(1 - math.exp(-1) * 2.5)
    # A tiny tail keeps its digits: P(X >= 5 | 0.01) is about 0.01^5 / 120.
    assert hotspots.poisson_tail(5, 0.01) == pytest.approx(0.01**5 / 120 * math.exp(-0.01), 1e-3)


def test_expected_count_is_the_baseline_spread_over_the_ward():
    # 9 reports (+1) in 90 days over 10 km^2: one per km^2 per 90 days; a 1 km^2 disc over
    # 90 days expects one.
    lam = hotspots.expected_in_disc(
        baseline_count=9, area_m2=10e6, radius_m=math.sqrt(1e6 / math.pi), window_days=90
    )
    assert lam == pytest.approx(1.0)


def uniform_points(rng: random.Random, geom, n: int) -> list[tuple[float, float]]:
    west, south, east, north = geom.bounds
    found = []
    while len(found) < n:
        lat, lon = rng.uniform(south, north), rng.uniform(west, east)
        if geom.contains(shapely.Point(lon, lat)):
            found.append((lat, lon))
    return found


@pytest.fixture
def ward(some_wards):
    return some_wards[0]


@pytest.fixture
def types(department):
    syringe = make_service_type(
        department,
        code="found-syringe",
        name="Found Syringe",
        hotspot_min_reports=3,
        hotspot_radius_m=150,
    )
    pothole = make_service_type(
        department, code="pothole", name="Pothole", hotspot_min_reports=3, hotspot_radius_m=400
    )
    return syringe, pothole


def test_planted_syringe_cluster_is_found_and_a_steady_trickle_is_not(ward, types):
    syringe, pothole = types
    rng = random.Random(SEED)
    now = timezone.now()
    inner = shape_from_geojson(ward.boundary).buffer(-0.002)
    # A steady pothole trickle: 12 a week across the ward, the same in the 90 days before.
    for lat, lon in uniform_points(rng, inner, 12 + 154):
        days = rng.uniform(0.1, 6.9) if rng.random() < 12 / 166 else rng.uniform(7.5, 96)
        make_issue(pothole, point=(lat, lon), requested_at=now - timedelta(days=days))
    # Syringes: a few a season across the ward, then six in a week by one park.
    for lat, lon in uniform_points(rng, inner, 4):
        make_issue(syringe, point=(lat, lon), requested_at=now - timedelta(days=rng.uniform(8, 90)))
    park = points_in(ward, 1)[0]
    planted = [
        make_issue(
            syringe,
            point=offset(park, rng.uniform(-60, 60), rng.uniform(-60, 60)),
            requested_at=now - timedelta(days=rng.uniform(0.2, 6)),
        )
        for _ in range(6)
    ]

    # The test bites: counting alone (N within R) calls the trickle's chance groups clusters.
    since = now - timedelta(days=hotspots.WINDOW_DAYS)
    trickle = hotspots.candidate_points(service_type=pothole, since=since, until=now)
    chance = hotspots.find_clusters(trickle, min_reports=3, radius_m=400)
    assert chance, "the seed should give the trickle a chance group of three"
    kept = hotspots.hotspots_among(chance, service_type=pothole, since=since)
    assert kept == []

    alerts = hotspots.detect_and_alert(now=now)

    assert [a.service_type for a in alerts] == [syringe]
    alert = alerts[0]
    assert sorted(alert.issue_ids) == sorted(i.pk for i in planted)
    assert alert.p_value < hotspots.P_VALUE
    assert alert.expected_count < 0.1
    assert not HotspotAlert.objects.filter(service_type=pothole).exists()


def test_the_same_cluster_in_a_ward_that_always_has_them_is_not_a_hotspot():
    """Six syringes by the park are usual where thousands a season are reported in the ward."""
    test = hotspots.significance(6, baseline_count=6000, area_m2=6e6, radius_m=150)
    assert not test.is_hotspot
    assert hotspots.significance(6, baseline_count=4, area_m2=6e6, radius_m=150).is_hotspot


def test_ward_page_says_what_a_hotspot_is(client, ward, types):
    html = client.get(f"/wards/{ward.slug}/").content.decode()
    assert "A hotspot is a cluster of reports of one type" in html
