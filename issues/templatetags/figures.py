"""{{ figure|figure_links:"context" }}: a dashboard figure linked to its list, then its CSV link
(issues.dashboards.links.Figure.html), in one filter call instead of a dozen look-ups: a busy
ward's page has about two hundred figures."""

from django import template
from django.utils.formats import localize
from django.utils.safestring import SafeString

from issues.dashboards.links import Figure

register = template.Library()


@register.filter
def figure_links(figure: Figure, context_label="") -> SafeString:
    """`context_label` (a date, a rank, a word) names the figure for screen readers beside the
    CSV link, written as the template would write it."""
    if not isinstance(context_label, str):
        context_label = localize(context_label)
    return figure.html(context_label)
