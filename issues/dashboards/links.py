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

from issues.dashboards.per_language import per_language, per_language_each
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
    return _days_words(round(value, 1))


@per_language_each
def _days_words(rounded: float) -> str:
    """days_words of a number rounded as it is written (the league asks for 51 a page)."""
    count = int(rounded) if rounded == int(rounded) else 2
    return ngettext("%(n)s day", "%(n)s days", count) % {"n": days_text(rounded)}


def expected_text(value: float | None) -> str:
    """A hotspot's expected count: small by nature, so two decimals or "under 0.01"."""
    if value is None:
        return "–"
    if value < 0.01:
        return _("under 0.01")
    return number_format(round(value, 2), 2)


def share_text(value: float | None) -> str:
    return "–" if value is None else f"{round(value * 100)}%"


# Not frozen: a frozen dataclass sets each field through object.__setattr__, three times the
# cost of building a plain one, and the league builds 255 figures a page. Nothing changes one.
@dataclass
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


# What urlencode leaves as it is (quote_plus's always-safe ASCII): such a type's code is put
# into a link as it stands (Links.query).
_VERBATIM = re.compile(r"[A-Za-z0-9_.~-]+").fullmatch
# The gaps Links.query fills that are not dates.
_CODE, _WARD = object(), object()
# Each kind of link, as its query string split where its dates, type and ward go (Links.query):
# a pure function of the kind, so kept per process, not per page (a cold ward page built ~35,
# a fifth of its links' time). The kinds are the dashboards' own, a few dozen; the bound only
# guards against surprises.
_SHAPES: dict[tuple, tuple[list[str], list]] = {}
_MOST_SHAPES = 4096


class Links:
    """Builds the list/CSV links for one page (the base URLs are resolved once)."""

    def __init__(self, ward_number: int | None = None):
        self.list_base = reverse("issues:home")
        self.csv_base = _csv_base()
        self.ward_number = ward_number
        # Translated once per page, not once per figure: the league table has hundreds.
        self.csv_template = _("of “%(label)s”")

    def for_ward(self, ward_number: int) -> Links:
        """The same page's links for one ward (the league's rows): no URL resolved again."""
        links = copy.copy(self)
        links.ward_number = ward_number
        return links

    def query(self, **params) -> str:
        """IssueFilters(**params, wards=[this ward]).querystring(), from a query string built
        once per kind of link: the values that change between a page's links (its dates, a
        type's code, the ward) are filled into it (Links._shape)."""
        if "wards" in params:
            return IssueFilters(**params).querystring()
        codes = params.get("service_codes")
        code = codes[0] if codes and len(codes) == 1 and _VERBATIM(codes[0]) else None
        kind: list = [self.ward_number is None]
        for k, v in params.items():
            if type(v) is date:
                kind.append((k, date))
            elif k == "service_codes" and code is not None:
                kind.append((k, _CODE))
            else:
                kind.append((k, tuple(v) if isinstance(v, list) else v))
        key = tuple(kind)
        shape = _SHAPES.get(key)
        if shape is None:
            if len(_SHAPES) >= _MOST_SHAPES:
                _SHAPES.clear()
            shape = _SHAPES[key] = self._shape(params, code is not None)
        pieces, slots = shape
        parts = [pieces[0]]
        for slot, piece in zip(slots, pieces[1:], strict=True):
            if slot is _WARD:
                parts.append(f"ward={self.ward_number}")
            elif slot is _CODE:
                parts.append(code)
            else:
                parts.append(params[slot].isoformat())
            parts.append(piece)
        return "".join(parts)

    def _shape(self, params: dict, with_code: bool) -> tuple[list[str], list]:
        """The filters' own query string with stand-ins for the values query fills in (dates
        in the year 1000, a type coded "~code~", ward -1: none of them real, none ever quoted,
        as a date, a number or a code of plain letters is not), split where they go: the
        pieces between, and what fills each gap (a date's name, _CODE or _WARD). A ward page's
        ~130 links are then about twenty urlencodes (the weeks' 52 two), the league's 255
        five, in the filters' own order."""
        stand_ins = {k: date(1000 + i, 1, 1) for i, (k, v) in enumerate(params.items())}
        filled = {k: stand_ins[k] if type(v) is date else v for k, v in params.items()}
        marks: dict[str, object] = {
            stand_ins[k].isoformat(): k for k, v in params.items() if type(v) is date
        }
        if with_code:
            filled["service_codes"] = ["~code~"]
            marks["~code~"] = _CODE
        if self.ward_number is not None:
            filled["wards"] = [-1]
            marks["ward=-1"] = _WARD
        whole = IssueFilters(**filled).querystring()
        if not marks:
            return [whole], []
        found = re.split("(" + "|".join(map(re.escape, marks)) + ")", whole)
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
