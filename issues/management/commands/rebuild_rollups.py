import time

from django.core.management.base import BaseCommand

from issues import pagecache
from issues.dashboards import recount, stored


class Command(BaseCommand):
    help = (
        "Recount the ward dashboards' rollup from the issues (idempotent): after a restore, a "
        "bulk write that bypassed the services, or any doubt. Writers wait while it runs."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--ward",
            type=int,
            action="append",
            default=[],
            help="Ward id to recount (repeatable; 0 = issues in no ward). Default: everything.",
        )

    def handle(self, *args, **options):
        started = time.monotonic()
        if options["ward"]:
            recount.rebuild_for_wards(options["ward"])
        else:
            recount.rebuild()
            recount.rebuild_map_cells()
        # The rebuild moved the league's data version on: store the league for the new one.
        stored.refresh()
        # The dashboards' figures may have changed: cached ward pages render again.
        pagecache.bump_all()
        self.stdout.write(f"Rollup rebuilt in {time.monotonic() - started:.1f} s.")
