"""The ward page's rows written by filters (headline_rows, top_cell_rows in
issues/templatetags/figures.py; oldest_rows in issue_rows.py) are the HTML the template loops
they replaced wrote, byte for byte, in every language."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.template import engines
from django.utils import translation

from issues.dashboards import pages
from issues.dashboards.trends import ward_month
from issues.dashboards.ward import cached_ward_dashboard

pytestmark = pytest.mark.django_db

# templates/dashboards/ward_detail.html's loops as they were (main at 1553d2c), the reference
# (the oldest issues' links by {% url %}: the rows are values, ward.OldestIssue, not models).
HEADLINE = (
    "{% load i18n %}"
    "{% for h in headline %}<div>\n"
    '      <dt><span title="{{ h.term.definition }}">{{ h.figure.label }}</span>'
    '<a class="wards-defn" href="#defn-{{ h.term.key }}" aria-label="{% blocktranslate trimmed '
    'with label=h.figure.label %}What “{{ label }}” means{% endblocktranslate %}">?</a></dt>\n'
    "      <dd>{{ h.figure|figure_links }}</dd>\n"
    '      <dd class="wards-ctx">{% blocktranslate trimmed with label=h.context.city_label|capfirst'
    " city=h.context.city_display %}{{ label }}: <strong>{{ city }}</strong>{% endblocktranslate %}"
    "</dd>\n"
    '      <dd class="wards-ctx">{{ h.context.rank_text }}</dd>\n'
    '      <dd class="wards-ctx wards-change{% if h.context.change.verdict %} wards-change--'
    '{{ h.context.change.verdict }}{% endif %}">{% if h.context.change.arrow %}<span '
    'aria-hidden="true">{{ h.context.change.arrow }}</span> {% endif %}'
    "{{ h.context.change.words|capfirst }}</dd>\n"
    "    </div>{% endfor %}"
)
TOP_CELLS = (
    "{% for t in top_cells %}<tr>\n"
    '        <th scope="row">{{ t.rank }}</th>\n'
    '        <td class="num">{{ t.figure|figure_links:t.rank }}</td>\n'
    "        <td>{{ t.cell.dominant_name }} ({{ t.dominant|figure_links:t.rank }})</td>\n"
    "      </tr>{% endfor %}"
)
OLDEST = (
    "{% load i18n translations %}{% for issue in oldest %}\n"
    '    <li><a href="{% url "issues:detail" public_id=issue.public_id %}">{{ issue.service_type|translated:"name" }} · '
    "{{ issue.public_id }}</a> — {% blocktranslate trimmed with since=issue.requested_at|timesince"
    " %}waiting {{ since }}{% endblocktranslate %}{% if issue.address %} · {{ issue.address }}"
    "{% endif %}</li>\n"
    "  {% endfor %}"
)

# templates/dashboards/ward_report.html's loop as it was (main at e020845).
REPORT_OLDEST = (
    "{% load i18n translations %}{% for issue in oldest %}<li><a "
    'href="{% url "issues:detail" public_id=issue.public_id %}">{{ issue.service_type|translated:"name" }} · '
    "{{ issue.public_id }}</a> — {% blocktranslate trimmed with since=issue.requested_at|timesince"
    " %}waiting {{ since }}{% endblocktranslate %}{% if issue.address %} · {{ issue.address }}"
    "{% endif %}</li>{% endfor %}"
)


def render(source: str, context: dict) -> str:
    return engines["django"].from_string("{% load figures issue_rows %}" + source).render(context)


@pytest.mark.parametrize("language", [code for code, _name in settings.LANGUAGES])
def test_the_filters_write_what_the_loops_wrote(scenario, language):
    with translation.override(language):
        context = pages.ward_page(cached_ward_dashboard(ward=scenario.ward))
        assert context["headline"] and context["top_cells"] and context["oldest"]
        oldest = context["oldest"]
        oldest[0] = oldest[0]._replace(address='Corner of <Main> & "Elm"')  # escaped alike
        assert "&lt;Main&gt;" in render("{{ oldest|oldest_rows }}", context)
        assert render("{{ headline|headline_rows }}", context) == render(HEADLINE, context)
        assert render("{{ top_cells|top_cell_rows }}", context) == render(TOP_CELLS, context)
        assert render("{{ oldest|oldest_rows }}", context) == render(OLDEST, context)
        report = render('{{ oldest|oldest_rows:"report" }}', context)
        assert report == render(REPORT_OLDEST, context)


# templates/dashboards/league.html's loop as it was (main at e020845), the reference.
LEAGUE_ROWS = (
    "{% for t in table %}\n"
    "      <tr>\n"
    '        <th scope="row"><span class="wards-swatch" style="background: {{ t.colour }}"></span>'
    '<a href="{{ t.url }}">{{ t.row.name }}</a></th>{% for cell in t.cells %}\n'
    '        <td class="num">{{ cell }}</td>{% endfor %}\n'
    "      </tr>\n"
    "    {% endfor %}"
)


@pytest.mark.parametrize("language", ["en", "ar"])
def test_the_league_rows_filter_writes_what_the_loop_wrote(some_wards, language):
    some_wards[0].name = 'Ward <One> & "Two"'  # escaped alike
    some_wards[0].save()
    with translation.override(language):
        context = pages.league_page(sort="number", descending=False)
        assert context["table"]
        written = render("{{ table|league_rows }}", context)
        assert "&lt;One&gt;" in written
        assert written == render(LEAGUE_ROWS, context)


# templates/dashboards/ward_report.html's two loops by type as they were (main at e020845).
MONTH_TYPES = (
    '{% for t in month_types %}<tr><th scope="row">{{ t.row.name }}</th><td class="num"><a '
    'class="wards-fig" href="{{ t.opened.list_url }}">{{ t.opened.display }}</a></td><td '
    'class="num"><a class="wards-fig" href="{{ t.closed.list_url }}">{{ t.closed.display }}</a>'
    "</td></tr>{% endfor %}"
)
REPORT_TYPES = (
    '{% for t in by_type %}<tr><th scope="row">{{ t.row.name }}</th><td class="num">'
    '{{ t.open.display }}</td><td class="num">{{ t.closed_recent.display }}</td><td class="num">'
    "{{ t.median.display }}</td></tr>{% endfor %}"
)


@pytest.mark.parametrize("language", ["en", "pl", "ar"])
def test_the_reports_filters_write_what_its_loops_wrote(scenario, language):
    board = cached_ward_dashboard(ward=scenario.ward, with_heat=False)
    # A month with reports on any day: the scenario's newest are from the last two days.
    first = (board.clock.today - timedelta(days=2)).replace(day=1)
    with translation.override(language):
        context = pages.report_page(board, ward_month(ward_id=scenario.ward.pk, first=first))
        assert context["month_types"] and context["by_type"]
        context["by_type"][0]["row"].name = 'Pot <holes> & "more"'  # escaped alike
        written = render("{{ by_type|report_type_rows }}", context)
        assert "&lt;holes&gt;" in written and written == render(REPORT_TYPES, context)
        written = render("{{ month_types|month_type_rows }}", context)
        assert written == render(MONTH_TYPES, context)
