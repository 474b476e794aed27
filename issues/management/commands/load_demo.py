from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from departments.demo import DEMO_USERS
from departments.models import Ward
from issues.demo import DEMO_ISSUES, load_demo


class Command(BaseCommand):
    help = "Load the demo city: Chicago's 50 wards, a 311 catalogue, users and issues. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--issues", type=int, default=DEMO_ISSUES)
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even with DEBUG off (demo users have known passwords).",
        )
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing if any ward exists."
        )

    def handle(self, *args, **options):
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "load_demo creates users with known passwords; use --force outside DEBUG."
            )
        if options["if_empty"] and Ward.objects.exists():
            self.stdout.write("Database already has data; demo not loaded.")
            return
        report = load_demo(count=options["issues"])
        if report.created:
            for what, n in report.created.items():
                self.stdout.write(f"  {what}: {n} created")
        else:
            self.stdout.write("Demo data already loaded; nothing changed.")
        self.stdout.write(self.style.WARNING("Demo accounts (local use only):"))
        for role, (email, _name, password) in DEMO_USERS.items():
            self.stdout.write(f"  {role:9} {email:28} {password}")
