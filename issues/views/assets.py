"""Asset layers as residents see them: a layer's map of adopted and available assets, an asset's
page (what it is, its reports, who looks after it), adopting one, logging visits, giving it up,
an adopter's page and a layer's ward figures; and, for the report form, the nearest assets to
its pin (the fragment the form shows, with or without JavaScript).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from departments.selectors import (
    asset_in_layer,
    asset_layer,
    asset_layers,
    asset_map_features,
    service_type_with_layer,
)
from departments.translations import translated
from issues import selectors, services
from issues.asset_forms import AdoptForm, GiveUpForm, VisitForm
from issues.forms import ViewportError, parse_viewport
from issues.models import Adopter
from issues.views.home import map_config

LIST_PAGE_SIZE = 50


def _not_found(request, what: str):
    return render(request, "issues/assets/not_found.html", {"what": what}, status=404)


def _point(params) -> tuple[float | None, float | None]:
    """A point from latitude/longitude parameters, or (None, None) when either is unusable."""
    try:
        lat, lon = float(params.get("latitude", "")), float(params.get("longitude", ""))
    except ValueError:
        return None, None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None, None
    return lat, lon


def asset_choice_for(service_type, params) -> selectors.AssetChoice:
    """The report form's asset choice for a type, a pin and the picked id in `params`."""
    layer = service_type.asset_layer if service_type is not None else None
    lat, lon = _point(params)
    return selectors.asset_choice(layer, lat, lon, params.get("asset", ""))


def check_asset_choice(form, choice: selectors.AssetChoice) -> bool:
    """False, with the reason at the top of the report form, when the picked id is not an
    asset of the type's layer (an old page, a hand-made request)."""
    if not choice.unknown:
        return True
    label = translated(choice.layer, "asset_label")
    form.add_error(
        None,
        _("There is no %(label)s “%(id)s”: pick one from the list.")
        % {"label": label, "id": choice.unknown},
    )
    return False


def duplicates_for(choice: selectors.AssetChoice, service_type, latitude, longitude) -> list:
    """What is already reported that the resident should see before sending: the open reports
    against the picked asset ("this light is already reported"), else those of the same type
    within about 50 m of the pin."""
    if choice.already_reported:
        return choice.already_reported
    if latitude is None or longitude is None:
        return []
    return selectors.nearby_open_issues(
        service_type=service_type, latitude=latitude, longitude=longitude
    )


@require_GET
def report_assets(request):
    """The nearest assets of the chosen type's layer to the pin, as the report form shows them."""
    service_type = service_type_with_layer(request.GET.get("type", ""))
    if service_type is None and request.GET.get("type"):
        return HttpResponseBadRequest(_("Unknown service type."))
    choice = asset_choice_for(service_type, request.GET)
    return render(request, "issues/_asset_picker.html", {"assets": choice, "live": True})


@require_GET
def asset_map(request, layer: str):
    """A layer's assets in the visible box, as GeoJSON: clusters when zoomed out."""
    found = asset_layer(layer)
    if found is None:
        return JsonResponse({"error": _("There is no such asset layer.")}, status=404)
    try:
        bbox, zoom = parse_viewport(request.GET, settings.MAP_DEFAULT_ZOOM)
    except ViewportError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    data = asset_map_features(found, bbox, zoom)
    head, tail = reverse("issues:asset", args=[found.slug, "ASSETID0"]).split("ASSETID0")
    for feature in data["features"]:
        if not feature["properties"].get("cluster"):
            feature["properties"]["url"] = f"{head}{feature['properties']['id']}{tail}"
    response = JsonResponse(data, content_type="application/geo+json")
    response["Cache-Control"] = "public, max-age=30"
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def layers(request):
    return render(request, "issues/assets/layers.html", {"layers": asset_layers()})


