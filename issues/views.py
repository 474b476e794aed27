"""Residents' pages: the map and list, reporting, the issue page, the tracker.

Views read through issues.selectors and write through issues.services; what a person typed is
always shown back to them when something is refused.
"""

from __future__ import annotations

import contextlib

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from issues import ratelimit, selectors, services
from issues.filters import IssueFilters
from issues.forms import (
    AttributeQuestions,
    CommentForm,
    KeptPhotos,
    ReportForm,
    ViewportError,
    parse_viewport,
)
from issues.models import Source, Status
from issues.photos import prepare_photos

LIST_PAGE_SIZE = 20
# The list counts at most this many issues ("more than 10,000"): an exact COUNT(*) over every
# public issue grows with the city's history (23 ms at 100k issues, ten times that at 1M).
LIST_COUNT_CAP = 10_000


class CappedPaginator(Paginator):
    """A paginator whose count stops at LIST_COUNT_CAP + 1, so the list costs the same at any
    size; beyond the cap, filters (or the CSV export) reach older issues."""

    @cached_property
    def count(self) -> int:
        # Unordered: any LIST_COUNT_CAP + 1 rows will do for counting, and ORDER BY would sort.
        return self.object_list.order_by()[: LIST_COUNT_CAP + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > LIST_COUNT_CAP


def _map_config(request, **extra) -> dict:
    return {
        "center": [settings.MAP_CENTER_LAT, settings.MAP_CENTER_LON],
        "zoom": settings.MAP_DEFAULT_ZOOM,
        "tileUrl": settings.MAP_TILE_URL,
        "tileAttribution": settings.MAP_TILE_ATTRIBUTION,
        "viewportUrl": reverse("issues:viewport"),
        "reportUrl": reverse("issues:report"),
        "wardsUrl": reverse("issues:ward_outlines"),
        "strings": {
            "tilesFailed": _(
                "Map pictures could not load. Issues and ward outlines are still shown."
            ),
            "loadFailed": _("Issues could not be loaded for this area. Try again in a moment."),
            "issues": _("issues"),
            "zoomIn": _("Zoom in to see them"),
            "view": _("View issue"),
            "reportHere": _("Report a problem here"),
            "statuses": {value: str(label) for value, label in Status.choices},
            "cluster": _("Group of issues (number inside)"),
        },
        **extra,
    }


def home(request):
    """The map and, beside it, the same filtered issues as a paginated list."""
    filters = IssueFilters.from_params(request.GET)
    page = CappedPaginator(selectors.issue_list(filters), LIST_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "filters": filters,
        "page": page,
        "service_groups": selectors.service_types_grouped(),
        "wards": selectors.wards_for_filter(),
        "statuses": Status.choices,
        "map_config": _map_config(request, filters=filters.as_params()),
        "count_cap": LIST_COUNT_CAP,
    }
    return render(request, "issues/home.html", context, status=400 if filters.errors else 200)


@require_GET
def viewport(request):
    """GeoJSON for the visible box: clusters when zoomed out, issues when zoomed in."""
    try:
        bbox, zoom = parse_viewport(request.GET, settings.MAP_DEFAULT_ZOOM)
    except ViewportError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    # The box is the map's own (already read, and clamped); the shared filters must not read it
    # again as a "figure" bbox.
    params = request.GET.copy()
    params.pop("bbox", None)
    filters = IssueFilters.from_params(params)
    if filters.errors:
        return JsonResponse(
            {"error": " ".join(filters.errors.values()), "errors": filters.errors}, status=400
        )
    response = JsonResponse(
        selectors.map_features(bbox, zoom, filters), content_type="application/geo+json"
    )
    # Public data: short caching smooths panning back and forth; other sites may draw it.
    response["Cache-Control"] = "public, max-age=30"
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
@cache_control(public=True, max_age=3600)
def ward_outlines(request):
    return JsonResponse(selectors.ward_outlines(), content_type="application/geo+json")


def _report_context(request, form, questions, kept, **extra) -> dict:
    lat = form["latitude"].value() if form.is_bound else form.initial.get("latitude")
    lon = form["longitude"].value() if form.is_bound else form.initial.get("longitude")
    return {
        "form": form,
        "questions": questions,
        "kept_photos": kept.for_template(),
        "photo_slots": max(0, settings.PHOTO_MAX_PER_ISSUE - len(kept)),
        "map_config": _map_config(
            request,
            pin=[lat, lon] if lat and lon else None,
            questionsUrl=reverse("issues:report_questions"),
            nearbyUrl=reverse("issues:report_nearby"),
        ),
        **extra,
    }


@require_http_methods(["GET", "POST"])
def report(request):
    """Report a problem. Works as a plain HTML form; the map and live checks are extras."""
    if request.method == "POST":
        return _submit_report(request)
    initial = {k: request.GET[k] for k in ("latitude", "longitude", "address") if k in request.GET}
    service_type = selectors.service_type_with_attributes(request.GET.get("type", ""))
    if service_type:
        initial["service_code"] = service_type.service_code
    form = ReportForm(initial=initial, user=request.user)
    questions = AttributeQuestions(service_type=service_type)
    return render(
        request, "issues/report.html", _report_context(request, form, questions, KeptPhotos())
    )


def _submit_report(request):
    form = ReportForm(request.POST, request.FILES, user=request.user)
    service_type = selectors.service_type_with_attributes(request.POST.get("service_code", ""))
    questions = AttributeQuestions.from_post(service_type, request.POST)
    kept = KeptPhotos.from_post(request.POST)

    def again(status: int, **extra):
        context = _report_context(request, form, questions, kept, **extra)
        return render(request, "issues/report.html", context, status=status)

    if "choose_type" in request.POST:
        # Without JavaScript the questions of the chosen type come by reloading the form: show
        # it again as typed, without judging it yet.
        form = ReportForm(initial=request.POST.dict(), user=request.user)
        for upload in request.FILES.getlist("photos")[
            : max(0, settings.PHOTO_MAX_PER_ISSUE - len(kept))
        ]:
            # A bad file is judged, with its reason shown, when the report is sent.
            with contextlib.suppress(ValidationError):
                kept.add(prepare_photos([upload]))
        return again(200)
    if not ratelimit.allow("report", request):
        return again(429, rate_limited=True)

    valid = form.is_valid()
    questions.validate()
    valid = valid and not questions.has_errors
    uploads = request.FILES.getlist("photos")
    if uploads:
        if len(kept) + len([u for u in uploads if u]) > settings.PHOTO_MAX_PER_ISSUE:
            form.add_error(
                "photos",
                _("At most %(n)d photos per report.") % {"n": settings.PHOTO_MAX_PER_ISSUE},
            )
            valid = False
        else:
            try:
                kept.add(prepare_photos(uploads))
            except ValidationError as exc:
                form.add_error("photos", exc.messages)
                valid = False
    if not valid:
        return again(400)

    data = form.cleaned_data
    if service_type is None:
        form.add_error("service_code", _("Choose what kind of problem it is."))
        return again(400)
    if not data.get("not_duplicate") and data.get("latitude") is not None:
        nearby = selectors.nearby_open_issues(
            service_type=service_type, latitude=data["latitude"], longitude=data["longitude"]
        )
        if nearby:
            # "Is this it?": one look at what is already reported before adding another.
            form.data = form.data.copy()
            form.data["not_duplicate"] = "1"
            return again(200, nearby=nearby, duplicate_check=True)
    user = request.user if request.user.is_authenticated else None
    if form.for_caller:
        user = None  # the caller is the reporter; the staff member only typed it in
    try:
        issue = services.create_issue(
            service_type=service_type,
            latitude=data.get("latitude"),
            longitude=data.get("longitude"),
            address=data.get("address", ""),
            description=data.get("description", ""),
            attributes=questions.answers,
            reporter=user,
            reporter_name=data.get("name", ""),
            reporter_email=data.get("email", ""),
            reporter_phone=data.get("phone", ""),
            hide_reporter_name=data.get("hide_name", False),
            photos=kept.prepared(),
            source=Source.STAFF if form.staff_entry else Source.WEB,
            # Staff may take a report just outside the wards (a city-owned lot, a boundary
            # road): it is kept for triage. Residents are told to pick a place in the city.
            require_ward=not form.staff_entry,
        )
    except ValidationError as exc:
        form.apply_service_errors(exc, questions)
        return again(400)
    kept.discard()
    messages.success(
        request,
        _("Thank you. Your report is in: quote %(id)s if you call the city.")
        % {"id": issue.public_id},
    )
    return redirect(f"{issue.get_absolute_url()}?new=1")


@require_GET
def report_questions(request):
    """The attribute questions of one service type, as the fragment the report form shows."""
    service_type = selectors.service_type_with_attributes(request.GET.get("type", ""))
    if service_type is None and request.GET.get("type"):
        return HttpResponseBadRequest(_("Unknown service type."))
    questions = AttributeQuestions(service_type=service_type)
    return render(request, "issues/_questions.html", {"questions": questions})


@require_GET
def report_nearby(request):
    """Open issues of the same type within about 50 m, for the "Is this it?" box."""
    service_type = selectors.service_type_with_attributes(request.GET.get("type", ""))
    try:
        lat, lon = float(request.GET.get("latitude", "")), float(request.GET.get("longitude", ""))
    except ValueError:
        return HttpResponseBadRequest(_("latitude and longitude must be numbers."))
    if service_type is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return HttpResponseBadRequest(_("A known service type and a point are needed."))
    nearby = selectors.nearby_open_issues(service_type=service_type, latitude=lat, longitude=lon)
    return render(request, "issues/_nearby.html", {"nearby": nearby, "live": True})


def _not_found(request, public_id: str = ""):
    return render(request, "issues/not_found.html", {"public_id": public_id}, status=404)


def _detail_context(request, issue, comment_form=None, **extra) -> dict:
    return {
        "issue": issue,
        "photos": issue.public_photos,
        "timeline": selectors.public_timeline(issue),
        "answers": selectors.attribute_answers(issue),
        "aldermen": list(issue.ward.aldermen.all()) if issue.ward_id else [],
        "viewer": selectors.viewer_state(issue, request.user),
        "comment_form": comment_form or CommentForm(),
        "is_new": request.GET.get("new") == "1",
        "map_config": _map_config(request, pin=[issue.latitude, issue.longitude], zoom=17)
        if issue.latitude is not None
        else None,
        **extra,
    }


def issue_detail(request, public_id: str):
    issue = selectors.issue_page(public_id)
    if issue is None:
        return _not_found(request, public_id)
    return render(request, "issues/detail.html", _detail_context(request, issue))


def _rate_limited(request, issue, what: str):
    return render(request, "issues/rate_limited.html", {"issue": issue, "what": what}, status=429)


@require_POST
def vote(request, public_id: str):
    """ "I have this too" (or take it back): one vote per account."""
    issue = selectors.public_issue(public_id)
    if issue is None:
        return _not_found(request, public_id)
    if not request.user.is_authenticated:
        return redirect_to_login(issue.get_absolute_url())
    if not ratelimit.allow("vote", request):
        return _rate_limited(request, issue, _("votes"))
    if request.POST.get("action") == "remove":
        services.remove_vote(issue=issue, user=request.user)
        messages.info(request, _("Your vote is taken back."))
    else:
        if services.add_vote(issue=issue, user=request.user):
            messages.success(request, _("Thanks: the city sees that you have this problem too."))
        else:
            messages.info(request, _("You had already said you have this too."))
    return redirect(issue.get_absolute_url())


@require_POST
def follow(request, public_id: str):
    issue = selectors.public_issue(public_id)
    if issue is None:
        return _not_found(request, public_id)
    if not request.user.is_authenticated:
        return redirect_to_login(issue.get_absolute_url())
    if request.POST.get("action") == "unfollow":
        services.unfollow_issue(issue=issue, user=request.user)
        messages.info(request, _("You no longer follow this issue."))
    else:
        services.follow_issue(issue=issue, user=request.user)
        messages.success(request, _("You follow this issue: we will email you about updates."))
    if request.POST.get("next") == "profile":
        return redirect("accounts:profile")
    return redirect(issue.get_absolute_url())


@login_required
@require_POST
def comment(request, public_id: str):
    issue = selectors.issue_page(public_id)
    if issue is None:
        return _not_found(request, public_id)
    form = CommentForm(request.POST)

    def again(status: int, **extra):
        context = _detail_context(request, issue, comment_form=form, **extra)
        return render(request, "issues/detail.html", context, status=status)

    if not ratelimit.allow("comment", request):
        return again(429, comment_rate_limited=True)
    if not form.is_valid():
        return again(400)
    try:
        created = services.add_comment(
            issue=issue, author=request.user, body=form.cleaned_data["body"]
        )
    except (ValidationError, PermissionDenied) as exc:
        form.add_error("body", getattr(exc, "messages", [str(exc)]))
        return again(400)
    messages.success(request, _("Your comment is posted."))
    return redirect(f"{issue.get_absolute_url()}#comment-{created.pk}")


@require_GET
def track(request):
    """The service tracker: a request id in, its page out; an unknown id gets a kind 404."""
    raw = (request.GET.get("id") or "").strip()
    if not raw:
        return render(request, "issues/track.html", {})
    issue = selectors.public_issue(raw[:40])
    if issue is None:
        return render(
            request, "issues/track.html", {"query": raw[:40], "not_found": True}, status=404
        )
    return redirect(issue.get_absolute_url())
