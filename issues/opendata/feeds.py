"""Atom feeds of new and of updated public issues: everywhere, per ward, per service type."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.http import Http404
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import escape, format_html, linebreaks
from django.utils.translation import gettext as _

from departments.models import ServiceType, Ward
from departments.translations import translated
from issues import selectors
from issues.models import Issue, Status, resolution_text
from issues.opendata.atom import STYLESHEET, StyledAtomFeed

FEED_LENGTH = 50


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


class IssueFeed(Feed):
    """`updated=False`: newly reported issues; `updated=True`: issues by their last change, each
    change a new entry (its id carries the change time, so readers show it again)."""

    feed_type = StyledAtomFeed  # a browser shows a page (static/feeds/atom.xsl), not raw XML
    updated = False

    def stylesheets(self) -> list[str]:
        return [static(STYLESHEET)]

    def author_name(self) -> str:
        # RFC 4287: a feed whose entries name no author must name one itself.
        return settings.SITE_NAME

    def get_object(self, request, ward: int | None = None, service_code: str | None = None):
        if ward is not None:
            found = Ward.objects.filter(number=ward).first()
            if found is None:
                raise Http404(_("There is no ward %(n)s.") % {"n": ward})
            return Scope(ward=found)
        if service_code is not None:
            found = ServiceType.objects.filter(service_code=service_code).first()
            if found is None:
                raise Http404(_("There is no service type “%(c)s”.") % {"c": service_code})
            return Scope(service_type=found)
        return Scope()

    def title(self, scope: Scope) -> str:
        if self.updated:
            return _("Updated issues: %(scope)s") % {"scope": scope.label}
        return _("New issues: %(scope)s") % {"scope": scope.label}

    def subtitle(self, scope: Scope) -> str:
        return _("Public reports from the city's issue tracker, newest first.")

    def link(self, scope: Scope) -> str:
        home = reverse("issues:home")
        return f"{home}?{scope.params}" if scope.params else home

    def items(self, scope: Scope):
        queryset = selectors.public_issues()  # which already defers the ward boundary
        if scope.ward:
            queryset = queryset.filter(ward=scope.ward)
        if scope.service_type:
            queryset = queryset.filter(service_type=scope.service_type)
        order = "-updated_at" if self.updated else "-requested_at"
        return queryset.order_by(order, "-id")[:FEED_LENGTH]

    def item_title(self, issue: Issue) -> str:
        where = issue.address or (str(issue.ward) if issue.ward_id else "")
        words = {
            "type": translated(issue.service_type, "name"),
            "where": where,
            "status": Status(issue.status).label,
        }
        if where:
            # Translators: a feed entry's title, e.g. "Pothole in Street, 121 N LaSalle St (open)".
            return _("%(type)s, %(where)s (%(status)s)") % words
        return _("%(type)s (%(status)s)") % words

    def item_description(self, issue: Issue) -> str:
        # Atom summaries are HTML: user text is escaped here, so nothing a reporter types is markup.
        parts = [linebreaks(escape(issue.description))] if issue.description else []
        if issue.resolution and not issue.is_open:
            # No duplicate's id here: that would be a query per item; the page links to it.
            parts.append(
                format_html(
                    "<p><strong>{}</strong> {}</p>",
                    issue.get_resolution_display(),
                    resolution_text(issue.resolution, referred_to=issue.referred_to),
                )
            )
        if issue.status_notes:
            parts.append(
                format_html(
                    "<p><strong>{}</strong> {}</p>",
                    _("Official update from %(d)s:") % {"d": translated(issue.department, "name")},
                    issue.status_notes,
                )
            )
        return "".join(parts)

    def item_link(self, issue: Issue) -> str:
        return issue.get_absolute_url()

    def item_guid(self, issue: Issue) -> str:
        url = f"{settings.SITE_URL}{issue.get_absolute_url()}"
        if self.updated:
            return f"{url}#updated-{issue.updated_at:%Y%m%dT%H%M%S.%f}"
        return url

    item_guid_is_permalink = False

    def item_pubdate(self, issue: Issue):
        return issue.requested_at

    def item_updateddate(self, issue: Issue):
        return issue.updated_at

    def item_categories(self, issue: Issue) -> list[str]:
        categories = [translated(issue.service_type, "name")]
        if issue.ward_id:
            categories.append(str(issue.ward))
        return categories


class UpdatedIssueFeed(IssueFeed):
    updated = True
