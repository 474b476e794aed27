"""Alerts around a place: the form (signed in, or with an email address confirmed by a signed
link), the confirmation page behind that link, and deleting one from the profile. The feeds are
issues/views/feeds.py's; matching reports to alerts is issues/notify/areas.py's."""

from __future__ import annotations

import contextlib
import math

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts import ratelimit
from issues.alert_forms import AlertForm
from issues.models import AreaAlert
from issues.notify import links
from issues.services import alerts as alert_services
from issues.views.home import map_config


def _initial(request) -> dict:
    """A link from an issue page or the map (?lat=&lon=&radius=) fills in the pin. A value that
    could not be a place (nan, 1e400, 95) is dropped rather than handed to the map, whose JSON
    would carry NaN or Infinity and break the page's script."""
    initial = {}
    for key, name, limit in (("lat", "latitude", 90), ("lon", "longitude", 180)):
        try:
            value = float(request.GET[key])
        except (KeyError, ValueError):
            continue
        if math.isfinite(value) and abs(value) <= limit:
            initial[name] = value
    with contextlib.suppress(KeyError, ValueError):
        initial["radius_m"] = int(request.GET["radius"])
    return initial


@never_cache
@require_http_methods(["GET", "POST"])
def alert_new(request):
    signed_in = request.user.is_authenticated
    form = AlertForm(request.POST or None, initial=_initial(request), signed_in=signed_in)
    status = 200
    if request.method == "POST":
        status = 400
        if not signed_in and not ratelimit.allow("signup", request):
            form.add_error(None, _("Too many alerts asked for from here. Try again in an hour."))
            status = 429
        elif form.is_valid():
            data = form.cleaned_data
            try:
                alert_services.create_alert(
                    latitude=data["latitude"],
                    longitude=data["longitude"],
                    radius_m=data["radius_m"],
                    user=request.user if signed_in else None,
                    email=data.get("email", ""),
                    service_types=data["service_types"],
                    include_updates=data["include_updates"],
                    frequency=data["frequency"],
                    label=data["label"],
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                if signed_in:
                    messages.success(request, _("Your alert is on."))
                    return redirect("issues:profile")
                return render(request, "alerts/sent.html", {"email": data["email"]})
    lat, lon = form["latitude"].value(), form["longitude"].value()
    config = map_config(request, pin=[lat, lon] if lat and lon else None)
    # The pin's name for screen readers (static/js/alert-map.js).
    config["strings"] = {**config["strings"], "pin": _("The alert's centre")}
    context = {"form": form, "map_config": config}
    return render(request, "alerts/new.html", context, status=status)


def _add_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def alert_confirm(request, token: str):
    """GET shows a button (mail scanners open every link and must not start alerts); POST
    confirms."""
    try:
        alert = links.read_alert_confirm_token(token)
    except signing.SignatureExpired:
        return _bad(request, _("This link is more than a week old. Ask for the alert again."))
    except signing.BadSignature:
        return _bad(request, _("This link is damaged or was not made by us."))
    if alert is None:
        return _bad(request, _("This alert no longer exists. You can ask for a new one."))
    if request.method == "POST":
        alert_services.confirm_alert(alert=alert)
        return render(request, "alerts/confirmed.html", {"alert": alert})
    return render(request, "alerts/confirm.html", {"alert": alert, "token": token})


def _bad(request, reason: str):
    return render(request, "notify/bad_link.html", {"reason": reason}, status=400)


@login_required
@require_POST
def alert_delete(request, pk: int):
    alert = get_object_or_404(AreaAlert, pk=pk, user=request.user)
    alert_services.delete_alert(alert=alert, user=request.user)
    messages.success(request, _("The alert is deleted."))
    return redirect("issues:profile")
