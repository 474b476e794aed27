from django.core.management.base import CommandError

from departments.importing.asset_rows import FORMATS, AssetFile
from departments.importing.assets import AssetImporter, find_or_create_layer
from departments.importing.readers import SourceError
from departments.management.importcommand import ImportCommand


class Command(ImportCommand):
    help = (
        "Import an asset layer (bus stops, street lights, hydrants...) from a CSV (latitude and "
        "longitude columns, or a WKT POINT), a GeoJSON FeatureCollection of points, or a GTFS "
        "stops.txt. Re-importing updates by the source's id instead of duplicating; rejected "
        "lines go to a rejects CSV with their line number and reason."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--layer", required=True, help="The layer's slug or name; created if there is none."
        )
        parser.add_argument("--format", choices=FORMATS, help="Default: from the file's name.")
        parser.add_argument("--label", default="", help="A new layer's asset, e.g. “bus stop”.")
        parser.add_argument("--label-plural", default="", help="e.g. “bus stops”.")
        parser.add_argument("--kind", default="", help="One kind for every asset, e.g. shelter.")
        for field in ("id", "name", "kind", "lat", "lon", "geometry"):
            parser.add_argument(f"--{field}-column", default="", help=f"The column with {field}.")

    def handle(self, *args, **options):
        path = self.checked_path(options)
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
            **self.importer_options(path, options),
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
        self.report(summary, source.format)
