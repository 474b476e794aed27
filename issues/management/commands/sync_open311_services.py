from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from departments.models import Department, UpstreamEndpoint
from issues.services.servicesync import sync_services
from issues.upstream.client import UpstreamError


class Command(BaseCommand):
    help = (
        "Create or update our service types and their questions from a city system's GeoReport "
        "v2 service list and definitions, each mapped to the city's code. ENDPOINT is the name "
        "(or id) of a city system set up in the workbench (Catalogue -> Upstream endpoints). "
        "What a type's mapping says to keep (name, description, group, keywords, questions) is "
        "left as edited here."
    )

    def add_arguments(self, parser):
        parser.add_argument("endpoint")
        parser.add_argument(
            "--department",
            default="",
            help="Slug of the department new types go to (default: the one department whose "
            "city system this is).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Say what would change; change nothing."
        )

    def handle(self, *args, **options):
        name = options["endpoint"].strip()
        lookup = Q(name=name) | (Q(pk=int(name)) if name.isdigit() else Q())
        endpoint = UpstreamEndpoint.objects.filter(lookup).first()
        if endpoint is None:
            raise CommandError(
                f"No city system named {name!r}. Set it up in the workbench first: "
                "Catalogue -> Upstream endpoints."
            )
        department = None
        if options["department"]:
            department = Department.objects.filter(slug=options["department"]).first()
            if department is None:
                raise CommandError(f"No department with the slug {options['department']!r}.")
        try:
            report = sync_services(
                endpoint=endpoint, department=department, dry_run=options["dry_run"]
            )
        except UpstreamError as exc:
            raise CommandError(f"{endpoint}: the service list could not be read: {exc}") from exc
        for warning in report.warnings:
            self.stderr.write(f"warning: {warning}")
        verb = "would be" if options["dry_run"] else "were"
        self.stdout.write(
            f"{endpoint}: {len(report.created)} types {verb} created, {len(report.updated)} "
            f"updated, {len(report.unchanged)} unchanged; {len(report.warnings)} warnings."
        )
