"""Ward pages: the league table, each ward's dashboard, and what aldermen and watchers set there.

Figures come from league.py and ward.py, and pages.py pairs each with the public list and the CSV
that produce it; these views only read the request, pick a page and a template.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST, require_safe

from accounts import roles
from accounts.models import User
from departments.models import ServiceType, Ward
from departments.selectors import OUTLINE_DETAILS, ward_outlines
from issues import selectors
from issues.dashboards import pages, type_pages
from issues.dashboards.league import LEAGUE_SORTS
from issues.dashboards.per_language import one_language
from issues.dashboards.stored import league_context
from issues.dashboards.trends import stored_type_trend, ward_month
from issues.dashboards.ward import (
    cached_ward_dashboard,
    service_types,
    ward_open_issue_points,
)
from issues.notify import subscriptions


class DigestForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["notify_ward_digest"]


def _bad_request(request: HttpRequest, message: str) -> HttpResponse:
    html = render_to_string("dashboards/bad_request.html", {"message": message}, request=request)
    return HttpResponseBadRequest(html)


def _back(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


@require_safe
@one_language
def league(request: HttpRequest) -> HttpResponse:
    sort = request.GET.get("sort", "number")
    direction = request.GET.get("dir", "")
    if sort not in LEAGUE_SORTS:
        return _bad_request(
            request,
            _("Cannot sort by “%(s)s”. Choose one of: %(all)s.")
            % {"s": sort[:40], "all": ", ".join(LEAGUE_SORTS)},
        )
    if direction not in ("", "asc", "desc"):
        return _bad_request(request, _("The sort direction is “asc” or “desc”."))
    descending = direction == "desc" if direction else sort in pages.DESCENDING_BY_DEFAULT
    context = pages.league_page(sort=sort, descending=descending)
    return render(request, "dashboards/league.html", context)


def _ward_numbers(request: HttpRequest) -> list[int] | str:
    """The wards to compare, from ?wards=1&wards=2 or ?wards=1,2; a message when unreadable."""
    raw = [part for value in request.GET.getlist("wards") for part in value.split(",") if part]
    numbers: list[int] = []
    for part in raw:
        if not part.strip().isdigit():
            return _("“%(w)s” is not a ward number.") % {"w": part[:20]}
        if int(part) not in numbers:
            numbers.append(int(part))
    return numbers


@require_safe
@one_language
def compare(request: HttpRequest) -> HttpResponse:
    numbers = _ward_numbers(request)
    if isinstance(numbers, str):
        return _bad_request(request, numbers)
    known = set(Ward.objects.values_list("number", flat=True))
    unknown = [n for n in numbers if n not in known]
    if unknown:
        return _bad_request(
            request,
            _("There is no ward %(n)s.") % {"n": ", ".join(str(n) for n in unknown)},
        )
    if len(numbers) > pages.COMPARE_MAX:
        return _bad_request(
            request,
            ngettext(
                "Compare at most %(n)d ward at a time.",
                "Compare at most %(n)d wards at a time.",
                pages.COMPARE_MAX,
            )
            % {"n": pages.COMPARE_MAX},
        )
    if len(numbers) < pages.COMPARE_MIN:
        # No choice yet (or one ward): the form alone, with what was chosen ticked.
        context = pages.compare_page([])
        context["chosen_numbers"] = set(numbers)
        return render(request, "dashboards/compare.html", context)
    return render(request, "dashboards/compare.html", pages.compare_page(numbers))


@require_safe
@one_language
def types_index(request: HttpRequest) -> HttpResponse:
    return render(request, "dashboards/types.html", type_pages.types_page())


@require_safe
@one_language
def type_detail(request: HttpRequest, code: str) -> HttpResponse:
    service_type = get_object_or_404(ServiceType, service_code=code)
    context = type_pages.type_page(stored_type_trend(service_type=service_type))
    return render(request, "dashboards/type_detail.html", context)


@require_safe
def outlines(request: HttpRequest) -> HttpResponse:
    """Every ward's simplified outline at an unversioned URL (embeds, open data): cached an hour.
    The home map uses versioned_outlines."""
    version, data = ward_outlines()
    etag = f'"{version}"'
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(
            json.dumps(data, separators=(",", ":")), content_type="application/geo+json"
        )
    response["ETag"] = etag
    response["Cache-Control"] = "public, max-age=3600"
    return response


@require_safe
def versioned_outlines(request: HttpRequest, version: str, detail: str) -> HttpResponse:
    """The outlines at one level of detail (OUTLINE_DETAILS) under a URL that names the wards'
    version: a changed boundary gets a new URL, so this one may be kept for a year. An old
    version (a page cached before the change) is sent on to the current one."""
    if detail not in OUTLINE_DETAILS:
        return HttpResponse(
            _("No such level of detail. Choose one of: %(all)s.")
            % {"all": ", ".join(OUTLINE_DETAILS)},
            status=404,
            content_type="text/plain; charset=utf-8",
        )
    current, data = ward_outlines(*OUTLINE_DETAILS[detail])
    if version != current:
        response = redirect("issues:ward_outlines_at", current, detail)
        response["Cache-Control"] = "public, max-age=60"
        return response
    response = HttpResponse(
        json.dumps(data, separators=(",", ":")), content_type="application/geo+json"
    )
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_safe
@one_language
def ward_detail(request: HttpRequest, slug: str) -> HttpResponse:
    ward = get_object_or_404(Ward, slug=slug)
    # The league first: its grouped count of the issues due earlier today has this ward's,
    # which the board would otherwise count again.
    league = league_context()
    board = cached_ward_dashboard(ward=ward, league=league)
    context = pages.ward_page(board, league)
    user = request.user
    is_alderman = ward.pk in roles.ward_ids(user)
    context.update(
        is_alderman=is_alderman,
        watching=selectors.is_watching_ward(ward, user),
        digest_form=DigestForm(instance=user) if is_alderman else None,
    )
    return render(request, "dashboards/ward_detail.html", context)


@require_safe
@one_language
def ward_report(request: HttpRequest, slug: str) -> HttpResponse:
    """The monthly report, for print (the browser's print to PDF, with a print stylesheet)."""
    ward = get_object_or_404(Ward, slug=slug)
    raw = request.GET.get("month", "")
    if raw:
        try:
            first = datetime.strptime(raw, "%Y-%m").date()
        except ValueError:
            return _bad_request(request, _("The month is written YYYY-MM, e.g. 2026-10."))
    else:
        # The last whole month.
        first = (timezone.localdate().replace(day=1) - timedelta(days=1)).replace(day=1)
    # The report prints no heat grid: a miss leaves out its read (the one growing with the data).
    league = league_context()  # as on the ward page: its count of the issues due earlier today
    types = service_types()  # the board's and the month's: read once
    board = cached_ward_dashboard(ward=ward, with_heat=False, league=league, types=types)
    month = ward_month(ward_id=ward.pk, first=first, types=types)
    context = pages.report_page(board, month, league)
    return render(request, "dashboards/ward_report.html", context)


@require_safe
def open_issues(request: HttpRequest, slug: str) -> JsonResponse:
    ward = get_object_or_404(Ward, slug=slug)
    features = ward_open_issue_points(ward=ward)
    return JsonResponse({"type": "FeatureCollection", "features": features})


@login_required
@require_POST
def watch(request: HttpRequest, slug: str) -> HttpResponse:
    ward = get_object_or_404(Ward, slug=slug)
    action = request.POST.get("action", "")
    if action == "watch":
        subscriptions.watch_ward(ward=ward, user=request.user)
        messages.success(
            request,
            _("You will get an email about each new report in %(ward)s.") % {"ward": ward.name},
        )
    elif action == "unwatch":
        subscriptions.unwatch_ward(ward=ward, user=request.user)
        messages.success(request, _("You no longer follow %(ward)s.") % {"ward": ward.name})
    else:
        return _bad_request(request, _("Choose to watch or to stop watching the ward."))
    return redirect(_back(request, reverse("wards:detail", kwargs={"slug": ward.slug})))


@login_required
@require_POST
def digest(request: HttpRequest) -> HttpResponse:
    if not roles.is_alderman(request.user):
        return _bad_request(request, _("The daily digest is for the aldermen of a ward."))
    form = DigestForm(request.POST, instance=request.user)
    if not form.is_valid():
        return _bad_request(request, _("The digest setting could not be read."))
    form.save()
    if form.cleaned_data["notify_ward_digest"]:
        messages.success(request, _("You will get a daily digest of your wards."))
    else:
        messages.success(request, _("The daily digest is off."))
    return redirect(_back(request, reverse("wards:mine")))


@login_required
@require_safe
@one_language
def my_wards(request: HttpRequest) -> HttpResponse:
    held = roles.ward_ids(request.user)
    watched = selectors.watched_ward_ids(request.user)
    rows = pages.my_wards_rows(held=held, watched=watched)
    return render(
        request,
        "dashboards/my_wards.html",
        {
            "held": [r for r in rows if r.ward_id in held],
            "watched": [r for r in rows if r.ward_id in watched and r.ward_id not in held],
            "digest_form": DigestForm(instance=request.user) if held else None,
            "opened_days": pages.OPENED_WINDOW_DAYS,
        },
    )
