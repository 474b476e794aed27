"""Which ward is a point in? Checked against the real 2023 Chicago ward map."""

import pytest

from departments.models import Ward
from tests.factories import LAKE_MICHIGAN, OUTSIDE_CITY

KNOWN_POINTS = [
    ((41.88365, -87.63201), 42),  # City Hall, 121 N LaSalle St
    ((41.94843, -87.65534), 44),  # Wrigley Field
    ((41.78970, -87.59970), 5),  # University of Chicago, Hyde Park
    ((41.83007, -87.63383), 11),  # Rate Field (White Sox), 333 W 35th St, Bridgeport
    ((41.97860, -87.90480), 41),  # O'Hare terminals
]


def test_all_fifty_wards_load_with_bounding_boxes(chicago_wards):
    assert [w.number for w in chicago_wards] == list(range(1, 51))
    for ward in chicago_wards:
        assert 41.6 < ward.min_lat < ward.max_lat < 42.1
        assert -88.0 < ward.min_lon < ward.max_lon < -87.5


@pytest.mark.parametrize(("point", "number"), KNOWN_POINTS)
def test_point_is_in_the_right_ward(chicago_wards, point, number):
    assert Ward.objects.containing(*point).number == number


@pytest.mark.parametrize("point", [OUTSIDE_CITY, LAKE_MICHIGAN, (None, None)])
def test_point_outside_the_city_is_in_no_ward(chicago_wards, point):
    assert Ward.objects.containing(*point) is None


def test_many_points_at_once_match_one_at_a_time(chicago_wards):
    points = [p for p, _ in KNOWN_POINTS] + [OUTSIDE_CITY, (None, None)]
    ids = Ward.objects.ids_for_points(points)
    one_by_one = [getattr(Ward.objects.containing(*p), "pk", None) for p in points]
    assert ids == one_by_one
    assert ids[-2:] == [None, None]


def test_index_is_rebuilt_when_wards_change(chicago_wards):
    city_hall = KNOWN_POINTS[0][0]
    assert Ward.objects.containing(*city_hall).number == 42
    before = Ward.objects.index()
    Ward.objects.get(number=42).delete()
    assert Ward.objects.containing(*city_hall) is None
    assert Ward.objects.index() is not before


def test_change_by_another_process_is_noticed(chicago_wards):
    """A bulk delete bypasses Ward.delete (as another process would): the version check sees it."""
    city_hall = KNOWN_POINTS[0][0]
    assert Ward.objects.containing(*city_hall).number == 42
    Ward.objects.filter(number=42)._raw_delete(Ward.objects.db)
    assert Ward.objects.containing(*city_hall) is None
