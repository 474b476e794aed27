"""Atom feeds beside issues/opendata/feeds.py's (everywhere, per ward, per type): one issue's
history, any circle's new reports, and an alert's (its circle, its types). Every feed of the
site is a `StyledAtomFeed` filled with `add_item` and written by `render`; none uses Django's
syndication framework (its per-attribute look-ups were a third of a cold feed's CPU). Feed
readers poll them; a browser shows every feed of the site through the XSL stylesheet in
static/feeds/atom.xsl (a readable page with the address to copy), named by `StyledAtomFeed`.

Only public facts go in: hidden issues, internal notes and hidden comments never appear, and
reporters are never named.
"""

from __future__ import annotations

import io

from django.conf import settings
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404
from django.templatetags.static import static
from django.utils.cache import patch_vary_headers
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape, linebreaks
from django.utils.text import Truncator
from django.utils.translation import get_language, get_language_bidi
from django.utils.translation import gettext as _
from django.utils.xmlutils import SimplerXMLGenerator
from django.views.decorators.http import require_safe

from accounts.text import xml_safe
from departments.geo import bbox_around, distance_m
from departments.models import ServiceType
from departments.translations import translated
from issues import selectors
from issues.models import ALERT_RADIUS_MAX_M, ALERT_RADIUS_MIN_M, AreaAlert, Issue

FEED_ITEMS = 50
FEED_MAX_AGE = 300


STYLESHEET = "feeds/atom.xsl"
# The words of the page a browser makes of a feed (static/feeds/atom.xsl reads them): an Atom
# extension element (RFC 4287, section 6), written in the reader's language, which feed readers
# skip. The stylesheet itself is one static file for every language.
PAGE_NS = "urn:civicfix:feed-page"


class _XmlSafeWriter(SimplerXMLGenerator):
    """Django's feed writer refuses (a 500) any text with a control character in it, and one
    stored description took every feed that listed it down. Text is cleaned where it enters
    now (accounts/text.py); this drops what XML cannot carry from rows stored before that."""

    def characters(self, content):
        super().characters(xml_safe(content) if content else content)

    def startElement(self, name, attrs):
        if attrs:
            attrs = {key: xml_safe(str(value)) for key, value in attrs.items()}
        super().startElement(name, attrs)


class StyledAtomFeed(Atom1Feed):
    """Atom with its xml-stylesheet instruction (Django writes it for RSS only), written through
    the XML-safe writer above, served as application/xml: browsers show application/atom+xml as
    raw text and apply a stylesheet only to an XML type, while feed readers read Atom under
    either (the pages' <link rel="alternate"> still says application/atom+xml). Give it
    `stylesheets=[static(STYLESHEET)]`."""

    content_type = "application/xml; charset=utf-8"

    def root_attributes(self):
        attributes = super().root_attributes()
        attributes["xmlns:page"] = PAGE_NS
        return attributes

    def add_root_elements(self, handler):
        super().add_root_elements(handler)
        handler.startElement(
            "page:words",
            {
                "lang": get_language() or settings.LANGUAGE_CODE,
                "dir": "rtl" if get_language_bidi() else "ltr",
            },
        )
        words = {
            "title": _("%(title)s (feed)") % {"title": self.feed["title"]},
            "intro": _(
                "This is a feed: copy this page's address into a feed reader to hear about new "
                "entries. Nothing needs installing to read it here."
            ),
            "open": _("Open on the site"),
            "empty": _("Nothing here yet."),
        }
        for name, text in words.items():
            handler.addQuickElement(f"page:{name}", str(text))
        handler.endElement("page:words")

    def write(self, outfile, encoding):
        handler = _XmlSafeWriter(outfile, encoding, short_empty_elements=True)
        handler.startDocument()
        self.add_stylesheets(handler)
        handler.startElement("feed", self.root_attributes())
        self.add_root_elements(handler)
        self.write_items(handler)
        handler.endElement("feed")

    def add_stylesheets(self, handler):
        for stylesheet in self.feed["stylesheets"] or []:
            handler.processingInstruction("xml-stylesheet", stylesheet)


def _absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def _feed(request, *, title: str, subtitle: str, link: str) -> StyledAtomFeed:
    return StyledAtomFeed(
        title=title,
        link=_absolute(link),
        description=subtitle,
        subtitle=subtitle,
        # The feed's words are in the reader's language (what residents wrote stays as written).
        language=get_language() or settings.LANGUAGE_CODE,
        author_name=settings.SITE_NAME,
        feed_url=_absolute(request.get_full_path()),
        feed_guid=_absolute(request.get_full_path()),
        stylesheets=[static(STYLESHEET)],
    )


def render(feed: StyledAtomFeed) -> HttpResponse:
    """The feed written into a response: every Atom feed of the site goes out through here."""
    # Into a string, then into the response once: the writer writes each tag and text apart,
    # and through HttpResponse.write (wrapped in a TextIOWrapper) that was a sixth of a cold
    # feed's CPU. The same bytes: the wrapper encoded with these errors.
    text = io.StringIO()
    feed.write(text, "utf-8")
    return HttpResponse(
        text.getvalue().encode("utf-8", "xmlcharrefreplace"),
        content_type=StyledAtomFeed.content_type,
    )


