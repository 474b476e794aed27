"""Chicago's address grid, as an address-grid plug-in (departments/places/grid.py).

Numbers run 800 to the mile from two base lines: State Street (0 east/west) and Madison Street
(0 north/south). The lines are not quite straight nor the miles quite even (south of Roosevelt
the numbered streets run about 840 to the mile), so the grid is read from the city's own section
lines: each anchor is a street whose number everyone knows (North Ave is 1600 N, Western 2400 W),
at the median position of its intersections in the City's Street Center Lines
(departments/data/chicago_intersections.csv). Between anchors the numbers are linear; beyond
the last one, 800 to the mile. A house number is then placed between the two known intersections
of its street that bracket it.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

from departments.places.grid import interpolate

NUMBERS_PER_MILE = 800
MILES_PER_DEGREE_LAT = 69.17
MILES_PER_DEGREE_LON = 51.52  # at 41.88 N
# The furthest a number may lie beyond a street's last known intersection (an eighth of a mile).
REACH = 100

# (latitude, signed number: north positive) of east-west section lines.
NORTH_SOUTH = [
    (41.6633, -12700),  # 127th St
    (41.6778, -11900),  # 119th St
    (41.6919, -11100),  # 111th St
    (41.7065, -10300),  # 103rd St
    (41.7213, -9500),  # 95th St
    (41.7357, -8700),  # 87th St
    (41.7502, -7900),  # 79th St
    (41.7648, -7100),  # 71st St
    (41.7789, -6300),  # 63rd St
    (41.7932, -5500),  # 55th St
    (41.8082, -4700),  # 47th St
    (41.8232, -3900),  # Pershing Rd
    (41.8379, -3100),  # 31st St
    (41.8520, -2200),  # Cermak Rd
    (41.8665, -1200),  # Roosevelt Rd
    (41.8819, 0),  # Madison St
    (41.9100, 1600),  # North Ave
    (41.9246, 2400),  # Fullerton Ave
    (41.9389, 3200),  # Belmont Ave
    (41.9536, 4000),  # Irving Park Rd
    (41.9683, 4800),  # Lawrence Ave
    (41.9974, 6400),  # Devon Ave
    (42.0120, 7200),  # Touhy Ave
    (42.0194, 7600),  # Howard St
]
# (longitude, signed number: east positive) of north-south section lines, north of Madison
# and south of it: the streets lean, so one longitude for both sides would be a block out.
EAST_WEST_NORTH = [
    (-87.8366, -8400),  # Cumberland Ave
    (-87.8068, -7200),  # Harlem Ave
    (-87.7956, -6800),  # Oak Park Ave
    (-87.7862, -6400),  # Narragansett Ave
    (-87.7767, -6000),  # Austin Ave
    (-87.7663, -5600),  # Central Ave
    (-87.7466, -4800),  # Cicero Ave
    (-87.7271, -4000),  # Pulaski Rd
    (-87.7077, -3200),  # Kedzie Ave
    (-87.6882, -2400),  # Western Ave
    (-87.6686, -1600),  # Ashland Ave
    (-87.6483, -800),  # Halsted St
    (-87.6281, 0),  # State St
]
EAST_WEST_SOUTH = [
    (-87.7430, -4800),  # Cicero Ave
    (-87.7231, -4000),  # Pulaski Rd
    (-87.7037, -3200),  # Kedzie Ave
    (-87.6840, -2400),  # Western Ave
    (-87.6643, -1600),  # Ashland Ave
    (-87.6451, -800),  # Halsted St
    (-87.6249, 0),  # State St
    (-87.6063, 800),  # Cottage Grove Ave
    (-87.5857, 1600),  # Stony Island Ave
    (-87.5661, 2400),  # Yates Blvd
    (-87.5467, 3200),  # Brandon Ave
    (-87.5353, 3600),  # Ewing Ave
]
MADISON_LAT = 41.8819


def _along(anchors: list[tuple[float, int]], coordinate: float, per_degree: float) -> float:
    """The grid number at a coordinate: linear between the anchors around it, 800 to the
    mile beyond them."""
    positions = [position for position, _ in anchors]
    i = bisect.bisect_left(positions, coordinate)
    if i == 0:
        position, number = anchors[0]
        return number - (position - coordinate) * per_degree * NUMBERS_PER_MILE
    if i == len(anchors):
        position, number = anchors[-1]
        return number + (coordinate - position) * per_degree * NUMBERS_PER_MILE
    (p0, n0), (p1, n1) = anchors[i - 1], anchors[i]
    return n0 + (n1 - n0) * (coordinate - p0) / (p1 - p0)


def north_number(latitude: float) -> float:
    """Signed north-south number of a latitude (north of Madison positive)."""
    return _along(NORTH_SOUTH, latitude, MILES_PER_DEGREE_LAT)


def east_number(latitude: float, longitude: float) -> float:
    """Signed east-west number of a point (east of State positive)."""
    anchors = EAST_WEST_NORTH if latitude >= MADISON_LAT else EAST_WEST_SOUTH
    return _along(anchors, longitude, MILES_PER_DEGREE_LON)


def position(
    number: int, direction: str, known: Sequence[tuple[float, float]]
) -> tuple[float, float] | None:
    """Where `number` lies on a street with this direction prefix ("n", "s", "e", "w"), given
    its known intersections. Diagonal streets (Milwaukee, Lincoln) are numbered by the axis
    their prefix names, as the city numbers them."""
    if direction in ("n", "s"):
        target = number if direction == "n" else -number
        measured = [(north_number(lat), lat, lon) for lat, lon in known]
    elif direction in ("e", "w"):
        target = number if direction == "e" else -number
        measured = [(east_number(lat, lon), lat, lon) for lat, lon in known]
    else:
        return None
    return interpolate(target, measured, reach=REACH)
