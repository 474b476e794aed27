"""The dashboards' words and number formats, built once per language (issues/dashboards/
per_language.py) and never handed to a reader of another language."""

from django.conf import settings
from django.utils import translation
from django.utils.formats import number_format

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


def test_small_counts_are_written_as_every_language_writes_them():
    """count_text writes a whole number under 1,000 as its digits without asking for the
    language's separators: true of every language the site speaks (groups of 3, 4 or none)."""
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            for n in (*range(1000), 1000, 12345, 1234567):
                assert count_text(n) == number_format(n, force_grouping=True), (language, n)
