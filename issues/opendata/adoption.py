"""Asset layers and their adoption as open data: every asset with how many look after it, and
every adoption with its visits, as CSV streamed row by row.

No contact details, ever: an adopter is their public name only if they chose to show it
("a neighbour" otherwise) and their adopter page's id; no email, no account.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.conf import settings
from django.db.models import Count, Max, QuerySet
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from departments.models import Asset, AssetLayer
from departments.selectors import asset_layer
from issues.models import Adoption
from issues.opendata.exports import CHUNK_SIZE, buffered, csv_table
from issues.opendata.views import download

ASSET_COLUMNS = [
    "layer",
    "asset_id",
    "name",
    "kind",
    "latitude",
    "longitude",
    "ward",
    "adopters",
    "adopters_allowed",
]
ADOPTION_COLUMNS = [
    "adoption",
    "layer",
    "asset_id",
    "asset_name",
    "ward",
    "adopter",
    "adopter_page",
    "care_task",
    "every_days",
    "started_datetime",
    "ended_datetime",
    "ended_how",
    "visits",
    "last_visit_datetime",
]


def _layer_filter(request) -> tuple[AssetLayer | None, HttpResponse | None]:
    slug = (request.GET.get("layer") or "").strip()
    if not slug:
        return None, None
    layer = asset_layer(slug)
    if layer is None:
        message = _("There is no asset layer “%(l)s”.") % {"l": slug[:60]}
        return None, HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
    return layer, None


def _assets(layer: AssetLayer | None) -> QuerySet[Asset]:
    assets = Asset.objects.all() if layer is None else Asset.objects.filter(layer=layer)
    return assets.order_by("layer_id", "source_id", "id")


def asset_lines(layer: AssetLayer | None) -> Iterator[str]:
    rows = _assets(layer).values_list(
        "layer__slug",
        "source_id",
        "name",
        "kind",
        "latitude",
        "longitude",
        "ward__number",
        "adopter_count",
        "layer__max_adopters",
    )
    free_text = [False, False, True, True, False, False, False, False, False]
    return buffered(csv_table(ASSET_COLUMNS, rows.iterator(chunk_size=CHUNK_SIZE), free_text))


def adoption_lines(layer: AssetLayer | None) -> Iterator[str]:
    adoptions = Adoption.objects.all()
    if layer is not None:
        adoptions = adoptions.filter(asset__layer=layer)
    rows = (
        adoptions.order_by("started_at", "id")
        .annotate(visit_count=Count("visits"), last_visit=Max("visits__visited_at"))
        .values_list(
            "id",
            "asset__layer__slug",
            "asset__source_id",
            "asset__name",
            "asset__ward__number",
            "adopter__show_name",
            "adopter__user__display_name",
            "adopter__public_id",
            "care_task",
            "every_days",
            "started_at",
            "ended_at",
            "end_reason",
            "visit_count",
            "last_visit",
        )
    )
    tz = timezone.get_current_timezone()

    def when(value):
        return value.astimezone(tz).isoformat(timespec="seconds") if value else None

    def records():
        neighbour = _("a neighbour")
        for row in rows.iterator(chunk_size=CHUNK_SIZE):
            pk, layer_slug, asset_id, asset_name, ward, shown, name, *rest = row
            page, task, every, started, ended, reason, visits, last = rest
            adopter = (name or neighbour) if shown else neighbour
            yield [
                *(pk, layer_slug, asset_id, asset_name, ward, adopter, page, task, every),
                *(when(started), when(ended), reason or None, visits, when(last)),
            ]

    free_text = [False, False, False, True, False, True, False, True] + [False] * 6
    return buffered(csv_table(ADOPTION_COLUMNS, records(), free_text))


def _filename(what: str) -> str:
    return f"{settings.SITE_NAME.lower()}-{what}-{timezone.localdate():%Y-%m-%d}"


@require_GET
def assets_csv(request):
    layer, refused = _layer_filter(request)
    if refused is not None:
        return refused
    return download(asset_lines(layer), "text/csv; charset=utf-8", f"{_filename('assets')}.csv")


@require_GET
def adoptions_csv(request):
    layer, refused = _layer_filter(request)
    if refused is not None:
        return refused
    name = f"{_filename('adoptions')}.csv"
    return download(adoption_lines(layer), "text/csv; charset=utf-8", name)
