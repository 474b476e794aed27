import time

from django.core.management.base import BaseCommand

from issues import pagecache
from issues.dashboards import recount, rollups


class Command(BaseCommand):
    help = (
        "Recount the map's grid cells (issues.models.MapCell) from the issues, one GROUP BY per "
        "zoom; until they are built the zoomed-out map groups every issue. Writers wait while "
        "it runs. --if-unbuilt (the release step) does nothing once they are built."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-unbuilt",
            action="store_true",
            help="Only when the cells were never built (safe to run on every deploy).",
        )

    def handle(self, *args, **options):
        if options["if_unbuilt"] and rollups.map_cells_built():
            self.stdout.write("Map cells already built and kept in step: nothing to do.")
            return
        started = time.monotonic()
        recount.rebuild_map_cells()
        pagecache.bump_all()
        self.stdout.write(f"Map cells rebuilt in {time.monotonic() - started:.1f} s.")
