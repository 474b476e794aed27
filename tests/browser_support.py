"""What browser tests share besides the fixtures: the chromium binary and the axe check."""

import os
import shutil

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
INSTALL_HINT = (
    "Browser tests need Debian's chromium: `sudo apt-get install chromium` "
    "(or set CHROMIUM_PATH). .ci/run installs it."
)


def serious_axe_violations(page) -> list[dict]:
    """Run axe-core (shipped inside axe-playwright-python) and keep serious/critical findings."""
    from axe_playwright_python.sync_playwright import Axe

    # Contrast is measured on what is painted: a popup or message half-way through a fade reads
    # as faint text. Finite transitions and animations end first (infinite ones never count).
    page.wait_for_function(
        """() => document.getAnimations().every(a => a.playState !== 'running'
            || a.effect?.getTiming?.().iterations === Infinity)"""
    )
    results = Axe().run(page)
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in results.response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]
