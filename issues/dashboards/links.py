"""Every figure on a dashboard links to the rows behind it: the public list and the CSV, with the
same IssueFilters query string on both, so a number can always be checked."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from datetime import date
from html import escape

from django.urls import NoReverseMatch, reverse
from django.utils import numberformat
from django.utils.formats import get_format, number_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from issues.dashboards.per_language import per_language
from issues.filters import IssueFilters


def _csv_base() -> str:
    # The open-data area owns the CSV; before it is mounted, its agreed path still works as a
    # link target once it lands, so the dashboard never breaks on a missing URL name.
    try:
        return reverse("opendata:issues_csv")
    except NoReverseMatch:
        return "/data/issues.csv"


@per_language
def _separators() -> tuple[str, int, str]:
    language = get_language()
    return (
        get_format("DECIMAL_SEPARATOR", language),
        get_format("NUMBER_GROUPING", language),
        get_format("THOUSAND_SEPARATOR", language),
    )


def _number(value, decimal_pos: int | None = None, *, grouping: bool = True) -> str:
    """number_format with grouping, its three format look-ups done once per language: the
    league table formats about a thousand numbers a page and those look-ups were most of it.
    A whole number under 1,000 is its digits in every language we have (groups of 3 or 4, or
    none; tests/dashboards/test_links.py holds it): most of a ward page's ~240 counts, each of
    which asked for the language first."""
    if decimal_pos is None and type(value) is int and 0 <= value < 1000:
        return str(value)
    decimal, groups, thousands = _separators()
    return numberformat.format(
        value, decimal, decimal_pos, groups, thousands, force_grouping=grouping
    )


def count_text(value) -> str:
    return "–" if value is None else _number(value)


def days_text(value: float | None) -> str:
    return "–" if value is None else _number(round(value, 1), 1, grouping=False)


def days_words(value: float) -> str:
    """ "2.5 days", "1 day": a number of days as a duration, its plural chosen by the number
    (a fraction takes the plural form its whole part would not: "1.5 days")."""
    rounded = round(value, 1)
    count = int(rounded) if rounded == int(rounded) else 2
    return ngettext("%(n)s day", "%(n)s days", count) % {"n": days_text(value)}


def expected_text(value: float | None) -> str:
    """A hotspot's expected count: small by nature, so two decimals or "under 0.01"."""
    if value is None:
        return "–"
    if value < 0.01:
        return _("under 0.01")
    return number_format(round(value, 2), 2)


def share_text(value: float | None) -> str:
    return "–" if value is None else f"{round(value * 100)}%"


@dataclass(frozen=True)
class Figure:
    value: float | int | None
    display: str
    list_url: str
    csv_url: str
    label: str
    csv_label: str = ""

    def html(self, context_label: str = "") -> SafeString:
        """The figure linked to its list, then its CSV link named for screen readers ("CSV of
        “Open” · Ward 5"). Written here, not by a template: the league table has 255 of them, and
        their ~2,000 variable look-ups and escapes were the larger part of a cold league page.
        Every text is escaped as the template engine would (the standard library's escape is
        Django's, without the check for lazy strings)."""
        named = f" · {escape(str(context_label))}" if context_label else ""
        return mark_safe(  # noqa: S308 (every text escaped)
            f'<a class="wards-fig" href="{escape(self.list_url)}">{escape(self.display)}</a>'
            f'<a class="wards-csv" href="{escape(self.csv_url)}">CSV<span '
            f'class="wards-visually-hidden"> {escape(self.csv_label)}{named}</span></a>'
        )


class Links:
    """Builds the list/CSV links for one page (the base URLs are resolved once)."""

    def __init__(self, ward_number: int | None = None):
        self.list_base = reverse("issues:home")
        self.csv_base = _csv_base()
        self.ward_number = ward_number
        # Translated once per page, not once per figure: the league table has hundreds.
        self.csv_template = _("of “%(label)s”")
        # Each set of filters but its dates and the ward, as its query string split where they
        # go (shared by for_ward's copies): Links.query.
        self._shapes: dict[tuple, tuple[list[str], list[str | None]]] = {}

    def for_ward(self, ward_number: int) -> Links:
        """The same page's links for one ward (the league's rows): no URL resolved again."""
        links = copy.copy(self)
        links.ward_number = ward_number
        return links

    def query(self, **params) -> str:
        if "wards" in params:
            return IssueFilters(**params).querystring()
        dates = [k for k, v in params.items() if type(v) is date]
        key = (
            self.ward_number is None,
            *(
                (k, date if k in dates else tuple(v) if isinstance(v, list) else v)
                for k, v in params.items()
            ),
        )
        shape = self._shapes.get(key)
        if shape is None:
            shape = self._shapes[key] = self._shape(params, dates)
        pieces, slots = shape
        parts = [pieces[0]]
        for slot, piece in zip(slots, pieces[1:], strict=True):
            parts.append(f"ward={self.ward_number}" if slot is None else params[slot].isoformat())
            parts.append(piece)
        return "".join(parts)

    def _shape(self, params: dict, dates: list[str]) -> tuple[list[str], list[str | None]]:
        """The filters' own query string with stand-ins for its dates and the ward (no real
        date is in the year 1000 and no ward is numbered -1; neither is ever quoted), split
        where they go: the pieces between, and what fills each gap (a date's name, or None for
        the ward). So a ward page's ~130 links cost a dozen urlencodes, the weeks' 52 one each
        kind, and the league's 255 five, in the filters' own order."""
        stand_ins = {k: date(1000 + i, 1, 1) for i, k in enumerate(dates)}
        filled = {**params, **stand_ins}
        if self.ward_number is not None:
            filled["wards"] = [-1]
        whole = IssueFilters(**filled).querystring()
        marks = {stand_in.isoformat(): k for k, stand_in in stand_ins.items()}
        if self.ward_number is not None:
            marks["ward=-1"] = None
        found = re.split("(" + "|".join(map(re.escape, marks)) + ")", whole) if marks else [whole]
        return found[::2], [marks[m] for m in found[1::2]]

    def figure(self, value, label: str, *, display: str | None = None, **params) -> Figure:
        q = self.query(**params)
        return Figure(
            value=value,
            display=display if display is not None else count_text(value),
            list_url=f"{self.list_base}?{q}",
            csv_url=f"{self.csv_base}?{q}",
            label=label,
            csv_label=self.csv_template % {"label": label},
        )
