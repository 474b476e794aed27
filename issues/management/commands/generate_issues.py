import sys

from django.core.management.base import BaseCommand, CommandError

from departments.importing.progress import Progress
from issues.importers.synthetic import BATCH, generate_issues


class Command(BaseCommand):
    help = (
        "Create N realistic synthetic issues (with histories) inside the wards, for load tests "
        "and benchmarks. Loads the demo wards and catalogue first if the database has none. "
        "Never sends email."
    )

    def add_arguments(self, parser):
        parser.add_argument("count", type=int)
        parser.add_argument("--seed", type=int, default=None, help="Repeatable output.")
        parser.add_argument("--batch-size", type=int, default=BATCH)
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **options):
        count = options["count"]
        if count < 1:
            raise CommandError("COUNT must be at least 1.")
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        progress = Progress(
            "generate_issues", stream=sys.stderr, enabled=False if options["no_progress"] else None
        )
        summary = generate_issues(
            count,
            seed=options["seed"],
            batch_size=options["batch_size"],
            on_batch=lambda done: progress.update(done, done, count),
        )
        progress.finish(summary.created)
        self.stdout.write(
            f"{summary.created:,} issues and {summary.status_changes:,} status changes created in "
            f"{summary.seconds:.1f}s ({summary.rows_per_second:,.0f} issues/s)."
        )
