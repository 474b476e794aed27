from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from departments.importing.asset_rows import FORMATS, AssetFile
from departments.importing.assets import AssetImporter, find_or_create_layer
from departments.importing.batches import BATCH_SIZE
from departments.importing.progress import Progress
from departments.importing.readers import SourceError
from departments.importing.rejects import default_rejects_path


class Command(BaseCommand):
    help = (
        "Import an asset layer (bus stops, street lights, hydrants...) from a CSV (latitude and "
        "longitude columns, or a WKT POINT), a GeoJSON FeatureCollection of points, or a GTFS "
        "stops.txt. Re-importing updates by the source's id instead of duplicating; rejected "
        "lines go to a rejects CSV with their line number and reason."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument(
            "--layer", required=True, help="The layer's slug or name; created if there is none."
        )
        parser.add_argument("--format", choices=FORMATS, help="Default: from the file's name.")
        parser.add_argument("--label", default="", help="A new layer's asset, e.g. “bus stop”.")
        parser.add_argument("--label-plural", default="", help="e.g. “bus stops”.")
        parser.add_argument("--kind", default="", help="One kind for every asset, e.g. shelter.")
        for field in ("id", "name", "kind", "lat", "lon", "geometry"):
            parser.add_argument(f"--{field}-column", default="", help=f"The column with {field}.")
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
            source = AssetFile(
                path,
                fmt=options["format"] or "",
                id=options["id_column"],
                name=options["name_column"],
                kind=options["kind_column"],
                latitude=options["lat_column"],
                longitude=options["lon_column"],
                geometry=options["geometry_column"],
                fixed_kind=options["kind"],
            )
        except SourceError as exc:
            raise CommandError(f"{path}: {exc}") from exc
        layer, created = find_or_create_layer(
            options["layer"], label=options["label"], label_plural=options["label_plural"]
        )
        importer = AssetImporter(
            layer,
            rejects_path=options["rejects"] or default_rejects_path(path),
            batch_size=options["batch_size"],
            progress=Progress(path.name, enabled=False if options["no_progress"] else None),
        )
        try:
            summary = importer.run(source)
        except SourceError as exc:
            raise CommandError(f"{path}: {exc}") from exc
        out = self.stdout.write
        if created:
            out(
                f"Layer “{layer.name}” created ({layer.slug}): give it its service types and "
                "adoption terms in the workbench."
            )
        for line in summary.describe(source.format):
            out(line)
        if summary.rejected:
            out(self.style.WARNING(f"Rejected lines written to {summary.rejects_path}"))
