"""Real headless Chromium through Playwright's Python package, launching Debian's chromium.

Where chromium is missing the browser tests skip and say how to install it; .ci/run installs it,
so on CI they always run.
"""

import os
import shutil

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip(
            "Browser tests need Debian's chromium: `sudo apt-get install chromium` "
            "(or set CHROMIUM_PATH). .ci/run installs it."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield instance
        instance.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context per test (no cookies shared), phone-sized by default.
    Requests to anything but the live server are refused, so map tiles never leave the machine."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US")
    context.route(
        lambda url: not url.startswith(live_server.url),
        lambda route: route.abort(),
    )
    context.set_default_timeout(15_000)
    tab = context.new_page()
    yield tab
    context.close()


def serious_axe_violations(page) -> list[dict]:
    """Run axe-core (shipped inside axe-playwright-python) and keep serious/critical findings."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in results.response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]
