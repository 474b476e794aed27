from django.core.management.base import CommandError

from departments.importing.places import (
    FORMATS,
    MAPPING_FIELDS,
    PlaceFile,
    PlaceImporter,
)
from departments.importing.readers import SourceError
from departments.management.importcommand import ImportCommand


class Command(ImportCommand):
    help = (
        "Import the gazetteer's places: OpenAddresses address points (LON, LAT, NUMBER, STREET, "
        "UNIT, CITY, POSTCODE, ID), an intersections CSV (intersection, street_1, street_2, "
        "zipcode, longitude, latitude), or any CSV described by --mapping. Re-importing updates "
        "by the source's id; rejected lines go to a rejects CSV with their line and reason."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--format", choices=FORMATS, default="csv")
        parser.add_argument(
            "--mapping",
            default="",
            help="field=column pairs, comma-separated; fields: "
            + ", ".join(MAPPING_FIELDS)
            + ". kind=landmark (or address, intersection) sets one kind for every row.",
        )

    def handle(self, *args, **options):
        path = self.checked_path(options)
        try:
            source = PlaceFile(path, fmt=options["format"], mapping=options["mapping"])
            importer = PlaceImporter(**self.importer_options(path, options))
            summary = importer.run(source)
        except SourceError as exc:
            raise CommandError(f"{path}: {exc}") from exc
        self.report(summary, source.format)
