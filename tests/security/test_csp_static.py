"""No template may hold inline script or an event-handler attribute: the Content-Security-Policy
(config/security.py) would refuse it in the browser. Also the policy's header itself."""

import re
from pathlib import Path

import pytest

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/(ld\+)?json\")[^>]*>")
HANDLER = re.compile(r"<[a-zA-Z][^>]*\son[a-z]+\s*=", re.DOTALL)
STYLE_BLOCK = re.compile(r"<style[\s>]")


def _pages():
    # Emails are read in mail clients, which no policy of ours governs.
    return [p for p in TEMPLATES.rglob("*.html") if "emails" not in p.parts]


@pytest.mark.parametrize(
    "pattern", [INLINE_SCRIPT, HANDLER, STYLE_BLOCK], ids=["script", "on*", "style"]
)
def test_no_template_holds_what_the_policy_refuses(pattern):
    found = [str(p.relative_to(TEMPLATES)) for p in _pages() if pattern.search(p.read_text())]
    assert found == []


@pytest.mark.django_db
def test_every_page_sends_the_policy_and_only_the_embed_may_be_framed(client):
    page = client.get("/accounts/login/")
    policy = page["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "'unsafe-eval'" not in policy
    assert "frame-ancestors 'none'" in policy
    assert "https://tile.openstreetmap.org" in policy
    embed = client.get("/embed/")
    assert "frame-ancestors *" in embed["Content-Security-Policy"]
    api = client.get("/open311/v2/services.json")
    assert "Content-Security-Policy" in api


@pytest.mark.parametrize(
    ("url", "source"),
    [
        ("https://{s}.tile.example.org/{z}/{x}/{y}.png", "https://*.tile.example.org"),
        ("https://tiles.example.org:8443/{z}/{x}/{y}.png", "https://tiles.example.org:8443"),
        ("", ""),
    ],
)
def test_tile_server_becomes_an_image_source(url, source):
    from config.security import _tile_source

    assert _tile_source(url) == source
