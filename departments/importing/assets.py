"""Import an asset layer (bus stops, street lights, hydrants) from a file: read, check, place in
wards, write in batches.

Idempotent by the source's id: an asset already in the layer is updated when the file says
something new about it (a moved point, a new name) and left alone otherwise, so importing the
same file twice changes nothing. Assets the file no longer lists are kept: reports and
adoptions point at them. Every line not imported goes to the rejects file with its reason.
"""

from __future__ import annotations

import time
from pathlib import Path

from django.db import DatabaseError, transaction
from django.utils import timezone

from departments.importing import bulk
from departments.importing.asset_rows import AssetFile, AssetRow
from departments.importing.progress import Progress
from departments.importing.rejects import Reject, RejectsFile
from departments.importing.summary import ImportSummary
from departments.models import Asset, AssetLayer, Ward

BATCH_SIZE = 5000
# What the file decides about an asset: compared with what is stored, written when it differs.
SOURCE_FIELDS = ("name", "kind", "latitude", "longitude", "ward_id", "attributes")


class AssetImporter:
    def __init__(
        self,
        layer: AssetLayer,
        *,
        rejects_path: str | Path,
        batch_size: int = BATCH_SIZE,
        progress: Progress | None = None,
    ):
        self.layer = layer
        self.rejects_path = Path(rejects_path)
        self.batch_size = batch_size
        self.progress = progress or Progress("assets", enabled=False)
        self.summary = ImportSummary()
        self._seen: dict[str, int] = {}  # source id -> the line that brought it

    def run(self, source: AssetFile) -> ImportSummary:
        started = time.monotonic()
        rejects = RejectsFile(self.rejects_path, [])
        batch: list[AssetRow] = []
        try:
            for line, row in source:
                rejects.header = source.header
                self.summary.read += 1
                if isinstance(row, Reject):
                    self._reject(rejects, row)
                    continue
                earlier = self._seen.setdefault(row.source_id, line)
                if earlier != line:
                    self._reject(rejects, Reject(line, f"the id repeats line {earlier}", row.raw))
                    continue
                batch.append(row)
                if len(batch) >= self.batch_size:
                    self._flush(batch, rejects)
                    batch = []
                    self.progress.update(self.summary.read, source.done, source.total)
            if batch:
                self._flush(batch, rejects)
        finally:
            rejects.close()
        self.progress.finish(self.summary.read)
        self.layer.save(update_fields=["updated_at"])  # the layer's maps and pages changed
        self.summary.seconds = time.monotonic() - started
        if rejects.count:
            self.summary.rejects_path = str(self.rejects_path)
        return self.summary

    def _reject(self, rejects: RejectsFile, reject: Reject) -> None:
        rejects.add(reject)
        self.summary.rejected += 1
        reason = reject.reason.split("“")[0].split(" line ")[0].strip()
        self.summary.reasons[reason] = self.summary.reasons.get(reason, 0) + 1

    def _flush(self, batch: list[AssetRow], rejects: RejectsFile) -> None:
        """One transaction per batch; a batch the database refuses is written row by row, so
        the one bad row is rejected and its neighbours are kept."""
        ward_ids = Ward.objects.ids_for_points((row.latitude, row.longitude) for row in batch)
        for row, ward_id in zip(batch, ward_ids, strict=True):
            row.ward_id = ward_id
        try:
            with transaction.atomic():
                self._write(batch)
        except DatabaseError:
            for row in batch:
                try:
                    with transaction.atomic():
                        self._write([row])
                except DatabaseError as exc:
                    message = str(exc).strip().splitlines()[0][:200]
                    reject = Reject(row.line, f"database refused: {message}", row.raw)
                    self._reject(rejects, reject)

    def _write(self, rows: list[AssetRow]) -> None:
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
