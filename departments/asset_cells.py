"""Keeps each asset layer's per-cell counters (departments.models.AssetCell) in step with its
assets, so a zoomed-out asset map reads a few hundred rows whatever the layer's size.

Two kinds of write touch them. An import (or a workbench edit) may move, add or remove many
assets at once: the layer's cells are recounted set-wise, one GROUP BY per zoom in the database
(rebuild_layer_cells). Adopting or giving up changes one asset's "adopted" state: its one cell
per zoom is adjusted in a single UPDATE (count_adoption_change), called by the adoption
services (issues/services/adoption.py) before they write the asset's adopter count.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection, transaction
from django.db.models import F, Q

from departments.geo import cell_of, cell_sums
from departments.models import Asset, AssetCell, AssetLayer

CHUNK = 5000
INSERT_ROWS = 1000  # rows per INSERT: under SQLite's and PostgreSQL's parameter limits


def _lock_cells() -> None:
    """While a layer is recounted, adoption writers wait at their cell UPDATE (made before they
    write the asset's adopter count), so the counts read here and the deltas applied after are
    never counted twice or missed. SQLite has one writer at a time anyway."""
    if connection.vendor != "postgresql":
        return
    table = connection.ops.quote_name(AssetCell._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")


def _counted(layer_id: int, zoom: int) -> Iterable[AssetCell]:
    cells = cell_sums(Asset.objects.filter(layer_id=layer_id), zoom, adopted=Q(adopter_count__gt=0))
    for c in cells.iterator(chunk_size=CHUNK):
        yield AssetCell(
            layer_id=layer_id,
            zoom=zoom,
            cell_col=int(c["cx"]),
            cell_row=int(c["cy"]),
            n=c["n"],
            adopted=c["adopted"],
            lat_sum=c["lat"],
            lon_sum=c["lon"],
            id_sum=c["ids"],
        )


def rebuild_layer_cells(layer: AssetLayer | int) -> None:
    """Recount one layer's cells from its assets (idempotent) and mark them built: from then
    on the layer's map reads them (departments.selectors.asset_map_features)."""
    layer_id = layer if isinstance(layer, int) else layer.pk
    with transaction.atomic():
        _lock_cells()
        AssetCell.objects.filter(layer_id=layer_id).delete()
        for zoom in AssetCell.ZOOMS:
            AssetCell.objects.bulk_create(_counted(layer_id, zoom), batch_size=INSERT_ROWS)
        AssetCell.objects.create(layer_id=layer_id, zoom=AssetCell.BUILT, cell_col=0, cell_row=0)


def unbuilt_layer_ids() -> list[int]:
    built = AssetCell.objects.filter(zoom=AssetCell.BUILT).values("layer_id")
    return list(AssetLayer.objects.exclude(pk__in=built).values_list("pk", flat=True))


def rebuild_asset_cells(*, only_unbuilt: bool = False) -> int:
    """Recount every layer's cells (or only those never built); how many layers were."""
    layer_ids = (
        unbuilt_layer_ids()
        if only_unbuilt
        else list(AssetLayer.objects.values_list("pk", flat=True))
    )
    for layer_id in layer_ids:
        rebuild_layer_cells(layer_id)
    return len(layer_ids)


def layer_cells_built(layer_id: int) -> bool:
    return AssetCell.objects.filter(layer_id=layer_id, zoom=AssetCell.BUILT).exists()


def count_adoption_change(asset: Asset, *, was_adopted: bool, is_adopted: bool) -> None:
    """The asset gained its first adopter or lost its last: its cell at every zoom counts one
    more or one fewer adopted asset. Call inside the transaction that changes the adopter
    count, before writing it (see _lock_cells)."""
    if was_adopted == is_adopted:
        return
    in_its_cells = Q()
    for zoom in AssetCell.ZOOMS:
        col, row = cell_of(asset.latitude, asset.longitude, zoom)
        in_its_cells |= Q(zoom=zoom, cell_col=col, cell_row=row)
    AssetCell.objects.filter(in_its_cells, layer_id=asset.layer_id).update(
        adopted=F("adopted") + (1 if is_adopted else -1)
    )