def _respond(feed: StyledAtomFeed) -> HttpResponse:
    response = render(feed)
    response["Cache-Control"] = f"public, max-age={FEED_MAX_AGE}"
    # Its titles follow the reader's language (Accept-Language, or the language cookie): a
    # shared cache in front must keep one copy per language.
    patch_vary_headers(response, ("Accept-Language", "Cookie"))
    return response


def _issue_entries(feed: StyledAtomFeed, issues) -> None:
    for issue in issues:
        where = issue.address or _("a point on the map")
        type_name = translated(issue.service_type, "name")
        feed.add_item(
            # Translators: a feed entry's title, e.g. "[K7M2-9QXR] Pothole: 121 N LaSalle St (open)".
            title=_("[%(id)s] %(type)s: %(where)s (%(status)s)")
            % {
                "id": issue.public_id,
                "type": type_name,
                "where": where,
                "status": issue.get_status_display(),
            },
            link=_absolute(issue.get_absolute_url()),
            unique_id=_absolute(issue.get_absolute_url()),
            # Atom summaries are HTML to a reader: what a reporter typed is escaped.
            description=linebreaks(escape(Truncator(issue.description).chars(500))),
            pubdate=issue.requested_at,
            updateddate=issue.updated_at,
            categories=[type_name, str(issue.get_status_display())],
        )


def _newest(issues):
    return issues.order_by("-requested_at", "-id")[:FEED_ITEMS]


def _in_circle(lat: float, lon: float, radius_m: int, types: list[int]) -> list[Issue]:
    """Public reports within the circle, newest first: the indexed box, then exact distance."""
    west, south, east, north = bbox_around(lat, lon, radius_m)
    issues = selectors.public_issues().in_bbox(south, west, north, east)
    if types:
        issues = issues.filter(service_type_id__in=types)
    found = []
    for issue in issues.order_by("-requested_at", "-id")[: FEED_ITEMS * 4]:
        if distance_m(lat, lon, issue.latitude, issue.longitude) <= radius_m:
            found.append(issue)
    return found[:FEED_ITEMS]


@require_safe
def issue_feed(request, public_id: str):
    issue = selectors.public_issue(public_id)
    if issue is None:
        raise Http404
    feed = _feed(
        request,
        title=_("%(type)s %(id)s: its history")
        % {"type": translated(issue.service_type, "name"), "id": issue.public_id},
        subtitle=issue.address or _("a point on the map"),
        link=issue.get_absolute_url(),
    )
    url = _absolute(issue.get_absolute_url())
    for n, entry in enumerate(selectors.public_timeline(issue)):
        if entry.kind == "comment":
            title = _("Comment by %(who)s") % {"who": entry.author}
        elif entry.kind == "transfer":
            title = _("Sent to %(dept)s") % {"dept": entry.department}
        else:
            title = entry.status_label
        feed.add_item(
            title=title,
            link=url,
            unique_id=f"{url}#{entry.kind}-{n}",
            description=linebreaks(escape(entry.message or title)),
            pubdate=entry.at,
            updateddate=entry.at,
        )
    return _respond(feed)


@require_safe
def area_feed(request):
    """/feeds/area.atom?lat=..&lon=..&radius=..[&type=code...]: any circle, no alert needed."""
    try:
        lat, lon = float(request.GET["lat"]), float(request.GET["lon"])
        radius = int(request.GET.get("radius", 500))
    except (KeyError, ValueError):
        return HttpResponseBadRequest(
            _(
                "Give lat and lon (decimal degrees) and radius (metres), e.g. ?lat=41.88&lon=-87.63&radius=500."
            ),
            content_type="text/plain; charset=utf-8",
        )
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return HttpResponseBadRequest(
            _("lat must be between -90 and 90, lon between -180 and 180."),
            content_type="text/plain; charset=utf-8",
        )
    if not ALERT_RADIUS_MIN_M <= radius <= ALERT_RADIUS_MAX_M:
        return HttpResponseBadRequest(
            _("radius must be between %(min)s and %(max)s metres.")
            % {"min": ALERT_RADIUS_MIN_M, "max": ALERT_RADIUS_MAX_M},
            content_type="text/plain; charset=utf-8",
        )
    codes = request.GET.getlist("type")
    types = list(ServiceType.objects.filter(service_code__in=codes).values_list("pk", flat=True))
    if codes and not types:
        return HttpResponseBadRequest(
            _("No service type has that code."), content_type="text/plain; charset=utf-8"
        )
    feed = _feed(
        request,
        title=_("New reports within %(r)s m of %(lat).5f, %(lon).5f")
        % {"r": radius, "lat": lat, "lon": lon},
        subtitle=settings.SITE_NAME,
        link=f"/?lat={lat}&lon={lon}",
    )
    _issue_entries(feed, _in_circle(lat, lon, radius, types))
    return _respond(feed)


@require_safe
def alert_feed(request, token: str):
    """An alert's own feed: its circle and types. The token is the secret; the alert need not be
    confirmed (a feed sends no email), but a deleted alert's feed is gone."""
    alert = get_object_or_404(AreaAlert, token=token)
    types = list(alert.service_types.values_list("pk", flat=True))
    feed = _feed(
        request,
        title=_("Alert: %(name)s") % {"name": alert.label},
        subtitle=_("New reports within %(r)s m") % {"r": alert.radius_m},
        link=f"/?lat={alert.latitude}&lon={alert.longitude}",
    )
    _issue_entries(feed, _in_circle(alert.latitude, alert.longitude, alert.radius_m, types))
    return _respond(feed)
