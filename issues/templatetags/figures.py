"""{{ figure|figure_links:"context" }}: a dashboard figure linked to its list, then its CSV link
(issues.dashboards.links.Figure.html), in one filter call instead of a dozen look-ups: a busy
ward's page has about two hundred figures."""

from html import escape

from django import template
from django.template.defaultfilters import capfirst
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from issues.dashboards.links import Figure
from issues.dashboards.per_language import date_text
from issues.templatetags.issue_rows import blocktranslated

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
        start = date_text(w["week"].start)  # what localize writes of a date
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


@register.filter
def headline_rows(headline: list[dict]) -> SafeString:
    """The ward page's five headline figures (pages._headline), each with its definition, the
    city's figure, its rank and its change, as the template's loop wrote them, whitespace
    included: its look-ups, filters and two blocktranslates a figure were a tenth of the
    page's rendering."""
    rows = []
    for h in headline:
        figure, context, term = h["figure"], h["context"], h["term"]
        label = conditional_escape(figure.label)
        means = blocktranslated(lambda: _("What “%(label)s” means"), {"label": label})
        city = blocktranslated(
            lambda: _("%(label)s: <strong>%(city)s</strong>"),
            {
                "label": conditional_escape(capfirst(context.city_label)),
                "city": conditional_escape(context.city_display),
            },
        )
        change = context.change
        verdict = f" wards-change--{conditional_escape(change.verdict)}" if change.verdict else ""
        arrow = (
            f'<span aria-hidden="true">{conditional_escape(change.arrow)}</span> '
            if change.arrow
            else ""
        )
        rows.append(
            f'<div>\n      <dt><span title="{conditional_escape(term.definition)}">{label}</span>'
            f'<a class="wards-defn" href="#defn-{conditional_escape(term.key)}" aria-label="{means}">'
            f"?</a></dt>\n      <dd>{figure.html()}</dd>\n"
            f'      <dd class="wards-ctx">{city}</dd>\n'
            f'      <dd class="wards-ctx">{conditional_escape(context.rank_text)}</dd>\n'
            f'      <dd class="wards-ctx wards-change{verdict}">{arrow}'
            f"{conditional_escape(capfirst(change.words))}</dd>\n    </div>"
        )
    return mark_safe("".join(rows))  # noqa: S308 (every value escaped above)


@register.filter
def top_cell_rows(top_cells: list[dict]) -> SafeString:
    """The ward page's busiest squares (pages._tables' "top_cells"), as the template's loop
    wrote them: rank, reports and the most reported type, both figures named by the rank."""
    rows = []
    for t in top_cells:
        rank = localize(t["rank"])
        rows.append(
            f'<tr>\n        <th scope="row">{escape(rank)}</th>\n'
            f'        <td class="num">{t["figure"].html(rank)}</td>\n'
            f"        <td>{conditional_escape(t['cell'].dominant_name)}"
            f" ({t['dominant'].html(rank)})</td>\n      </tr>"
        )
    return mark_safe("".join(rows))  # noqa: S308 (every value escaped above)


@register.filter
def league_rows(table: list[dict]) -> SafeString:
    """The league's rows (pages.league_page's "table"), as its template's loop wrote them,
    whitespace included: the ward's swatch and linked name, then its five cells (already
    markup: pages._league_cells). The loop's ~400 look-ups were a quarter of the render."""
    rows = []
    for t in table:
        cells = "".join(f'\n        <td class="num">{cell}</td>' for cell in t["cells"])
        rows.append(
            f'\n      <tr>\n        <th scope="row"><span class="wards-swatch" style="background: '
            f'{conditional_escape(t["colour"])}"></span><a href="{conditional_escape(t["url"])}">'
            f"{conditional_escape(t['row'].name)}</a></th>{cells}\n      </tr>\n    "
        )
    return mark_safe("".join(rows))  # noqa: S308 (every value escaped, the cells are markup)


def _linked(figure: Figure) -> str:
    """A figure linked to its list only, as the monthly report writes it (no CSV on paper)."""
    return (
        f'<a class="wards-fig" href="{conditional_escape(figure.list_url)}">'
        f"{conditional_escape(figure.display)}</a>"
    )


@register.filter
def month_type_rows(month_types: list[dict]) -> SafeString:
    """The monthly report's month by type (pages.report_page's "month_types"), as its
    template's loop wrote them: the type, then its reports made and closed, linked."""
    return mark_safe(  # noqa: S308 (every value escaped)
        "".join(
            f'<tr><th scope="row">{conditional_escape(t["row"].name)}</th><td class="num">'
            f'{_linked(t["opened"])}</td><td class="num">{_linked(t["closed"])}</td></tr>'
            for t in month_types
        )
    )


@register.filter
def report_type_rows(by_type: list[dict]) -> SafeString:
    """The monthly report's table by type (pages._by_type), as its template's loop wrote it:
    the type, its open issues, closed recently and median days, unlinked (paper)."""
    return mark_safe(  # noqa: S308 (every value escaped)
        "".join(
            f'<tr><th scope="row">{conditional_escape(t["row"].name)}</th>'
            f'<td class="num">{conditional_escape(t["open"].display)}</td>'
            f'<td class="num">{conditional_escape(t["closed_recent"].display)}</td>'
            f'<td class="num">{conditional_escape(t["median"].display)}</td></tr>'
            for t in by_type
        )
    )
