"""Reporting a problem: the form (a plain HTML form first; the map, the questions of the chosen
type and the "Is this it?" check are extras that JavaScript adds), and its two small fragments.

What a person typed is always shown back to them when something is refused, photos included.
"""

from __future__ import annotations

import contextlib

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts import ratelimit
from departments.selectors import service_type_with_attributes
from issues import selectors, services
from issues.forms import AttributeQuestions, KeptPhotos, ReportForm
from issues.models import UNCONFIRMED, Source
from issues.photos import PhotoNotStored, photo_slots, prepare_photos
from issues.views.assets import asset_choice_for, check_asset_choice, duplicates_for
from issues.views.home import map_config
from issues.views.moderation import withheld_receipt


def _report_context(request, form, questions, kept, **extra) -> dict:
    lat = form["latitude"].value() if form.is_bound else form.initial.get("latitude")
    lon = form["longitude"].value() if form.is_bound else form.initial.get("longitude")
    return {
        "form": form,
        "questions": questions,
        "kept_photos": kept.for_template(),
        "lost_photos": kept.lost,
        "photo_slots": photo_slots(len(kept)),
        "map_config": map_config(
            request,
            pin=[lat, lon] if lat and lon else None,
            questionsUrl=reverse("issues:report_questions"),
            nearbyUrl=reverse("issues:report_nearby"),
            assetsUrl=reverse("issues:report_assets"),
        ),
        **extra,
    }


@require_http_methods(["GET", "POST"])
def report(request):
    """Report a problem. Works as a plain HTML form; the map and live checks are extras."""
    if request.method == "POST":
        return _submit_report(request)
    initial = {k: request.GET[k] for k in ("latitude", "longitude", "address") if k in request.GET}
    service_type = service_type_with_attributes(request.GET.get("type", ""))
    if service_type:
        initial["service_code"] = service_type.service_code
    form = ReportForm(initial=initial, user=request.user)
    questions = AttributeQuestions(service_type=service_type)
    assets = asset_choice_for(service_type, request.GET)
    context = _report_context(request, form, questions, KeptPhotos(), assets=assets)
    return render(request, "issues/report.html", context)


def _submit_report(request):
    form = ReportForm(request.POST, request.FILES, user=request.user)
    service_type = service_type_with_attributes(request.POST.get("service_code", ""))
    questions = AttributeQuestions.from_post(service_type, request.POST)
    kept = KeptPhotos.from_post(request.POST)
    assets = asset_choice_for(service_type, request.POST)

    def again(status: int, **extra):
        context = _report_context(request, form, questions, kept, assets=assets, **extra)
        return render(request, "issues/report.html", context, status=status)

    if "choose_type" in request.POST:
        # Without JavaScript the questions of the chosen type come by reloading the form: show
        # it again as typed, without judging it yet.
        form = ReportForm(initial=request.POST.dict(), user=request.user)
        uploads = request.FILES.getlist("photos")
        # Photos sent with the choice are decoded and kept, the costly part of a report: they
        # count against the same limit, or this path would decode photos without one.
        if uploads and not ratelimit.allow("report", request):
            return again(429, rate_limited=True)
        for upload in uploads[: photo_slots(len(kept))]:
            # A bad file is judged, with its reason shown, when the report is sent.
            with contextlib.suppress(ValidationError):
                kept.add(prepare_photos([upload], already=len(kept)))
        return again(200)
    if not ratelimit.allow("report", request):
        return again(429, rate_limited=True)

    valid = form.is_valid()
    questions.validate()
    valid = valid and not questions.has_errors
    valid = _keep_uploads(form, kept, request.FILES.getlist("photos")) and valid
    valid = check_asset_choice(form, assets) and valid
    if not valid:
        return again(400)
    if service_type is None:
        form.add_error("service_code", _("Choose what kind of problem it is."))
        return again(400)
    data = form.cleaned_data
    if not data.get("not_duplicate"):
        nearby = duplicates_for(assets, service_type, data.get("latitude"), data.get("longitude"))
        if nearby:
            # "Is this it?": one look at what is already reported before adding another.
            form.data = form.data.copy()
            form.data["not_duplicate"] = "1"
            return again(200, nearby=nearby, duplicate_check=True, nearby_asset=assets.chosen)
    try:
        issue = _create(request, form, service_type, questions, kept, assets.chosen)
    except ValidationError as exc:
        form.apply_service_errors(exc, questions)
        return again(400)
    except PhotoNotStored as exc:
        # Nothing was stored; the form comes back as sent, photos kept, to try again later or
        # without the photos.
        response = again(503, photos_not_stored=True)
        response["Retry-After"] = str(exc.retry_after)
        return response
    kept.discard()
    if issue.is_hidden and issue.withheld == UNCONFIRMED:
        # Waiting for its emailed confirmation (issue 17).
        return render(request, "issues/confirm_report_sent.html", {"issue": issue})
    if issue.is_hidden:
        # Private, held, or from a banned sender (who is told the same as for a held type):
        # there is no public page to go to yet (issue 20).
        messages.success(request, withheld_receipt(issue))
        return redirect("issues:home")
    messages.success(
        request,
        _("Thank you. Your report is in: quote %(id)s if you call the city.")
        % {"id": issue.public_id},
    )
    return redirect(f"{issue.get_absolute_url()}?new=1")


def _keep_uploads(form: ReportForm, kept: KeptPhotos, uploads) -> bool:
    """Prepare the newly attached photos and keep them with the earlier ones, so a form sent
    back for a correction does not ask for them again. False (with the reason on the form's
    photo field) when one is refused."""
    if not uploads:
        return True
    try:
        kept.add(prepare_photos(uploads, already=len(kept)))
    except ValidationError as exc:
        form.add_error("photos", exc.messages)
        return False
    return True


def _create(request, form: ReportForm, service_type, questions, kept: KeptPhotos, asset):
    data = form.cleaned_data
    user = request.user if request.user.is_authenticated else None
    if form.for_caller:
        user = None  # the caller is the reporter; the staff member only typed it in
    return services.create_issue(
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
        asset=asset,
    )


@require_GET
def report_questions(request):
    """The attribute questions of one service type, as the fragment the report form shows."""
    service_type = service_type_with_attributes(request.GET.get("type", ""))
    if service_type is None and request.GET.get("type"):
        return HttpResponseBadRequest(_("Unknown service type."))
    questions = AttributeQuestions(service_type=service_type)
    return render(request, "issues/_questions.html", {"questions": questions})


@require_GET
def report_nearby(request):
    """Open issues of the same type within about 50 m, for the "Is this it?" box."""
    service_type = service_type_with_attributes(request.GET.get("type", ""))
    try:
        lat, lon = float(request.GET.get("latitude", "")), float(request.GET.get("longitude", ""))
    except ValueError:
        return HttpResponseBadRequest(_("latitude and longitude must be numbers."))
    if service_type is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return HttpResponseBadRequest(_("A known service type and a point are needed."))
    nearby = selectors.nearby_open_issues(service_type=service_type, latitude=lat, longitude=lon)
    return render(request, "issues/_nearby.html", {"nearby": nearby, "live": True})
