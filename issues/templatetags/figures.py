"""{{ figure|figure_links:"context" }}: a dashboard figure linked to its list, then its CSV link
(issues.dashboards.links.Figure.html), in one filter call instead of a dozen look-ups: a busy
ward's page has about two hundred figures."""

from html import escape

from django import template
from django.utils.formats import localize
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from issues.dashboards.links import Figure

register = template.Library()


@register.filter
def figure_links(figure: Figure, context_label="") -> SafeString:
    """`context_label` (a date, a rank, a word) names the figure for screen readers beside the
    CSV link, written as the template would write it."""
    if not isinstance(context_label, str):
        context_label = localize(context_label)
    return figure.html(context_label)


@register.filter
def week_rows(weeks: list[dict]) -> SafeString:
    """The ward page's weekly table (pages._tables' "weeks"): a row per week, its date written
    once as `{{ start|date:"DATE_FORMAT" }}` writes it and naming both figures. Written here, not
    by the template: its 26 rows' look-ups and filters were a sixth of the page's rendering."""
    rows = []
    for w in weeks:
        start = localize(w["week"].start)  # a date's localize is its DATE_FORMAT
        rows.append(
            f'<tr><th scope="row">{escape(start)}</th><td class="num">{w["opened"].html(start)}'
            f'</td><td class="num">{w["closed"].html(start)}</td></tr>'
        )
    return mark_safe("".join(rows))  # noqa: S308 (the date escaped, the figures write their own)


@register.filter
def type_rows(by_type: list[dict]) -> SafeString:
    """The ward page's table by type (pages._by_type): a row per type, each figure named for
    screen readers by its column ("all", "open", "closed", "median"), as the template did."""
    names = (("total", _("all")), ("open", _("open")), ("closed_recent", _("closed")))
    names += (("median", _("median")),)
    rows = []
    for t in by_type:
        cells = "".join(f'\n      <td class="num">{t[k].html(said)}</td>' for k, said in names)
        rows.append(f'<tr>\n      <th scope="row">{escape(t["row"].name)}</th>{cells}\n    </tr>')
    return mark_safe("".join(rows))  # noqa: S308 (the name escaped, the figures write their own)
