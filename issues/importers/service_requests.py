"""Import a city's 311 history: read, clean, match, place in wards, write in batches.

One transaction per batch. A batch the database refuses is retried row by row, so one bad row
becomes one reject instead of losing its neighbours. No notification is sent: these events
happened in the past, and the reporters heard about them from the old system.
"""

from __future__ import annotations

import resource
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, connection, transaction

from departments.importing import bulk
from departments.importing.progress import Progress
from departments.importing.readers import Source
from departments.importing.rejects import Reject, RejectsFile
from departments.importing.summary import RowCounts
from departments.models import Department, Place, ServiceType, Ward
from issues import pagecache
from issues.dashboards import rollups, setwise
from issues.importers.formats import ColumnMapping
from issues.importers.pipeline import collector_paused, reader_for, writer_for
from issues.importers.publicids import insert_issues
from issues.importers.records import CLOSED_VALUES, OPEN, ImportRow, RowError, to_row
from issues.importers.service_types import Catalogue
from issues.models import Issue, StatusChange
from issues.models import Source as IssueSource
from issues.notify.events import suppressed
from issues.services.geocoding import locate_address
from issues.services.moderation import stop_instruction

BATCH_SIZE = 5000
# The first batch is smaller: the writer starts as soon as these rows are cleaned instead of
# waiting for a whole batch (~0.2 s of the reader at the start of every import, with the
# database idle).
FIRST_BATCH = 1000

# "external_id <> ''" repeats the unique index's condition: PostgreSQL cannot prove that a list
# of more than 100 ids implies it, and scanned the whole table per batch without it.
_EXISTING = (
    "SELECT external_id, id, status, public_id FROM issues_issue"
    " WHERE external_source = %s AND external_id = ANY(%s::text[]) AND external_id <> ''"
)


@dataclass
class ImportSummary(RowCounts):
    duplicates: int = 0
    needs_triage: int = 0
    write_seconds: float = 0.0  # time spent writing batches (ids, COPY, commit)
    # ... of it the writer's own CPU (Python, encoding): the rest is waiting on PostgreSQL
    write_cpu_seconds: float = 0.0
    read_seconds: float = 0.0  # time spent reading, cleaning, matching and placing rows
    # ... of it this process's CPU (receiving the reader's rows, checking ids, rejects, matching
    # types and wards: `_prepare`)
    read_cpu_seconds: float = 0.0
    reader_cpu_seconds: float = 0.0  # the reader child's CPU (reading, cleaning, sending)
    count_seconds: float = 0.0  # counting the new issues into the dashboards, after storing
    created_departments: list[str] = field(default_factory=list)
    created_service_types: list[str] = field(default_factory=list)

    @property
    def imported(self) -> int:
        return self.created + self.updated


@dataclass(slots=True)
class _Ready:
    """A row matched and placed, with the values the source gives it (`_source_values`),
    ready for the writer."""

    row: ImportRow
    values: dict
    publication: str


