"""What the catalogue's import commands share: the file, the rejects file, the batch size and the
progress bar as options, the checks on them, and the report printed at the end."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from departments.importing.batches import BATCH_SIZE
from departments.importing.progress import Progress
from departments.importing.rejects import default_rejects_path
from departments.importing.summary import ImportSummary


class ImportCommand(BaseCommand):
    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--rejects", help="Where to write rejected lines (CSV).")
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
        parser.add_argument("--no-progress", action="store_true")

    def checked_path(self, options) -> Path:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        return path

    def importer_options(self, path: Path, options) -> dict:
        """The keyword arguments of a BatchImporter, from the command's options."""
        return {
            "rejects_path": options["rejects"] or default_rejects_path(path),
            "batch_size": options["batch_size"],
            "progress": Progress(path.name, enabled=False if options["no_progress"] else None),
        }

    def report(self, summary: ImportSummary, fmt: str) -> None:
        for line in summary.describe(fmt):
            self.stdout.write(line)
        if summary.rejected:
            self.stdout.write(
                self.style.WARNING(f"Rejected lines written to {summary.rejects_path}")
            )
