"""Two small middlewares that hold for every response (docs/security.md):

- `ContentSecurityPolicyMiddleware`: a strict Content-Security-Policy. Scripts only from our own
  static files (no inline script, no event-handler attributes, no eval), so an injected tag can
  run nothing; images from us, data: URIs (Leaflet) and the map's tile server.
- `NulPathMiddleware`: a path with a NUL in it names nothing we serve, and PostgreSQL refuses a
  NUL in a query (a 500 from any view that looks the path up): 404 before any view runs.
"""

from __future__ import annotations

import re
from functools import cache
from urllib.parse import urlsplit

from django.conf import settings
from django.http import Http404


def _tile_source(url: str) -> str:
    """The tile server's origin as a CSP source: "https://{s}.tile.example/{z}/..." becomes
    "https://*.tile.example"."""
    if not url:
        return ""
    parts = urlsplit(url)
    host = re.sub(r"\{s\}", "*", parts.netloc)
    if not parts.scheme or "{" in host:
        return f"{parts.scheme}:" if parts.scheme else ""
    return f"{parts.scheme}://{host}"


@cache
def _policy(tile_url: str, framed: bool) -> str:
    img = " ".join(s for s in ("'self'", "data:", "blob:", _tile_source(tile_url)) if s)
    directives = [
        "default-src 'self'",
        "script-src 'self'",
        # Style attributes carry per-item sizes and colours (map clusters, ward colours) that
        # Leaflet and our scripts write; an attribute can run no script and user text is escaped
        # anyway. <style> elements stay refused where browsers tell the two apart
        # (style-src-elem/-attr); older browsers fall back to style-src.
        "style-src 'self' 'unsafe-inline'",
        "style-src-elem 'self'",
        "style-src-attr 'unsafe-inline'",
        f"img-src {img}",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    ]
    # The embed is the one page other sites may frame (its view is xframe_options_exempt).
    directives.append("frame-ancestors *" if framed else "frame-ancestors 'none'")
    return "; ".join(directives)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            framed = getattr(response, "xframe_options_exempt", False)
            response["Content-Security-Policy"] = _policy(settings.MAP_TILE_URL, framed)
        return response


class NulPathMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path:
            raise Http404("No such page.")
        return self.get_response(request)
