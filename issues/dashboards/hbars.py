"""The horizontal bar charts (a ward's statuses, types, ages and medians; a type's busiest and
slowest wards), each with its numbers as text beside a table of the same figures.

Written out by `HBarChart.html`, not by a template: a ward page draws four, and their bars'
look-ups and filters were a sixth of its rendering. Every text is escaped with the standard
library's html.escape, as charts.py and links.py do (Django's escape is the same behind a check
for lazy strings); numbers are written as `{% localize off %}` wrote them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language_bidi, gettext

from issues.dashboards.charts import in_svg

LABEL_MAX = 44


def _short(label: str) -> str:
    return label if len(label) <= LABEL_MAX else label[: LABEL_MAX - 1] + "…"


@dataclass
class HBar:
    label: str
    short_label: str
    value: float
    display: str
    href: str
    y: float
    width: float
    text_x: float


@dataclass
class HBarChart:
    """Horizontal bars: one row per category, its label above the bar and the value after it.
    Narrow on purpose (360 units): the labels never share a line with the bars, so the chart
    keeps a readable type size on a 390-pixel phone instead of shrinking a wide one."""

    slug: str
    title: str
    desc: str
    bars: list[HBar]
    unit: str = ""
    width: int = 360
    label_width: int = 0
    row_height: int = 38
    bar_height: int = 16
    label_gap: int = 14  # the label's baseline above the bar's top

    @property
    def height(self) -> int:
        return max(1, len(self.bars)) * self.row_height + (30 if self.unit else 8)

    @property
    def plot_width(self) -> int:
        return self.width - self.label_width - 60

    @property
    def unit_y(self) -> int:
        return self.height - 8

    def html(self) -> SafeString:
        """The figure: its caption, then the chart (or "None."), as templates/dashboards wrote it
        with autoescaping on; every text escaped, numbers unlocalised (`{% localize off %}`)."""
        slug, left = self.slug, self.label_width
        unit = escape(self.unit)
        caption = escape(self.title) + (
            f' <span class="wards-unit">({escape(self.unit.lower())})</span>' if unit else ""
        )
        if not self.bars:
            none = escape(gettext("None."))
            return mark_safe(  # noqa: S308 (escaped text)
                f'<figure class="wards-figure"><figcaption>{caption}</figcaption>'
                f'<p class="wards-note">{none}</p></figure>\n'
            )
        said = [f"{escape(b.label)}: {escape(b.display)}" for b in self.bars]
        parts = [
            f'<figure class="wards-figure"><figcaption>{caption}</figcaption>'
            f'<svg class="wards-chart wards-chart--bars" viewBox="0 0 {self.width} {self.height}"'
            f' role="img" aria-labelledby="chart-{slug}-title chart-{slug}-desc"'
            f' xmlns="http://www.w3.org/2000/svg">\n'
            f'  <title id="chart-{slug}-title">{escape(self.title)}</title>\n'
            f'  <desc id="chart-{slug}-desc">{escape(self.desc)} '
            + "".join(f"{s}. " for s in said)
            + f'</desc>\n  <line class="axis" x1="{left}" y1="0" x2="{left}"'
            f' y2="{self.height - 26}"/>\n  \n  '
        ]
        # No links inside: role="img" must hold nothing interactive; the table beside it links.
        for bar, text in zip(self.bars, said, strict=True):
            shown = escape(bar.display)
            parts.append(
                f'<g>\n    <text x="{left + 4}" y="{int(bar.y) - 4}">{escape(bar.short_label)}'
                f'</text>\n    <rect class="bar" x="{left}" y="{bar.y}" width="{bar.width}"'
                f' height="{self.bar_height}"><title>{text}</title></rect>\n'
                f'    <text x="{bar.text_x}" y="{int(bar.y) + 12}">{shown}</text>\n  </g>'
            )
        parts.append("\n  ")
        if unit:
            parts.append(f'<text class="unit" x="{left}" y="{self.unit_y}">{unit}</text>')
        parts.append("\n</svg></figure>\n")
        return mark_safe("".join(parts))  # noqa: S308 (numbers we computed, and escaped text)


def hbar_chart(
    *,
    slug: str,
    title: str,
    desc: str,
    rows: Sequence[tuple[str, float | None, str, str]],
    unit: str = "",
) -> HBarChart:
    """rows: (label, value, value as text, link). Rows without a value are left out. `unit` is
    the axis's name ("Issues", "Days"), written under the bars."""
    rtl = get_language_bidi()
    chart = HBarChart(slug=slug, title=title, desc=desc, bars=[], unit=in_svg(unit, rtl))
    present = [r for r in rows if r[1] is not None]
    top = max((float(r[1]) for r in present), default=0) or 1
    for i, (label, value, display, href) in enumerate(present):
        width = chart.plot_width * float(value) / top
        chart.bars.append(
            HBar(
                label=label,
                short_label=in_svg(_short(label), rtl),
                value=float(value),
                display=display,
                href=href,
                y=4 + i * chart.row_height + chart.label_gap + 4,
                width=round(width, 1),
                text_x=round(chart.label_width + width + 6, 1),
            )
        )
    return chart
