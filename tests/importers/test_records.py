"""Cleaning the dirty values real exports contain (no database needed)."""

import html
import random
from datetime import UTC, datetime

import pytest

from accounts.text import clean_text as site_rule
from issues.importers.formats import BOSTON, NYC, OPEN311, ColumnMapping
from issues.importers.records import (
    RowError,
    clean_text,
    map_status,
    parse_datetime,
    parse_point,
    parse_ward_number,
    parse_zip,
)


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("Ward 21", 21),
        ("21", 21),
        ("01", 1),
        ("ward-7", 7),
        (" 3 ", 3),
        ("0", None),
        (" ", None),
        ("", None),
    ],
)
def test_wards_written_three_ways_mean_the_same_ward(text, number):
    assert parse_ward_number(text) == number


@pytest.mark.parametrize(
    ("lat", "lon", "point"),
    [
        ("41.88", "-87.63", (41.88, -87.63)),
        ("0", "0", (None, None)),
        ("0.0", "-87.6", (None, None)),
        ("", "", (None, None)),
        ("null", "null", (None, None)),
        ("95", "-87.6", (None, None)),
    ],
)
def test_placeholder_and_out_of_range_coordinates_mean_no_point(lat, lon, point):
    assert parse_point(lat, lon) == point


def test_a_coordinate_that_is_not_a_number_is_refused():
    with pytest.raises(RowError, match="not a number"):
        parse_point("41.8N", "-87.6")


def test_nul_characters_are_dropped_not_left_for_the_database_to_refuse():
    # PostgreSQL refuses NUL in text; the row (and its batch's speed) would be lost.
    assert clean_text("Pot\x00hole  on\x00Main") == "Pot hole on Main"


def test_html_entities_are_decoded_even_when_double_escaped():
    assert clean_text("INTERSECTION of City Sq &amp; Harvard St  Charlestown") == (
        "INTERSECTION of City Sq & Harvard St Charlestown"
    )
    assert clean_text("Tom &amp;amp; Jerry&#39;s") == "Tom & Jerry's"


def test_zip_codes_that_went_through_a_spreadsheet_get_their_zero_back():
    assert parse_zip("2128.0") == "02128"
    assert parse_zip("60602") == "60602"
    assert parse_zip("") == ""


def test_nyc_dates_are_read_as_new_york_local_time():
    value = parse_datetime("03/24/2025 11:33:07 PM", NYC)
    assert value.astimezone(UTC) == datetime(2025, 3, 25, 3, 33, 7, tzinfo=UTC)


def test_boston_dates_and_open311_offsets_are_both_understood():
    assert parse_datetime("2025-01-24 03:24:56", BOSTON).utcoffset().total_seconds() == -5 * 3600
    value = parse_datetime("2012-05-23T15:55:28-04:00", OPEN311)
    assert value.astimezone(UTC).hour == 19


@pytest.mark.parametrize("text", ["yesterday", "2025-13-45 10:00", "31/31/2025"])
def test_an_unparseable_date_is_an_error_with_the_value_in_it(text):
    with pytest.raises(RowError, match="date"):
        parse_datetime(text, NYC)


def test_unknown_status_words_fall_back_to_what_the_dates_say():
    mapping = ColumnMapping(name="x")
    closed = datetime(2025, 1, 1, tzinfo=UTC)
    assert map_status("Started", NYC, None) == "in_progress"
    assert map_status("Assigned", NYC, None) == "acknowledged"
    assert map_status("Frobnicated", mapping, closed) == "closed"
    assert map_status("Frobnicated", mapping, None) == "open"


def test_a_mapping_from_json_rejects_keys_it_does_not_know():
    with pytest.raises(ValueError, match="unknown mapping keys: colour"):
        ColumnMapping.from_dict({"name": "x", "colour": "red"})
    mapping = ColumnMapping.from_dict({"name": "x", "id": "ID", "status_map": {"Fixed": "closed"}})
    assert mapping.id == ("ID",)
    assert mapping.status_map["fixed"] == "closed"
    assert mapping.status_map["open"] == "open"


def test_the_common_value_fast_path_cleans_as_the_general_path_does():
    # clean_text skips the general cleaning for a printable value without '&' (most values):
    # on random dirty strings it gives what decoding and the site's one rule give.
    pieces = ["a", "Main St", " ", "  ", "\t", "\n", "\r\n", "\x00", "\x1f", "\x0b", "\x85",
              "\xa0", "\u2003", "\u2028", "\u202e", "\ud800", "é", "&amp;", "&amp;amp;", "&#39;",
              "&", "02128", ""]  # fmt: skip
    rng = random.Random(19)
    for _ in range(50_000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 6)))
        general = site_rule(
            html.unescape(html.unescape(text)).replace("\x00", " "), multiline=False
        )
        assert clean_text(text) == general, repr(text)
