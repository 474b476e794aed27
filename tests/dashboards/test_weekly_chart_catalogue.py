"""A translation whose placeholders do not fit its English (a translator's slip that reached a
catalogue) costs the weekly chart that one sentence, in English, never the page: as
{% blocktranslate %} does, which drew the chart before it was written in Python."""

from __future__ import annotations

import re

from django.core.cache import cache

from config.catalogues import compile_catalogues

BROKEN_PO = r"""msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\n"
"Plural-Forms: nplurals=3; plural=n == 1 ? 0 : n != 0 && n % 1000000 == 0 ? 1 : 2;\n"

msgid "Week of %(week)s: %(opened)s opened, %(closed)s closed."
msgstr "Semana del %(semana)s: %(opened)s abiertos, %(closed)s cerrados."

msgid "Week of %(week)s: %(n)s opened"
msgstr "Semana del %(week)s: %(n)s abiertos, el 100% de ellos"
"""


def test_a_broken_translation_of_the_weekly_sentence_falls_back_to_english(
    client, scenario, settings, tmp_path
):
    response = _ward_page_in_spanish_with(BROKEN_PO, client, scenario, settings, tmp_path)
    assert response.status_code == 200
    html = response.content.decode()
    weekly = re.search(r'<svg[^>]*>\s*<title id="chart-weekly-title">.*?</svg>', html, re.S)[0]
    board = response.context["board"]
    assert board.weeks and 'lang="es"' in html
    # The two broken sentences in English, every week; the sound one still in Spanish.
    weeks = len(board.weeks)
    assert len(re.findall(r"Week of [^:<]*: \d+ opened, \d+ closed\.", weekly)) == weeks
    assert len(re.findall(r"<title>Week of [^:<]*: \d+ opened</title>", weekly)) == weeks
    assert len(re.findall(r"<title>Semana del [^:<]*: \d+ cerrados</title>", weekly)) == weeks
    assert "%(semana)s" not in html and "100%" not in weekly


BROKEN_PLURAL_PO = r"""msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\n"
"Plural-Forms: nplurals=3; plural=n == 1 ? 0 : n != 0 && n % 1000000 == 0 ? 1 : 2;\n"

msgid "%(n)s report"
msgid_plural "%(n)s reports"
msgstr[0] "%(num)s aviso"
msgstr[1] "%(num)s avisos"
msgstr[2] "%(num)s avisos"
"""


def test_a_broken_translation_of_the_heat_maps_count_falls_back_to_english(
    client, scenario, settings, tmp_path
):
    response = _ward_page_in_spanish_with(BROKEN_PLURAL_PO, client, scenario, settings, tmp_path)
    assert response.status_code == 200
    html = response.content.decode()
    heat = re.search(r'<svg[^>]*>\s*<title id="chart-heat-title">.*?</svg>', html, re.S)[0]
    cells = re.findall(r"<path class=\"cell\"[^>]*><title>([^<]*)</title>", heat)
    assert cells and all(re.fullmatch(r"\d+ reports?", label) for label in cells)
    assert "%(num)s" not in html


def _ward_page_in_spanish_with(po_text: str, client, scenario, settings, tmp_path):
    """The ward page in Spanish, with `po_text`'s entries compiled into a catalogue put first in
    LOCALE_PATHS, so they win over the project's own for those entries only."""
    po = tmp_path / "locale" / "es" / "LC_MESSAGES" / "django.po"
    po.parent.mkdir(parents=True)
    po.write_text(po_text, encoding="utf-8")
    compile_catalogues(tmp_path / "locale")
    settings.LOCALE_PATHS = [str(tmp_path / "locale"), *settings.LOCALE_PATHS]
    cache.clear()
    return client.get(f"/wards/{scenario.ward.slug}/", HTTP_ACCEPT_LANGUAGE="es")
