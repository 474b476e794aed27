import time

from django.core.management.base import BaseCommand

from issues import pagecache
from issues.dashboards import recount, rollups


class Command(BaseCommand):
    help = (
        "Recount the map's grid cells (issues.models.MapCell) from the issues, one GROUP BY per "
        "zoom; until they are built the map groups the issues at those zooms. Writers wait while "
        "it runs. --if-unbuilt (the release step) fills only the sets of zooms not yet built "
        "(a deploy that adds zooms), and does nothing once every set is built."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-unbuilt",
            action="store_true",
            help="Only the sets of zooms never built (safe to run on every deploy).",
        )

    def handle(self, *args, **options):
        if options["if_unbuilt"] and rollups.map_cells_built():
            self.stdout.write("Map cells already built and kept in step: nothing to do.")
            return
        started = time.monotonic()
        recount.rebuild_map_cells(unbuilt_only=options["if_unbuilt"])
        pagecache.bump_all()
        self.stdout.write(f"Map cells rebuilt in {time.monotonic() - started:.1f} s.")
