"""Server-rendered SVG charts: geometry computed here, markup in templates/dashboards/_*.html.

Charts are plain data (dataclasses of numbers and already-formatted labels) so that templates
render them with autoescaping on, and a type's name cannot inject markup. Two exceptions, for
speed: the heat map's many cells and the weekly charts' bars are written out by `HeatMap.svg`
and `WeeklyChart.svg`, which escape every text with the standard library's html.escape, as
links.py and compare.py do (Django's escape is the same, behind a check for lazy strings that
costs three times the escape itself). Every chart is drawn with its numbers as text
and is accompanied by a table with the same
figures, so it reads without JavaScript, on paper and in a screen reader.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from html import escape

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language_bidi, gettext, gettext_noop, ngettext, pgettext

from issues.dashboards.links import count_text
from issues.dashboards.per_language import date_text
from issues.dashboards.ward import HeatCell, WeekRow

# A phone shows the last quarter of a weekly chart, redrawn narrow (the table has them all).
NARROW_WEEKS = 12

# Unicode's right-to-left isolate and its end (RLI ... PDI).
RTL_ISOLATE, END_ISOLATE = "\u2067", "\u2069"


def in_svg(text: str, rtl: bool | None = None) -> str:
    """A label drawn in an SVG chart, in the reader's direction. The charts keep their axes and
    numbers left to right in every language (static/css/site.css), so a right-to-left label
    such as "0-7 أيام" or "23 نوفمبر" would read with its number in the wrong place; isolated
    right to left, it reads as written, still anchored where the left-to-right chart puts it.
    `rtl`: get_language_bidi(), when a chart with many labels has asked once (~15 us a time)."""
    if rtl is None:
        rtl = get_language_bidi()
    if text and rtl:
        return f"{RTL_ISOLATE}{text}{END_ISOLATE}"
    return text


def week_label_format() -> str:
    """The weekly charts' short date under a bar ("Nov 23"), in the order each language writes
    a day and a month (a Django date format, translated like one)."""
    return pgettext("short date format for a week in a chart: month and day", "M j")


PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _sentence(english: str) -> str:
    """`english` translated, or `english` itself when the translation does not take its
    placeholders (a translator's slip: a name changed, a lone %): the chart then says that
    sentence in English instead of failing the page, as {% blocktranslate %}, which drew the
    weekly charts before, does."""
    return _fitting(gettext(english), english)


def _fitting(translated: str, english: str) -> str:
    try:
        translated % dict.fromkeys(PLACEHOLDER.findall(english), "")
    except (KeyError, ValueError, TypeError):
        return english
    return translated


def nice_max(value: float) -> float:
    """A round axis maximum at or above value (1, 2, 5 × 10^n)."""
    if value <= 0:
        return 1
    exponent = math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        candidate = step * 10**exponent
        if candidate >= value:
            return candidate
    return 10 ** (exponent + 1)


@dataclass
class WeekBars:
    start: date
    label: str
    opened: int
    closed: int
    x: float
    closed_x: float
    opened_y: float
    opened_h: float
    closed_y: float
    closed_h: float
    tick: bool


@dataclass
class WeeklyChart:
    """Opened (dark) beside closed (light) per week."""

    title: str
    desc: str
    weeks: list[WeekBars]
    ticks: list[tuple[float, str]] = field(default_factory=list)  # (y, value as text)
    width: int = 680
    height: int = 260
    left: int = 40
    top: int = 22
    bottom: int = 48
    bar_width: float = 0
    slug: str = "weekly"
    y_label: str = ""
    x_label: str = ""
    variant: str = "wide"

    @property
    def plot_height(self) -> int:
        return self.height - self.top - self.bottom

    @property
    def baseline(self) -> int:
        return self.height - self.bottom

    @property
    def label_y(self) -> int:
        return self.baseline + 16

    @property
    def x_label_y(self) -> int:
        return self.height - 6

    def svg(self) -> SafeString:
        """The SVG, built here as HeatMap.svg is: a year of weeks took three plural-free
        {% blocktranslate %} and a dozen look-ups each, most of a cold type page's render. The
        markup is what dashboards/_weekly_chart.html produced, byte for byte (numbers unlocalized,
        counts grouped as the reader's language groups them, every text escaped)."""
        both = _sentence(gettext_noop("Week of %(week)s: %(opened)s opened, %(closed)s closed."))
        opened, closed = (
            _sentence(gettext_noop("Week of %(week)s: %(n)s opened")),
            _sentence(gettext_noop("Week of %(week)s: %(n)s closed")),
        )
        bar, slug, left = self.bar_width, self.slug, self.left
        weeks = []
        for w in self.weeks:
            label, o, c = escape(w.label), count_text(w.opened), count_text(w.closed)
            weeks.append((w, label, o, c))
        desc = "".join(
            f"{both % {'week': label, 'opened': o, 'closed': c}} " for _w, label, o, c in weeks
        )
        parts = [
            f'<svg class="wards-chart wards-chart--{self.variant}" viewBox="0 0 {self.width} {self.height}" '
            f'role="img" aria-labelledby="chart-{slug}-title chart-{slug}-desc" '
            'xmlns="http://www.w3.org/2000/svg">\n'
            f'  <title id="chart-{slug}-title">{escape(self.title)}</title>\n'
            f'  <desc id="chart-{slug}-desc">{escape(self.desc)} {desc}</desc>\n  ',
        ]
        if self.y_label:
            parts.append(f'<text class="unit" x="0" y="12">{escape(self.y_label)}</text>')
        parts.append("\n  ")
        parts.extend(
            f'<line class="grid" x1="{left}" x2="{self.width}" y1="{y}" y2="{y}"/>'
            f'<text x="{left - 6}" y="{y}" dy="4" text-anchor="end">{escape(value)}</text>'
            for y, value in self.ticks
        )
        parts.append(
            f'\n  <line class="axis" x1="{left}" x2="{self.width}" y1="{self.baseline}" '
            f'y2="{self.baseline}"/>\n  '
        )
        for w, label, o, c in weeks:
            parts.append(
                f'\n    <rect class="bar" x="{w.x}" y="{w.opened_y}" width="{bar}" '
                f'height="{w.opened_h}"><title>{opened % {"week": label, "n": o}}</title></rect>'
                f'\n    <rect class="bar-closed" x="{w.closed_x}" y="{w.closed_y}" width="{bar}" '
                f'height="{w.closed_h}"><title>{closed % {"week": label, "n": c}}</title></rect>\n    '
            )
            if w.tick:
                parts.append(f'<text x="{w.x}" y="{self.label_y}">{label}</text>')
            parts.append("\n  ")
        parts.append("\n  ")
        if self.x_label:
            parts.append(
                f'<text class="unit" x="{left}" y="{self.x_label_y}">{escape(self.x_label)}</text>'
            )
        parts.append("\n</svg>")
        return mark_safe("".join(parts))  # noqa: S308 (numbers we computed, and escaped text)


def weekly_chart(
    *,
    title: str,
    desc: str,
    weeks: Sequence[WeekRow],
    y_label: str = "",
    x_label: str = "",
    narrow: bool = False,
) -> WeeklyChart:
    """Opened beside closed per week. `narrow`: drawn 360 wide for a phone, where the page
    shows it instead of the wide one (the caller passes fewer weeks)."""
    rtl = get_language_bidi()
    chart = WeeklyChart(
        title=title,
        desc=desc,
        weeks=[],
        y_label=in_svg(y_label, rtl),
        x_label=in_svg(x_label, rtl),
        slug="weekly-narrow" if narrow else "weekly",
        variant="narrow" if narrow else "wide",
        width=360 if narrow else 680,
    )
    top = nice_max(max((max(w.opened, w.closed) for w in weeks), default=0))
    slot = (chart.width - chart.left - 8) / max(1, len(weeks))
    chart.bar_width = round(slot * 0.4, 2)
    scale = chart.plot_height / top
    label_format = week_label_format()  # one translation a chart, not one a week
    for i, week in enumerate(weeks):
        x = chart.left + i * slot + slot * 0.1
        opened_h, closed_h = week.opened * scale, week.closed * scale
        chart.weeks.append(
            WeekBars(
                start=week.start,
                label=in_svg(date_text(week.start, label_format), rtl),
                opened=week.opened,
                closed=week.closed,
                x=round(x, 2),
                closed_x=round(x + chart.bar_width, 2),
                opened_y=round(chart.baseline - opened_h, 2),
                opened_h=round(opened_h, 2),
                closed_y=round(chart.baseline - closed_h, 2),
                closed_h=round(closed_h, 2),
                tick=i % (4 if len(weeks) > 8 else 2) == 0,
            )
        )
    for fraction in (0, 0.5, 1):
        value = top * fraction
        if value == int(value):
            chart.ticks.append((round(chart.baseline - value * scale, 2), count_text(int(value))))
    return chart


@dataclass
class HeatMap:
    """The ward's outline with the grid cells shaded by count; top cells numbered."""

    title: str
    desc: str
    width: int
    height: int
    outline: list[str]
    # (opacity, count, the path's squares) per count, in the order its first cell comes.
    shades: list[tuple[float, int, str]]
    # (x, y, rank) of the numbered cells' middles, in the cells' order.
    ranks: list[tuple[float, float, int]]

    def svg(self) -> SafeString:
        """The SVG, built here rather than in a template: a busy ward has hundreds of cells, and
        a template loop with a plural {% blocktranslate %} per cell was most of an uncached
        dashboard's render time. The cells of one count (one shade) are one path of squares
        with one title ("N reports"), not a rectangle and a title each: the same picture and
        tooltips in a third of the bytes (a busy ward's ~220 cells were a fifth of the
        page)."""
        parts = [
            f'<svg class="wards-chart" viewBox="0 0 {self.width} {self.height}" role="img" '
            'aria-labelledby="chart-heat-title chart-heat-desc" '
            f'xmlns="http://www.w3.org/2000/svg" style="max-width: {self.width}px">\n'
            f'  <title id="chart-heat-title">{escape(self.title)}</title>\n'
            f'  <desc id="chart-heat-desc">{escape(self.desc)}</desc>\n  ',
        ]
        parts.extend(f'<path class="outline" d="{d}"/>' for d in self.outline)
        parts.append("\n  ")
        for opacity, count, squares in self.shades:
            label = escape(
                _fitting(
                    # The literal pair inside ngettext is what makemessages extracts.
                    ngettext("%(n)s report", "%(n)s reports", count),
                    "%(n)s report" if count == 1 else "%(n)s reports",
                )
                % {"n": count_text(count)}
            )
            parts.append(
                f'<path class="cell" fill-opacity="{opacity}" d="{squares}">'
                f"<title>{label}</title></path>"
            )
        parts.append("\n  ")
        parts.extend(
            f'<text class="rank" x="{x}" y="{y}" dy="4" text-anchor="middle">{rank}</text>'
            for x, y, rank in self.ranks
        )
        parts.append("\n</svg>")
        return mark_safe("".join(parts))  # noqa: S308 (numbers we computed, and escaped text)


def heat_map(
    *, title: str, desc: str, outline: dict, cells: Sequence[HeatCell], top: Sequence[HeatCell]
) -> HeatMap:
    """Equirectangular projection of the ward (lon scaled by cos(latitude)) into the viewBox."""
    rings = _rings(outline)
    lons = [x for ring in rings for x, _ in ring] or [0.0, 1.0]
    lats = [y for ring in rings for _, y in ring] or [0.0, 1.0]
    west, east, south, north = min(lons), max(lons), min(lats), max(lats)
    kx = math.cos(math.radians((south + north) / 2))
    span_x = max((east - west) * kx, 1e-9)
    span_y = max(north - south, 1e-9)
    width = 420
    scale = (width - 10) / span_x
    height = max(120, min(640, round(span_y * scale + 10)))
    scale = min(scale, (height - 10) / span_y)

    def project(lon: float, lat: float) -> tuple[float, float]:
        return round(5 + (lon - west) * kx * scale, 1), round(5 + (north - lat) * scale, 1)

    paths = []
    for ring in rings:
        points = [project(lon, lat) for lon, lat in ring]
        paths.append("M" + " L".join(f"{x} {y}" for x, y in points) + " Z")
    most = max((c.count for c in cells), default=1) or 1
    ranks = {(c.row, c.col): i for i, c in enumerate(top, start=1)}
    # The cells lie on a grid: a column's "M{x} ", "h{width}", "h-{width}z" and middle, and a
    # row's "{y}", "v{height}" and middle, are worked out once each (the same arithmetic as
    # project's), not for each of a busy ward's few hundred cells; a square is five of them.
    columns: dict[tuple[float, float], tuple[str, str, str, float]] = {}
    rows: dict[tuple[float, float], tuple[str, str, float]] = {}
    by_count: dict[int, list[str]] = {}
    numbered = []
    for c in cells:
        column = columns.get((c.west, c.east))
        if column is None:
            x1 = round(5 + (c.west - west) * kx * scale, 1)
            x2 = round(5 + (c.east - west) * kx * scale, 1)
            w = round(x2 - x1, 1)
            column = columns[(c.west, c.east)] = (
                f"M{x1} ",
                f"h{w}",
                f"h-{w}z",
                round((x1 + x2) / 2, 1),
            )
        row = rows.get((c.north, c.south))
        if row is None:
            y1 = round(5 + (north - c.north) * scale, 1)
            y2 = round(5 + (north - c.south) * scale, 1)
            row = rows[(c.north, c.south)] = (
                f"{y1}",
                f"v{round(y2 - y1, 1)}",
                round((y1 + y2) / 2, 1),
            )
        squares = by_count.get(c.count)
        if squares is None:
            squares = by_count[c.count] = []
        squares.append(column[0] + row[0] + column[1] + row[1] + column[2])
        rank = ranks.get((c.row, c.col))
        if rank:
            numbered.append((column[3], row[2], rank))
    return HeatMap(
        title=title,
        desc=desc,
        width=width,
        height=height,
        outline=paths,
        # A count's shade, the same for all its cells.
        shades=[
            (round(0.2 + 0.75 * count / most, 2), count, "".join(squares))
            for count, squares in by_count.items()
        ],
        ranks=numbered,
    )


def _rings(geometry: dict) -> list[list[tuple[float, float]]]:
    if geometry.get("type") == "Polygon":
        polygons = [geometry["coordinates"]]
    elif geometry.get("type") == "MultiPolygon":
        polygons = geometry["coordinates"]
    else:
        return []
    return [[(p[0], p[1]) for p in ring] for polygon in polygons for ring in polygon]


@dataclass
class LegendClass:
    low: float
    high: float
    colour: str
    label: str


# ColorBrewer "YlOrRd", 5 classes: readable in greyscale print and by most colour-blind readers.
PALETTE = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")
NO_DATA = "#d9d9d9"


def classify(
    values: Sequence[float | None], *, fmt, higher_is_worse: bool = True, integer: bool = False
) -> tuple[list[LegendClass], list[str]]:
    """Equal-interval classes over the present values; returns the legend and each value's
    colour (grey for none). When higher is better (the SLA share) the palette is reversed.
    Counts (`integer`) get whole-number classes, never "0.6 – 1.2"."""
    palette = PALETTE if higher_is_worse else tuple(reversed(PALETTE))
    present = [v for v in values if v is not None]
    if not present:
        return [], [NO_DATA for _ in values]
    lo, hi = min(present), max(present)
    if hi == lo:
        legend = [LegendClass(lo, hi, palette[2], fmt(lo))]
        return legend, [palette[2] if v is not None else NO_DATA for v in values]
    if integer:
        lo, hi = int(lo), int(hi)
        n = min(len(palette), hi - lo + 1)
        step = math.ceil((hi - lo + 1) / n)
        n = math.ceil((hi - lo + 1) / step)
        colours_used = [palette[round(i * (len(palette) - 1) / max(1, n - 1))] for i in range(n)]
        legend = []
        for i in range(n):
            first, last = lo + i * step, min(hi, lo + (i + 1) * step - 1)
            label = fmt(first) if first == last else f"{fmt(first)} – {fmt(last)}"
            legend.append(LegendClass(first, last, colours_used[i], label))
        return legend, [
            NO_DATA if v is None else colours_used[min(n - 1, int((v - lo) // step))]
            for v in values
        ]
    n = len(palette)
    step = (hi - lo) / n
    legend = [
        LegendClass(
            lo + i * step,
            lo + (i + 1) * step,
            palette[i],
            f"{fmt(lo + i * step)} – {fmt(lo + (i + 1) * step)}",
        )
        for i in range(n)
    ]
    colours = []
    for v in values:
        if v is None:
            colours.append(NO_DATA)
        else:
            colours.append(palette[min(n - 1, int((v - lo) / step))])
    return legend, colours
