"""Import an asset layer (bus stops, street lights, hydrants) from a file: read, check, place in
wards, write in batches.

Idempotent by the source's id: an asset already in the layer is updated when the file says
something new about it (a moved point, a new name) and left alone otherwise, so importing the
same file twice changes nothing. Assets the file no longer lists are kept: reports and
adoptions point at them. Every line not imported goes to the rejects file with its reason.
"""

from __future__ import annotations

from django.utils import timezone

from departments.asset_cells import rebuild_layer_cells
from departments.importing import bulk
from departments.importing.asset_rows import AssetRow
from departments.importing.batches import BatchImporter
from departments.models import Asset, AssetLayer

# What the file decides about an asset: compared with what is stored, written when it differs.
SOURCE_FIELDS = ("name", "kind", "latitude", "longitude", "ward_id", "attributes")


class AssetImporter(BatchImporter):
    label = "assets"

    def __init__(self, layer: AssetLayer, **options):
        super().__init__(**options)
        self.layer = layer

    def finished(self) -> None:
        # Moved, new and (by then) removed assets are anywhere in the layer: recount its map's
        # cells set-wise, one GROUP BY per zoom, rather than tracking each row's old square.
        rebuild_layer_cells(self.layer)
        self.layer.save(update_fields=["updated_at"])  # the layer's maps and pages changed

    def write(self, rows: list[AssetRow]) -> None:
        stored = {
            values["source_id"]: values
            for values in Asset.objects.filter(
                source_id__in=[row.source_id for row in rows], layer=self.layer
            ).values("id", "source_id", *SOURCE_FIELDS)
        }
        now = timezone.now()
        new, changed = [], []
        for row in rows:
            values = {name: getattr(row, name) for name in SOURCE_FIELDS}
            found = stored.get(row.source_id)
            if found is None:
                new.append(
                    {
                        **values,
                        "layer_id": self.layer.pk,
                        "source_id": row.source_id,
                        "updated_at": now,
                    }
                )
            elif any(found[name] != values[name] for name in SOURCE_FIELDS):
                changed.append({"id": found["id"], **values, "updated_at": now})
        bulk.add_rows(Asset, new)
        bulk.update_rows(Asset, changed, [*SOURCE_FIELDS, "updated_at"])
        self.summary.created += len(new)
        self.summary.updated += len(changed)
        self.summary.unchanged += len(rows) - len(new) - len(changed)
        self.summary.in_no_ward += sum(1 for row in rows if row.ward_id is None)


def find_or_create_layer(
    name: str, *, label: str = "", label_plural: str = ""
) -> tuple[AssetLayer, bool]:
    """The layer called `name` (its slug or its name, in any case), or a new one: (layer,
    created). A new layer's service types and adoption terms are set in the workbench."""
    layer = (
        AssetLayer.objects.filter(slug=name).first()
        or AssetLayer.objects.filter(name__iexact=name).first()
    )
    if layer is not None:
        return layer, False
    layer = AssetLayer.objects.create(
        name=name[:120],
        asset_label=(label or "asset")[:60],
        asset_label_plural=(label_plural or (f"{label}s" if label else "assets"))[:60],
    )
    return layer, True
