from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from departments.importing.batches import BATCH_SIZE
from departments.importing.places import (
    FORMATS,
    MAPPING_FIELDS,
    PlaceFile,
    PlaceImporter,
)
from departments.importing.progress import Progress
from departments.importing.readers import SourceError
from departments.importing.rejects import default_rejects_path


class Command(BaseCommand):
    help = (
        "Import the gazetteer's places: OpenAddresses address points (LON, LAT, NUMBER, STREET, "
        "UNIT, CITY, POSTCODE, ID), an intersections CSV (intersection, street_1, street_2, "
        "zipcode, longitude, latitude), or any CSV described by --mapping. Re-importing updates "
        "by the source's id; rejected lines go to a rejects CSV with their line and reason."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--format", choices=FORMATS, default="csv")
        parser.add_argument(
            "--mapping",
            default="",
            help="field=column pairs, comma-separated; fields: "
            + ", ".join(MAPPING_FIELDS)
            + ". kind=landmark (or address, intersection) sets one kind for every row.",
        )
        parser.add_argument("--rejects", help="Where to write rejected lines (CSV).")
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        try:
            source = PlaceFile(path, fmt=options["format"], mapping=options["mapping"])
            importer = PlaceImporter(
                rejects_path=options["rejects"] or default_rejects_path(path),
                batch_size=options["batch_size"],
                progress=Progress(path.name, enabled=False if options["no_progress"] else None),
            )
            summary = importer.run(source)
        except SourceError as exc:
            raise CommandError(f"{path}: {exc}") from exc
        out = self.stdout.write
        for line in summary.describe(source.format):
            out(line)
        if summary.rejected:
            out(self.style.WARNING(f"Rejected lines written to {summary.rejects_path}"))
