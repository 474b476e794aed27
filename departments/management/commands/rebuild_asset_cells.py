import time

from django.core.management.base import BaseCommand

from departments import asset_cells


class Command(BaseCommand):
    help = (
        "Recount every asset layer's map cells (departments.models.AssetCell) from its assets, "
        "one GROUP BY per zoom; until a layer's are built its zoomed-out map groups every asset. "
        "--if-unbuilt (the release step) recounts only the layers never built."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-unbuilt",
            action="store_true",
            help="Only the layers whose cells were never built (safe to run on every deploy).",
        )

    def handle(self, *args, **options):
        started = time.monotonic()
        layers = asset_cells.rebuild_asset_cells(only_unbuilt=options["if_unbuilt"])
        self.stdout.write(
            f"Asset cells rebuilt for {layers} layer(s) in {time.monotonic() - started:.1f} s."
        )
