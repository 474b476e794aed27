"""What a person does with open data, in headless Chromium: read the data page, copy the embed
code, and see the embedded map working inside another page's iframe (and only that page)."""

import pytest

from tests.browser_support import serious_axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_data_page_is_accessible_and_copies_the_embed_code(page, live_server, city):
    page.goto(f"{live_server.url}/data/?status=open")
    assert page.get_by_role("heading", level=1).is_visible()
    assert "status=open" in page.locator("#download-csv").get_attribute("href")
    code = page.locator("#embed-snippet-code").input_value()
    assert code.startswith(f'<iframe src="{live_server.url}/embed/?status=open"')
    page.get_by_role("button", name="Copy the code").click()
    page.get_by_text("Copied.").wait_for()
    assert serious_axe_violations(page) == []


def test_embedded_map_works_in_an_iframe_is_accessible_and_other_pages_refuse(
    page, live_server, city
):
    # A host page on an http origin (an about:blank parent is no network origin, which
    # frame-ancestors never matches).
    page.goto(f"{live_server.url}/healthz")
    page.set_content(
        f'<iframe id="embed" title="map" width="600" height="400" '
        f'src="{live_server.url}/embed/?ward=42"></iframe>'
        f'<iframe id="data" title="data" width="600" height="200" '
        f'src="{live_server.url}/data/"></iframe>'
    )
    embed = page.frame_locator("#embed")
    embed.locator("#embed-map[data-features]").wait_for(state="attached")
    drawn = embed.locator("#embed-map").get_attribute("data-features")
    assert int(drawn) >= 1
    assert embed.locator(".leaflet-interactive, .embed-cluster").count() >= 1
    # X-Frame-Options: DENY keeps every other page out of frames.
    frame_urls = [frame.url for frame in page.frames]
    assert not any(url.endswith("/data/") for url in frame_urls), frame_urls
    assert any(url.startswith("chrome-error:") for url in frame_urls), frame_urls

    page.goto(f"{live_server.url}/embed/?ward=42")
    page.locator("#embed-map[data-features]").wait_for(state="attached")
    assert serious_axe_violations(page) == []


def test_atom_feed_reads_as_a_page_in_a_browser(page, live_server, city):
    page.goto(f"{live_server.url}/feeds/issues/new/")
    heading = page.get_by_role("heading", level=1)
    heading.wait_for()
    assert "feed reader" in page.locator("p.callout").inner_text()
    assert page.locator("ol.issue-list li").count() >= 1
