"""Search over the real gazetteer: known Chicago intersections found from ten spellings each,
house numbers placed by the address grid, points named by their nearest place, bad input."""

import pytest

from departments.geo import distance_m
from departments.places import chicago
from departments.places.search import QueryError, reverse, search

pytestmark = pytest.mark.django_db

SPELLINGS = {
    "N Ashland Ave & W Addison St": [
        "ashland & addison",
        "Ashland/Addison",
        "addison and ashland",
        "N Ashland Ave at W Addison",
        "ASHLAND AVENUE AND ADDISON STREET",
        "north ashland avenue & west addison street",
        "Addison St @ Ashland Ave",
        "  ashland   +  addison ",
        "Ashland Ave. & Addison St.",
        "ashlnd and addison",
    ],
    "N Milwaukee Ave & W North Ave": [
        "milwaukee & north",
        "North/Milwaukee",
        "north ave and milwaukee ave",
        "N Milwaukee Ave at W North Ave",
        "MILWAUKEE AVENUE AND NORTH AVENUE",
        "w north avenue & n milwaukee avenue",
        "Milwaukee @ North",
        "milwaukee + north ave",
        "Milwaukee Ave., North Ave.".replace(",", " &"),
        "milwauke and north",
    ],
    "S State St & E 63rd St": [
        "state & 63rd",
        "63rd/State",
        "63 and state",
        "S State St at E 63rd St",
        "STATE STREET AND 63RD STREET",
        "south state street & east 63rd street",
        "63rd St @ State St",
        "state + sixty".replace("sixty", "63rd"),
        "State St. & 63rd St.",
        "east 63rd & s state",
    ],
}


@pytest.mark.parametrize(
    ("expected", "typed"),
    [(name, typed) for name, spellings in SPELLINGS.items() for typed in spellings],
)
def test_known_intersections_are_found_from_ten_spellings(gazetteer, expected, typed):
    results = search(typed)
    assert results, typed
    assert expected in [r.name for r in results[:3]], (typed, [r.name for r in results])
    assert len(results) <= 10
    assert all(r.ward_number for r in results if r.name == expected)


def test_a_direction_typed_ranks_the_street_that_has_it_first(gazetteer):
    results = search("S Ashland & W Madison")
    assert results[0].name == "S Ashland Ave & W Madison St"


def test_the_second_street_only_begun_is_found_as_people_type(gazetteer):
    assert search("ashland & addi")[0].name == "N Ashland Ave & W Addison St"


@pytest.mark.parametrize(
    ("typed", "crossing"),
    [
        ("1600 n milwaukee", "milwaukee & north"),  # North Ave is 1600 N
        ("3600 N Ashland Ave", "ashland & addison"),  # Addison is 3600 N
        ("1600 W Addison", "ashland & addison"),  # Ashland is 1600 W
        ("3200 W North Ave", "kedzie & north"),  # Kedzie is 3200 W
        ("800 W 79th St", "halsted & 79th st"),  # Halsted is 800 W, south side
        ("4000 N Milwaukee", "milwaukee & irving park"),  # a diagonal street, Irving Park 4000 N
    ],
)
def test_a_house_number_is_placed_within_100_m_of_where_the_grid_puts_it(
    gazetteer, typed, crossing
):
    placed = search(typed)[0]
    where = search(crossing)[0]
    assert placed.name.lower().startswith(typed.split()[0])
    assert distance_m(placed.latitude, placed.longitude, where.latitude, where.longitude) < 100
    assert placed.ward_number is not None


def test_the_grid_plugin_alone_places_numbers_between_known_points():
    # Two known points on a north-south street: Madison (0) and North Ave (1600 N).
    known = [(41.8819, -87.66), (41.9100, -87.66)]
    lat, lon = chicago.position(800, "n", known)
    assert 41.894 < lat < 41.897 and lon == pytest.approx(-87.66)
    assert chicago.position(9000, "n", known) is None  # past the street's end
    assert chicago.position(800, "", known) is None  # no direction, no axis


def test_a_city_without_a_grid_finds_house_numbers_only_at_address_points(gazetteer, settings):
    settings.PLACES_ADDRESS_GRID = ""
    assert all(not r.name.startswith("1600 ") for r in search("1600 n milwaukee"))


def test_a_point_beside_a_known_intersection_is_named_after_it(gazetteer):
    # About 30 m east of Ashland and Addison.
    named = reverse(41.94699, -87.66850)
    assert named.name == "near N Ashland Ave & W Addison St"
    assert named.distance_m < 50 and named.ward_number == 47
    kedzie = search("kedzie & north")[0]
    named = reverse(kedzie.latitude + 0.0002, kedzie.longitude)  # 22 m north
    assert named.name == "near N Kedzie Ave & W North Ave"


def test_a_point_far_from_every_place_has_no_name(gazetteer):
    assert reverse(41.80, -87.30) is None  # in the lake


@pytest.mark.parametrize(
    "typed",
    ["", "   ", "!!!", "&&&", "/", "zzzzqqq & xxyyzz", "'; DROP TABLE departments_place; --"],
)
def test_nonsense_finds_nothing(gazetteer, typed):
    assert search(typed) == []


def test_a_query_too_long_is_refused_with_a_reason(gazetteer):
    with pytest.raises(QueryError, match="too long"):
        search("a" * 500)


@pytest.mark.parametrize(("lat", "lon"), [(91, 0), (0, 181), ("x", 1), (float("nan"), 1)])
def test_coordinates_out_of_range_are_refused_with_a_reason(gazetteer, lat, lon):
    with pytest.raises(QueryError):
        reverse(lat, lon)
