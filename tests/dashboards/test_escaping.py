"""The dashboards write some of their HTML in Python (the league's cells, the change column, the
weekly charts' SVG, the figure links), not through the template engine's autoescape: a ward's
or a service type's name with markup in it must come out as text on every page."""

from __future__ import annotations

import pytest
from django.urls import reverse

EVIL = '<img src=x onerror=alert(1)>"&'


@pytest.mark.django_db
def test_names_with_markup_are_text_on_every_dashboard_page(client, scenario):
    s = scenario
    s.pothole.name = f"Pothole {EVIL}"
    s.pothole.save()
    s.ward.name = f"Ward {EVIL}"
    s.ward.save()
    pages = [
        reverse("wards:index"),
        reverse("wards:detail", kwargs={"slug": s.ward.slug}),
        reverse("wards:compare") + f"?wards={s.ward.number},{s.other_ward.number}",
        reverse("wards:types"),
        reverse("wards:type", kwargs={"code": "pothole"}),
        reverse("wards:report", kwargs={"slug": s.ward.slug}),
    ]
    shown = 0
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert "<img src=x" not in html, url
        shown += "&lt;img src=x onerror=alert(1)&gt;" in html
    assert shown >= 4  # the names are there, as text, on most of the pages


def test_bar_charts_write_names_as_text_and_say_none_when_empty():
    """The bar charts' markup is written by hbars.HBarChart.html, not a template."""
    from issues.dashboards.hbars import hbar_chart

    row = (f"Type {EVIL}", 3, "3", "/?type=x")
    html = hbar_chart(slug="t", title="T", desc="D", rows=[row], unit="Issues").html()
    assert "<img" not in html
    # desc, the bar's label and its title
    assert html.count("Type &lt;img src=x onerror=alert(1)&gt;&quot;&amp;") == 3
    assert '<figcaption>T <span class="wards-unit">(issues)</span></figcaption><svg' in html
    empty = hbar_chart(slug="t", title="T", desc="D", rows=[(row[0], None, "–", "/")]).html()
    assert empty == (
        '<figure class="wards-figure"><figcaption>T</figcaption>'
        '<p class="wards-note">None.</p></figure>\n'
    )
