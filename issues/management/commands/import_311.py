import contextlib
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from departments.importing.progress import Progress
from departments.importing.readers import SourceError
from departments.importing.rejects import default_rejects_path
from issues.importers.formats import FORMATS, load_mapping
from issues.importers.service_requests import BATCH_SIZE, RequestImporter


class Command(BaseCommand):
    help = (
        "Import a city's 311 history: a Boston or NYC CSV export, an Open311 requests.json, or any "
        "CSV described by a JSON column mapping. Re-importing updates instead of duplicating; "
        "rejected rows go to a rejects CSV with their line number and reason."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--format", choices=sorted(FORMATS), help="A built-in column mapping.")
        parser.add_argument("--mapping", help="A JSON column mapping (see docs/import.md).")
        parser.add_argument(
            "--source",
            help="Name kept with each issue (default: the format's, e.g. boston311); "
            "re-imports match on it and the source's id.",
        )
        parser.add_argument("--rejects", help="Where to write rejected rows (CSV).")
        parser.add_argument(
            "--department",
            default="Imported",
            help="Department for new service types when the source names no agency.",
        )
        parser.add_argument(
            "--activate-types",
            action="store_true",
            help="Let residents report new service types created by the import (default: inactive).",
        )
        parser.add_argument(
            "--wards-from-column",
            action="store_true",
            help="Use the source's ward column for rows whose point is missing or in no ward "
            "(only when the source's wards are this site's wards).",
        )
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        if bool(options["format"]) == bool(options["mapping"]):
            raise CommandError("Give exactly one of --format or --mapping.")
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        if options["mapping"]:
            try:
                mapping = load_mapping(options["mapping"])
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
        else:
            mapping = FORMATS[options["format"]]
        if options["source"]:
            from dataclasses import replace

            mapping = replace(mapping, external_source=options["source"][:64])
        progress = Progress(f"{path.name}", enabled=False if options["no_progress"] else None)
        importer = RequestImporter(
            mapping,
            rejects_path=options["rejects"] or default_rejects_path(path),
            default_department=options["department"],
            activate_new_types=options["activate_types"],
            wards_from_column=options["wards_from_column"],
            batch_size=options["batch_size"],
            progress=progress,
        )
        try:
            # Counted into the dashboards below, once the summary says what was stored.
            summary = importer.run(path, count=False)
        except BaseException as exc:
            # What was stored before the failure is counted all the same; should counting fail
            # too (the database gone), the worker counts the run later and the first error is
            # the one reported.
            with contextlib.suppress(Exception):
                importer.count()
            if isinstance(exc, SourceError):
                raise CommandError(f"{path}: {exc}") from exc
            raise
        out = self.stdout.write
        out(
            f"{summary.read:,} rows read in {summary.seconds:.1f}s "
            f"({summary.rows_per_second:,.0f} rows/s): {summary.created:,} created, "
            f"{summary.updated:,} updated, {summary.rejected:,} rejected"
        )
        if options["verbosity"] > 1:
            # On PostgreSQL the writing runs on its own thread while the next batch is read
            # and cleaned, so the two overlap and need not add up to the total.
            out(
                f"  {summary.write_seconds:.1f}s writing (ids, COPY, commit), "
                f"{summary.read_seconds:.1f}s reading, cleaning, matching types and wards"
            )
            # Where the writing waits: its own CPU against the database; the reader child's CPU
            # (rusage, once it has ended) is 0 where it reads inline.
            out(
                f"  of the writing {summary.write_cpu_seconds:.1f}s the writer's CPU (the rest "
                f"waiting on PostgreSQL); of the reading {summary.read_cpu_seconds:.1f}s this "
                f"process's CPU; the reader process {summary.reader_cpu_seconds:.1f}s CPU"
            )
        if summary.duplicates:
            out(
                f"  {summary.duplicates:,} rows were a later state of an earlier row's request "
                "(same id, time and service): applied as updates"
            )
        if summary.needs_triage:
            out(f"  {summary.needs_triage:,} in no ward: kept and flagged for triage")
        if summary.created_departments:
            out(f"  departments created: {', '.join(summary.created_departments)}")
        if summary.created_service_types:
            state = "active" if options["activate_types"] else "inactive"
            names = ", ".join(summary.created_service_types[:20])
            more = len(summary.created_service_types) - 20
            out(
                f"  service types created ({state}): {names}"
                + (f" and {more} more" if more > 0 else "")
            )
        if summary.rejected:
            for reason, n in sorted(summary.reasons.items(), key=lambda kv: -kv[1]):
                out(f"  rejected {n:,}: {reason}")
            out(self.style.WARNING(f"Rejected rows written to {summary.rejects_path}"))
        self.stdout.flush()
        importer.count()
        if options["verbosity"] > 1:
            out(
                f"  {summary.created:,} new issues counted into the dashboards in "
                f"{summary.count_seconds:.1f}s"
            )
