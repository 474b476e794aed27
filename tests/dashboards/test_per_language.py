"""The dashboards' words and number formats, built once per language (issues/dashboards/
per_language.py) and never handed to a reader of another language."""

from django.utils import translation

from issues.dashboards.compare import _change_words
from issues.dashboards.links import count_text
from issues.dashboards.terms import terms


def test_each_language_gets_its_own_words_built_once():
    with translation.override("es"):
        spanish = terms()
        assert terms() is spanish  # kept: a league page asks for them on every row
        spanish_change = _change_words()["worse"]
    with translation.override("en"):
        english = terms()
        assert terms() is english and english is not spanish
        assert _change_words()["worse"] == "worse"
    assert spanish["open"].label != english["open"].label
    assert spanish_change == "peor"


def test_numbers_are_grouped_as_the_readers_language_groups_them():
    with translation.override("en"):
        assert count_text(1234567) == "1,234,567"
    with translation.override("es"):
        assert count_text(1234567) == "1\xa0234\xa0567"  # Spanish groups with a space
    with translation.override("en"):
        assert count_text(1234567) == "1,234,567"
