"""{{ issues|issue_rows }}: the issue lists' rows (templates/issues/_issue_rows.html) written in
one filter call. As a template loop, a row's look-ups, `timesince`, `date` and two
blocktranslates were about 0.4 ms each: 8 ms of a cold home page for its twenty rows, the
largest part of its rendering. The HTML is the loop's, byte for byte, in every language
(tests/residents/test_issue_rows.py renders both and compares)."""

from __future__ import annotations

from collections.abc import Iterable

from django import template
from django.urls import reverse
from django.utils.dateformat import format as date_format
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import timesince
from django.utils.timezone import template_localtime
from django.utils.translation import gettext, ngettext, override

from departments.translations import translated
from issues.dashboards.ward import OldestIssue
from issues.models import Issue, Status

register = template.Library()

NO_PHOTO = '<span class="issue-row__thumb issue-row__thumb--none" aria-hidden="true"></span>'
PLACEHOLDER = "PUBLICID0"


def blocktranslated(said, values: dict) -> str:
    """`said()` (a gettext call) % values, as {% blocktranslate %} fills it in: in the
    untranslated text where a translation's placeholders do not fit."""
    try:
        return said() % values
    except (KeyError, ValueError):
        with override(None):
            return said() % values


def _age(issue: Issue) -> str:
    return blocktranslated(
        lambda: gettext("%(age)s ago"), {"age": conditional_escape(timesince(issue.requested_at))}
    )


def _votes(count: int) -> str:
    return blocktranslated(
        lambda: ngettext("%(n)s has this too", "%(n)s have this too", count),
        {"n": conditional_escape(localize(count))},
    )


def _detail_url() -> tuple[str, str]:
    """An issue page's URL before and after its id: one reverse() for a list's links, the id
    being the only part that changes."""
    head, tail = reverse("issues:detail", kwargs={"public_id": PLACEHOLDER}).split(PLACEHOLDER)
    return head, tail


@register.filter
def oldest_rows(issues: Iterable[OldestIssue], layout: str = "") -> SafeString:
    """The ward page's oldest open issues (ward.OldestIssue rows), as its template's loop wrote
    them, whitespace included: type and id linked, how long it has waited, the address. The
    loop's ten rows were a tenth of the page's rendering (timesince, a blocktranslate and a
    reverse() each). `layout` "report": as the monthly report's loop wrote them (the same
    rows, no whitespace between)."""
    before, after = ("", "") if layout == "report" else ("\n    ", "\n  ")
    url_head, url_tail = _detail_url()
    rows = []
    for issue in issues:
        public_id = conditional_escape(issue.public_id)
        waiting = blocktranslated(
            lambda: gettext("waiting %(since)s"),
            {"since": conditional_escape(timesince(issue.requested_at))},
        )
        address = f" · {conditional_escape(issue.address)}" if issue.address else ""
        rows.append(
            f'{before}<li><a href="{url_head}{public_id}{url_tail}">'
            f"{conditional_escape(translated(issue.service_type, 'name') if issue.service_type else '')}"
            f" · {public_id}</a> — {waiting}{address}</li>{after}"
        )
    return mark_safe("".join(rows))  # noqa: S308 (every value escaped above)


@register.filter
def issue_rows(issues: Iterable[Issue]) -> SafeString:
    """Each issue as the list's <li>: thumbnail (the first of `public_photos`, where the list
    prefetched them), type, status, request id, address, age and votes."""
    labels = {status.value: conditional_escape(status.label) for status in Status}
    url_head, url_tail = _detail_url()
    no_address = gettext("No address given")  # a template literal: printed as translated
    rows = []
    for issue in issues:
        public_id = conditional_escape(issue.public_id)
        photos = getattr(issue, "public_photos", None)
        thumb = (
            f'<img class="issue-row__thumb" src="{conditional_escape(photos[0].thumbnail.url)}"'
            ' alt="" width="64" height="64" loading="lazy">'
            if photos
            else NO_PHOTO
        )
        status = issue.status
        label = labels.get(status)
        if label is None:  # a status no longer among the choices shows as stored, like the tag
            label = conditional_escape(issue.get_status_display())
        address = conditional_escape(issue.address) if issue.address else no_address
        requested = conditional_escape(date_format(template_localtime(issue.requested_at), "c"))
        votes = f" · {_votes(issue.vote_count)}" if issue.vote_count else ""
        rows.append(
            f'<li class="issue-row">\n'
            f'  <a class="issue-row__link" href="{url_head}{public_id}{url_tail}">\n'
            f"    {thumb}\n"
            f'    <span class="issue-row__body">\n'
            f'      <span class="issue-row__title">'
            f"{conditional_escape(translated(issue.service_type, 'name') if issue.service_type else '')}"
            f"</span>\n"
            f'      <span class="issue-row__meta"><span class="badge badge--{conditional_escape(status)}">'
            f'{label}</span> <span class="request-id">{public_id}</span></span>\n'
            f'      <span class="issue-row__address">{address}</span>\n'
            f'      <span class="issue-row__age"><time datetime="{requested}">{_age(issue)}</time>'
            f"{votes}</span>\n"
            f"    </span>\n"
            f"  </a>\n"
            f"</li>"
        )
    return mark_safe("".join(rows))  # noqa: S308 (every value escaped above)
