"""The loop every catalogue import runs (asset layers, places): read a line, reject it with its
reason or keep it, refuse an id the file already gave, place the kept rows in wards and write them
in batches, one transaction each; a batch the database refuses is written row by row, so the one
bad row is rejected and its neighbours are kept. A subclass says how a row is keyed and written."""

from __future__ import annotations

import time
from collections.abc import Hashable
from pathlib import Path

from django.db import DatabaseError, transaction

from departments.importing.progress import Progress
from departments.importing.rejects import Reject, RejectsFile
from departments.importing.summary import ImportSummary
from departments.models import Ward

BATCH_SIZE = 5000


class BatchImporter:
    label = "rows"  # the progress bar's name when none is given

    def __init__(
        self,
        *,
        rejects_path: str | Path,
        batch_size: int = BATCH_SIZE,
        progress: Progress | None = None,
    ):
        self.rejects_path = Path(rejects_path)
        self.batch_size = batch_size
        self.progress = progress or Progress(self.label, enabled=False)
        self.summary = ImportSummary()
        self._seen: dict[Hashable, int] = {}  # a row's key -> the line that brought it

    def key(self, row) -> Hashable:
        """What makes a row the same row as another: its source id."""
        return row.source_id

    def write(self, rows: list) -> None:
        raise NotImplementedError

    def finished(self) -> None:
        """Called once every row is written."""

    def run(self, source) -> ImportSummary:
        started = time.monotonic()
        rejects = RejectsFile(self.rejects_path, [])
        batch: list = []
        try:
            for line, row in source:
                rejects.header = source.header
                self.summary.read += 1
                if isinstance(row, Reject):
                    self._reject(rejects, row)
                    continue
                earlier = self._seen.setdefault(self.key(row), line)
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
        self.finished()
        self.summary.seconds = time.monotonic() - started
        if rejects.count:
            self.summary.rejects_path = str(self.rejects_path)
        return self.summary

    def _reject(self, rejects: RejectsFile, reject: Reject) -> None:
        rejects.add(reject)
        self.summary.rejected += 1
        reason = reject.reason.split("“")[0].split(" line ")[0].strip()
        self.summary.reasons[reason] = self.summary.reasons.get(reason, 0) + 1

    def _flush(self, batch: list, rejects: RejectsFile) -> None:
        ward_ids = Ward.objects.ids_for_points((row.latitude, row.longitude) for row in batch)
        for row, ward_id in zip(batch, ward_ids, strict=True):
            row.ward_id = ward_id
        try:
            with transaction.atomic():
                self.write(batch)
        except DatabaseError:
            for row in batch:
                try:
                    with transaction.atomic():
                        self.write([row])
                except DatabaseError as exc:
                    message = str(exc).strip().splitlines()[0][:200]
                    self._reject(rejects, Reject(row.line, f"database refused: {message}", row.raw))