def _children_cpu() -> float:
    """CPU used by this process's ended children (the reader, once joined)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _clean(
    line: int,
    record: dict | Reject,
    *,
    mapping: ColumnMapping,
    first_seen: dict[str, tuple[int, object, str]] | None = None,
) -> ImportRow | Reject:
    """One record read to a row, or to the reason it cannot be imported, with its columns for
    the rejects file (in the reader's process: see pipeline.reader_for; the parent never sees
    the record of a row it imports).

    `first_seen`: the first line of each id in this file, and what makes it that request, kept
    by the reader across calls. A later line with the same id is a newer state of it only if it
    was reported at the same time for the same service. (In Cologne's data rows 14 and 15 share
    an id but are different requests: the second must not silently overwrite, nor replace, the
    first.)"""
    if isinstance(record, Reject):
        return record
    try:
        row = to_row(line, record, mapping)
    except RowError as exc:
        return Reject(line, str(exc), record)
    if row.external_id and first_seen is not None:
        identity = (row.requested_at, row.service_name)
        first = first_seen.setdefault(row.external_id, (line, *identity))
        if first[0] != line and first[1:] != identity:
            reason = (
                f"same id as line {first[0]} but a different request "
                "(another time or service): give it an id of its own"
            )
            return Reject(line, reason, record)
    return row


class RequestImporter:
    def __init__(
        self,
        mapping: ColumnMapping,
        *,
        rejects_path: str | Path,
        default_department: str = "Imported",
        activate_new_types: bool = False,
        wards_from_column: bool = False,
        batch_size: int = BATCH_SIZE,
        progress: Progress | None = None,
    ):
        self.mapping = mapping
        self.source_label = mapping.source_label
        self.rejects_path = Path(rejects_path)
        self.batch_size = batch_size
        self.wards_from_column = wards_from_column
        self.progress = progress or Progress("import", enabled=False)
        self.catalogue_options = {
            "default_department": default_department,
            "activate_new_types": activate_new_types,
        }
        self.summary = ImportSummary()
        self._later: setwise.LaterCount | None = None

    def run(self, path: str | Path, *, count: bool = True) -> ImportSummary:
        """Store the file's rows; with count=False the new issues are left for `count` (the
        command reports what was stored first), or for the worker should this process die."""
        with collector_paused():  # see pipeline.collector_paused: the import makes no cycles
            return self._run(path, count=count)

    def _run(self, path: str | Path, *, count: bool) -> ImportSummary:
        started = time.monotonic()
        source = Source(path, self.mapping.reader)
        # The reader is forked first (before the writer's thread: fork safety, see reader_for),
        # so that it reads and cleans the first batch while the catalogue and the wards load:
        # forked after them, the writer waited for its first batch on top.
        reader = reader_for(source, partial(_clean, mapping=self.mapping, first_seen={}))
        try:
            self.catalogue = Catalogue(**self.catalogue_options)
            self.ward_numbers = dict(Ward.objects.values_list("number", "id"))
            # The wards as the import starts, for every batch: asking per batch whether they
            # changed cost a query of ~25 ms each (0.5 s per 100,000 rows) for an answer that
            # does not move.
            self.ward_index = Ward.objects.index()
            # New issues are counted into the dashboards after they are stored
            # (setwise.LaterCount: `count`, by the caller once it has reported, or by the worker
            # if this process dies); `stored` runs on the writer's thread after the last batch,
            # however the writing ended.
            self._later = setwise.LaterCount(self.source_label)
        except BaseException:
            reader.close()
            raise
        self._lock = threading.Lock()
        # Rows the writer could not store: their columns are read again at the end (the reader
        # sends only the rows it cleaned, not the records they came from).
        self._unwritten: list[Reject] = []
        # Ids already seen: a later line with one (and the same request: _clean) is a duplicate.
        seen: set[str] = set()
        rejects = None
        batch: list[ImportRow] = []
        batch_size = min(self.batch_size, FIRST_BATCH)
        writer = writer_for(self._flush)
        reading, reading_cpu = time.monotonic(), time.thread_time()
        children_cpu = _children_cpu()
        try:
            for _line, row in reader:
                if rejects is None:
                    rejects = RejectsFile(self.rejects_path, reader.header)
                self.summary.read += 1
                if isinstance(row, Reject):
                    self._reject(row)
                    rejects.add(row)
                    continue
                if row.external_id:
                    if row.external_id in seen:
                        self.summary.duplicates += 1
                    seen.add(row.external_id)
                batch.append(row)
                if len(batch) >= batch_size:
                    ready = self._prepare(batch)
                    self._count_reading(reading, reading_cpu)
                    writer.submit(ready)
                    reading, reading_cpu = time.monotonic(), time.thread_time()
                    batch, batch_size = [], self.batch_size
                    self.progress.update(self.summary.read, reader.done, reader.total)
            ready = self._prepare(batch) if batch else []
            self._count_reading(reading, reading_cpu)
            if ready:
                writer.submit(ready)
            writer.close()
        except BaseException as exc:
            writer.abort(keep_queued=not isinstance(exc, KeyboardInterrupt))
            if count:
                self.count()  # what was stored before the failure is counted all the same
            raise
        finally:
            reader.close()
            self.summary.reader_cpu_seconds = _children_cpu() - children_cpu
            if rejects is not None:
                self._add_unwritten(rejects, source)
                rejects.close()
        self.progress.finish(self.summary.read)
        self.summary.seconds = time.monotonic() - started
        self.summary.created_departments = self.catalogue.created_departments
        self.summary.created_service_types = self.catalogue.created_service_types
        if rejects is not None and rejects.count:
            self.summary.rejects_path = str(self.rejects_path)
        if count:
            self.count()
        return self.summary

    def count(self) -> None:
        """Count the new issues into the dashboards (setwise.LaterCount)."""
        if self._later is None:
            return  # the run stopped before it stored anything
        started = time.monotonic()
        self._later.count()
        self.summary.count_seconds = time.monotonic() - started

    def _count_reading(self, since: float, since_cpu: float) -> None:
        self.summary.read_seconds += time.monotonic() - since
        self.summary.read_cpu_seconds += time.thread_time() - since_cpu

    def _add_unwritten(self, rejects: RejectsFile, source: Source) -> None:
        """The rows the writer refused, in the rejects file with their columns: the file read
        again for them (rare: a type that refuses reports, a row the database refused)."""
        if not self._unwritten:
            return
        wanted = {reject.line: reject for reject in self._unwritten}
        for line, record in Source(source.path, self.mapping.reader):
            if line in wanted:
                wanted[line].raw = record.raw if isinstance(record, Reject) else record
        for reject in sorted(self._unwritten, key=lambda r: r.line):
            rejects.add(reject)

    def _unwritable(self, reject: Reject) -> None:
        """A row the writer could not store; written to the rejects file at the end."""
        self._reject(reject)
        with self._lock:
            self._unwritten.append(reject)

    def _reject(self, reject: Reject) -> None:
        # The reader and the writer thread (rows the database refused) both count here.
        with self._lock:
            self.summary.rejected += 1
            reason = reject.reason.split("“")[0].strip()
            self.summary.reasons[reason] = self.summary.reasons.get(reason, 0) + 1

    def _prepare(self, rows: list[ImportRow]) -> list[_Ready]:
        """Match the batch's types (creating those it lacks), place its rows in wards and build
        their values, on the reading side: the writer's thread waits for its database while its
        own Python runs, so Python done here overlaps the previous batch's storing instead of
        adding to it (bench/README.md, staging). Types and departments are created (and
        committed) before the batch's transaction: created inside it, a refused batch would roll
        them back while the catalogue still held them, and the row-by-row retry would point at
        nothing."""
        kept = []
        for row in rows:
            service_type = self.catalogue.service_type(
                name=row.service_name, code=row.service_code, agency=row.agency, group=row.group
            )
            if service_type.stops_reports:
                # An emergency type is refused on every door, imports too (issue 20).
                self._unwritable(Reject(row.line, stop_instruction(service_type)))
            else:
                kept.append((row, service_type))
        self._place([row for row, _type in kept])
        return [
            _Ready(row, self._source_values(row, service_type), service_type.publication)
            for row, service_type in kept
        ]

    def _flush(self, batch: list[_Ready]) -> None:
        # The same request twice in one batch: each line is a state of it, applied in order, as
        # across batches (the first creates it, the later ones update it), so every row read is
        # stored or rejected and the summary's numbers add up to the rows read.
        rounds: list[list[_Ready]] = []
        occurrences: dict[str, int] = {}
        for item in batch:
            external_id = item.row.external_id
            n = occurrences.get(external_id, 0) if external_id else 0
            if external_id:
                occurrences[external_id] = n + 1
            while len(rounds) <= n:
                rounds.append([])
            rounds[n].append(item)
        for items in rounds:
            self._flush_round(items)

    def _flush_round(self, items: list[_Ready]) -> None:
        started, started_cpu = time.monotonic(), time.thread_time()
        try:
            with transaction.atomic(), suppressed():
                self._write(items)
        except DatabaseError:
            # Find the row the database refused; keep every other one.
            for item in items:
                try:
                    with transaction.atomic(), suppressed():
                        self._write([item])
                except DatabaseError as exc:
                    message = str(exc).strip().splitlines()[0][:200]
                    self._unwritable(Reject(item.row.line, f"database refused: {message}"))
        self.summary.write_seconds += time.monotonic() - started
        self.summary.write_cpu_seconds += time.thread_time() - started_cpu

    def _write(self, items: list[_Ready]) -> None:
        rows = [item.row for item in items]
        existing = self._existing(rows)
        new_issues, new_rows, updates, changes = [], [], [], []
        # Looked up once per batch, not once per row (an enum member's value is a descriptor).
        imported = {"source": IssueSource.IMPORT.value, "external_source": self.source_label}
        for item in items:
            # Copies: the batch may be written again row by row (a refused batch).
            row = item.row
            found = existing.get(row.external_id) if row.external_id else None
            if found is not None:
                pk, old_status, _public_id = found
                values = {"id": pk, **item.values}
                updates.append(values)
                if old_status != row.status:
                    changes.append(self._change(pk, old_status, row, values))
            else:
                values = {**item.values, **imported, "external_id": row.external_id}
                if item.publication != "public":
                    # A private or held type's report is kept from the public, as on the form.
                    values.update(is_hidden=True, withheld=item.publication)
                new_issues.append(values)
                new_rows.append(row)
        written = new_issues + updates
        bulk.defer_reference_checks(
            {
                ServiceType: [v["service_type_id"] for v in written],
                Department: [v["department_id"] for v in written],
                Ward: [v["ward_id"] for v in written],
            }
        )
        changes += self._insert(new_issues, new_rows)
        # COPY bypasses the signals that move the public page cache's counters on: move them
        # here, for the lists and for each updated issue's own page (after this batch commits).
        pagecache.bump(
            pagecache.GLOBAL,
            *(pagecache.issue_counter(found[2]) for found in existing.values()),
        )
        bulk.add_rows(StatusChange, changes)
        self._update_and_count(updates, new_issues)
        self.summary.created += len(new_issues)
        self.summary.updated += len(updates)
        self.summary.needs_triage += sum(1 for row in rows if row.ward_id is None)

    def _existing(self, rows: list[ImportRow]) -> dict[str, tuple[int, str, str]]:
        """The batch's requests already imported from this source: (pk, status, public id)."""
        ids = [row.external_id for row in rows if row.external_id]
        if connection.vendor == "postgresql":
            # The ids as one array parameter: the ORM's IN list binds 5,000 parameters on the
            # client, which cost the writer seconds per import (bench/README.md, issue 19).
            found: list[tuple] = []
            if ids:
                with connection.cursor() as cursor:
                    cursor.execute(_EXISTING, [self.source_label, rollups.array_literal(ids)])
                    found = cursor.fetchall()
        else:
            # The exclude repeats the unique index's condition (see _EXISTING).
            found = (
                Issue.objects.filter(external_source=self.source_label, external_id__in=ids)
                .exclude(external_id="")
                .order_by()
                .values_list("external_id", "id", "status", "public_id")
            )
        return {
            external_id: (pk, status, public_id) for external_id, pk, status, public_id in found
        }

    @staticmethod
    def _source_values(row: ImportRow, service_type: ServiceType) -> dict:
        # What the source says about the request: written for a new issue, and all an
        # import may overwrite when the same request comes again. Moderation, votes,
        # reporters and the public id belong to this site and are never touched.
        return {
            "service_type_id": service_type.pk,
            "department_id": service_type.department_id,
            "ward_id": row.ward_id,
            "needs_triage": row.ward_id is None,
            "status": row.status,
            "status_notes": row.status_notes,
            "description": row.description,
            "address": row.address,
            "zipcode": row.zipcode,
            "latitude": row.latitude,
            "longitude": row.longitude,
            "media_url": row.media_url,
            "requested_at": row.requested_at,
            "updated_at": row.updated_at,
            "closed_at": row.closed_at,
            "expected_at": row.expected_at
            or (
                row.requested_at + timedelta(hours=service_type.sla_hours)
                if service_type.sla_hours
                else None
            ),
        }

    def _insert(self, new_issues: list[dict], new_rows: list[ImportRow]) -> list[dict]:
        """Insert the new issues; return their history: opened, then at the source's status."""
        changes = []
        new_ids = insert_issues(new_issues)
        for pk, row, values in zip(new_ids, new_rows, new_issues, strict=True):
            values["id"] = pk  # for the rollup's state (the map's cells show a lone issue)
            changes.append(
                {
                    "issue_id": pk,
                    "from_status": "",
                    "to_status": OPEN,
                    "to_department_id": values["department_id"],
                    "message": "",
                    "created_at": row.requested_at,
                }
            )
            if row.status != OPEN:
                changes.append(self._change(pk, OPEN, row, values))
        return changes

    def _update_and_count(self, updates: list[dict], new_issues: list[dict]) -> None:
        # The dashboards' counters (issues/dashboards/rollups.py), in this batch's transaction but
        # last, as their rows stay locked until commit: new issues are kept to be counted after
        # the import (first: its lock comes before any counter row's, as in a recount);
        # re-imported issues are uncounted under a row lock, updated, and counted again.
        self._later.add(
            [v["id"] for v in new_issues],
            (tuple(v.get(name, False) for name in rollups.STATE_FIELDS) for v in new_issues),
        )
        # An issue whose state still waits to be counted (this import made it in an earlier
        # batch) has that state brought up to date instead: never uncounted before it counted.
        waiting = self._later.pending_among([row["id"] for row in updates])
        updated_ids = [row["id"] for row in updates if row["id"] not in waiting]
        rollups.subtract_issues(updated_ids)
        if updates:
            # Every value the source gave, as _source_values builds them: a column added there is
            # updated too.
            bulk.update_rows(Issue, updates, [name for name in updates[0] if name != "id"])
        rollups.add_issues(updated_ids)
        self._later.restate(waiting)

    @staticmethod
    def _change(pk: int, from_status: str, row: ImportRow, values: dict) -> dict:
        at = row.closed_at if row.status in CLOSED_VALUES and row.closed_at else row.updated_at
        return {
            "issue_id": pk,
            "from_status": from_status,
            "to_status": row.status,
            "message": row.status_notes,
            "created_at": at,
        }

    def _can_geocode(self) -> bool:
        """Asked once per import: is there a geocoder with anything to find?"""
        if not hasattr(self, "_geocodes"):
            self._geocodes = bool(settings.GEOCODER_URL) or Place.objects.exists()
        return self._geocodes

    def _place(self, rows: list[ImportRow]) -> None:
        """Wards by point, for the whole batch in one STRtree query. A row with only an
        address is placed by the geocoder first (docs/places.md); one it cannot place stays
        for triage, as before."""
        unplaced = [row for row in rows if row.latitude is None and row.address]
        if unplaced and self._can_geocode():
            for row in unplaced:
                located = locate_address(row.address)
                row.latitude, row.longitude = located.latitude, located.longitude
        ward_ids = self.ward_index.ward_ids_for((row.latitude, row.longitude) for row in rows)
        for row, ward_id in zip(rows, ward_ids, strict=True):
            if ward_id is None and self.wards_from_column and row.source_ward is not None:
                ward_id = self.ward_numbers.get(row.source_ward)
            row.ward_id = ward_id