@require_GET
def layer_page(request, layer: str):
    """A layer: its map (adopted and available) and, for everyone, the list of its assets."""
    found = asset_layer(layer)
    if found is None:
        return _not_found(request, layer)
    page = Paginator(selectors.layer_assets(found), LIST_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    config = map_config(request, assetMapUrl=reverse("issues:asset_map", args=[found.slug]))
    context = {"layer": found, "page": page, "map_config": config}
    return render(request, "issues/assets/layer.html", context)


@require_GET
def ward_figures(request, layer: str):
    found = asset_layer(layer)
    if found is None:
        return _not_found(request, layer)
    rows = selectors.ward_adoption(found)
    context = {
        "layer": found,
        "rows": rows,
        "days": selectors.assets.ACTIVE_DAYS,
        "totals": {
            "assets": sum(r.assets for r in rows),
            "adopted": sum(r.adopted for r in rows),
        },
    }
    return render(request, "issues/assets/wards.html", context)


def _asset_context(request, page: selectors.AssetPage, **extra) -> dict:
    asset = page.asset
    return {
        "page": page,
        "asset": asset,
        "layer": asset.layer,
        "report_types": list(asset.layer.service_types.filter(active=True)),
        "places_left": max(asset.layer.max_adopters - len(page.adoptions), 0),
        "map_config": map_config(request, pin=[asset.latitude, asset.longitude], zoom=17),
        **extra,
    }


@require_GET
def asset_detail(request, layer: str, source_id: str):
    found = asset_layer(layer)
    page = selectors.asset_page(found, source_id, request.user) if found else None
    if page is None:
        return _not_found(request, source_id)
    return render(request, "issues/assets/asset.html", _asset_context(request, page))


@login_required
@require_http_methods(["GET", "POST"])
def adopt(request, layer: str, source_id: str):
    """The layer's terms (the care task and its rhythm) and, once agreed, the adoption."""
    found = asset_layer(layer)
    asset = asset_in_layer(found, source_id) if found else None
    if asset is None:
        return _not_found(request, source_id)
    adopter = Adopter.objects.filter(user=request.user).first()
    posted = request.method == "POST"
    shown = bool(adopter and adopter.show_name)
    form = AdoptForm(request.POST if posted else None, initial={"show_name": shown})
    if posted and form.is_valid():
        try:
            services.adopt_asset(
                asset=asset, user=request.user, show_name=form.cleaned_data["show_name"]
            )
        except ValidationError as exc:
            form.apply_service_errors(exc)
        else:
            messages.success(
                request,
                _("Thank you: you look after this %(label)s now.")
                % {"label": translated(asset.layer, "asset_label")},
            )
            return redirect("issues:asset", asset.layer.slug, asset.source_id)
    status = 400 if form.is_bound else 200
    context = {"asset": asset, "layer": asset.layer, "form": form}
    return render(request, "issues/assets/adopt.html", context, status=status)


def _own_adoption(request, pk: int):
    adoption = selectors.adoption_of(pk, request.user)
    if adoption is None:
        raise PermissionDenied(_("That is not one of your adoptions."))
    return adoption


@login_required
@require_http_methods(["GET", "POST"])
def visit(request, pk: int):
    """Log a visit: how it was, a note and a photo; "needs repair" reports it to the city."""
    adoption = _own_adoption(request, pk)
    asset = adoption.asset
    repair_types = list(asset.layer.service_types.filter(active=True).order_by("name"))
    posted = request.method == "POST"
    form = VisitForm(
        request.POST if posted else None,
        request.FILES if posted else None,
        repair_types=repair_types,
    )
    if posted and form.is_valid():
        data = form.cleaned_data
        try:
            logged = services.log_visit(
                adoption=adoption,
                by=request.user,
                outcome=data["outcome"],
                note=data["note"],
                photo=data["photo"],
                repair_type=data.get("repair_type"),
            )
        except ValidationError as exc:
            form.apply_service_errors(exc)
        else:
            if logged.issue_id:
                messages.success(
                    request,
                    _("Thank you. Your visit is logged, and the repair is reported as %(id)s.")
                    % {"id": logged.issue.public_id},
                )
            else:
                messages.success(request, _("Thank you. Your visit is logged."))
            return redirect("issues:asset", asset.layer.slug, asset.source_id)
    status = 400 if form.is_bound else 200
    context = {"adoption": adoption, "asset": asset, "layer": asset.layer, "form": form}
    return render(request, "issues/assets/visit.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def give_up(request, pk: int):
    adoption = _own_adoption(request, pk)
    asset = adoption.asset
    posted = request.method == "POST"
    form = GiveUpForm(request.POST if posted else None)
    if posted and form.is_valid():
        try:
            services.give_up_adoption(
                adoption=adoption, by=request.user, note=form.cleaned_data["note"]
            )
        except ValidationError as exc:
            form.apply_service_errors(exc)
        else:
            messages.success(request, _("You no longer look after it. Thank you for your care."))
            return redirect("issues:asset", asset.layer.slug, asset.source_id)
    status = 400 if form.is_bound else 200
    context = {"adoption": adoption, "asset": asset, "layer": asset.layer, "form": form}
    return render(request, "issues/assets/give_up.html", context, status=status)


@require_GET
def adopter(request, public_id: str):
    found = selectors.adopter_page(public_id)
    if found is None:
        return _not_found(request, public_id)
    is_me = request.user.is_authenticated and found.user_id == request.user.pk
    return render(request, "issues/assets/adopter.html", {"adopter": found, "is_me": is_me})


@login_required
@require_http_methods(["GET", "POST"])
def my_adoptions(request):
    """The signed-in person's adopter page; POST sets whether their name is shown."""
    if request.method == "POST":
        services.set_name_shown(user=request.user, show=request.POST.get("show_name") == "1")
        messages.success(request, _("Your choice is saved."))
    found = Adopter.objects.filter(user=request.user).only("public_id").first()
    if found is None:
        return render(request, "issues/assets/no_adoptions.html", {"layers": asset_layers()})
    return redirect("issues:adopter", found.public_id)
