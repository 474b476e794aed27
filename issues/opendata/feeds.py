"""Atom feeds of new and of updated public issues: everywhere, per ward, per service type.

Written like atom.py's feeds (a `StyledAtomFeed` filled directly), from rows read as values
(`selectors.feed_rows`), with each entry's address made from one prefix per feed rather than a
`reverse` per entry: a cold feed is CPU, not SQL. The bytes are what Django's syndication
framework wrote before (issue 19), so readers see no entry twice: the feed's and the entries'
links carry the request's host, the entries' ids SITE_URL.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import escape, format_html, linebreaks
from django.utils.http import http_date
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from departments.models import ServiceType, Ward
from departments.translations import translated, translated_value
from issues import selectors
from issues.models import OPEN_STATUSES, Resolution, Status, resolution_text
from issues.opendata.atom import STYLESHEET, StyledAtomFeed, render

FEED_LENGTH = 50
_RESOLUTIONS = dict(Resolution.choices)
_MARK = "PUBLIC-ID"  # stands in for an issue's public id in the one reversed issue URL


@dataclass(frozen=True)
class Scope:
    ward: Ward | None = None
    service_type: ServiceType | None = None

    @property
    def label(self) -> str:
        if self.ward:
            return str(self.ward)
        if self.service_type:
            return translated(self.service_type, "name")
        return _("all of the city")

    @property
    def params(self) -> str:
        if self.ward:
            return f"ward={self.ward.number}"
        if self.service_type:
            return f"type={self.service_type.service_code}"
        return ""


def _scope(ward: int | None, service_code: str | None) -> Scope:
    if ward is not None:
        # Not the ward's boundary: a large GeoJSON document the feed never shows.
        found = Ward.objects.only("pk", "number", "name").filter(number=ward).first()
        if found is None:
            raise Http404(_("There is no ward %(n)s.") % {"n": ward})
        return Scope(ward=found)
    if service_code is not None:
        found = ServiceType.objects.filter(service_code=service_code).first()
        if found is None:
            raise Http404(_("There is no service type “%(c)s”.") % {"c": service_code})
        return Scope(service_type=found)
    return Scope()


def _title(row: dict, type_name: str) -> str:
    where = row["address"] or (row["ward__name"] if row["ward_id"] else "")
    words = {"type": type_name, "where": where, "status": Status(row["status"]).label}
    if where:
        # Translators: a feed entry's title, e.g. "Pothole in Street, 121 N LaSalle St (open)".
        return _("%(type)s, %(where)s (%(status)s)") % words
    return _("%(type)s (%(status)s)") % words


def _summary(row: dict) -> str:
    # Atom summaries are HTML: user text is escaped here, so nothing a reporter types is markup.
    parts = [linebreaks(escape(row["description"]))] if row["description"] else []
    if row["resolution"] and row["status"] not in OPEN_STATUSES:
        # No duplicate's id here: that would be a query per item; the page links to it.
        parts.append(
            format_html(
                "<p><strong>{}</strong> {}</p>",
                _RESOLUTIONS.get(row["resolution"], row["resolution"]),
                resolution_text(row["resolution"], referred_to=row["referred_to"]),
            )
        )
    if row["status_notes"]:
        department = translated_value(
            row["department__name"], row["department__translations"], "name"
        )
        parts.append(
            format_html(
                "<p><strong>{}</strong> {}</p>",
                _("Official update from %(d)s:") % {"d": department},
                row["status_notes"],
            )
        )
    return "".join(parts)


def _issue_feed(request: HttpRequest, scope: Scope, *, updated: bool) -> HttpResponse:
    """`updated=False`: newly reported issues; `updated=True`: issues by their last change, each
    change a new entry (its id carries the change time, so readers show it again)."""
    home = reverse("issues:home")
    label = scope.label
    if updated:
        title = _("Updated issues: %(scope)s") % {"scope": label}
    else:
        title = _("New issues: %(scope)s") % {"scope": label}
    link = request.build_absolute_uri(f"{home}?{scope.params}" if scope.params else home)
    feed = StyledAtomFeed(
        title=title,
        subtitle=_("Public reports from the city's issue tracker, newest first."),
        link=link,
        description=None,
        language=get_language(),
        feed_url=request.build_absolute_uri(request.path),
        # RFC 4287: a feed whose entries name no author must name one itself.
        author_name=settings.SITE_NAME,
        stylesheets=[static(STYLESHEET)],  # a browser shows a page, not raw XML
    )
    # The links follow the host asked (as the syndication framework wrote them); the ids stay
    # SITE_URL's whatever the host, so a reader never sees an entry as new.
    before, after = reverse("issues:detail", kwargs={"public_id": _MARK}).split(_MARK)
    link_before = request.build_absolute_uri(before)
    id_before = f"{settings.SITE_URL}{before}"
    rows = selectors.feed_rows(
        ward_id=scope.ward.pk if scope.ward else None,
        service_type_id=scope.service_type.pk if scope.service_type else None,
        by_update=updated,
        limit=FEED_LENGTH,
    )
    for row in rows:
        type_name = translated_value(
            row["service_type__name"], row["service_type__translations"], "name"
        )
        guid = f"{id_before}{row['public_id']}{after}"
        if updated:
            guid = f"{guid}#updated-{row['updated_at']:%Y%m%dT%H%M%S.%f}"
        feed.add_item(
            title=_title(row, type_name),
            link=f"{link_before}{row['public_id']}{after}",
            description=_summary(row),
            unique_id=guid,
            unique_id_is_permalink=False,
            pubdate=row["requested_at"],
            updateddate=row["updated_at"],
            categories=[type_name, row["ward__name"]] if row["ward_id"] else [type_name],
        )
    response = render(feed)
    # For ConditionalGetMiddleware's 304s, as the syndication framework sent it.
    response.headers["Last-Modified"] = http_date(feed.latest_post_date().timestamp())
    return response


@require_safe
def new_issues(request, ward: int | None = None, service_code: str | None = None):
    return _issue_feed(request, _scope(ward, service_code), updated=False)


@require_safe
def updated_issues(request, ward: int | None = None, service_code: str | None = None):
    return _issue_feed(request, _scope(ward, service_code), updated=True)
