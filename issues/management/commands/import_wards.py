from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from issues.importers.wards import WardFileError, load_ward_file


class Command(BaseCommand):
    help = (
        "Load or replace a city's ward polygons from a GeoJSON FeatureCollection (WGS84), then "
        "re-assign every issue with a point to the ward that contains it."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument(
            "--number-field", default="ward", help="Feature property holding the ward number."
        )
        parser.add_argument("--name-field", default="", help="Feature property holding a name.")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Delete wards the file does not contain (their issues are re-assigned by point).",
        )

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        try:
            summary = load_ward_file(
                path,
                number_field=options["number_field"],
                name_field=options["name_field"],
                replace=options["replace"],
            )
        except WardFileError as exc:
            raise CommandError(f"{path.name}: {exc}. Nothing was changed.") from exc
        self.stdout.write(
            f"Wards: {summary.created} created, {summary.updated} updated, "
            f"{summary.removed} removed; {summary.reassigned:,} issues moved to another ward "
            f"({summary.seconds:.1f}s)."
        )
