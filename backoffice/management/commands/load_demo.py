"""python manage.py load_demo: the demo company, safe to run again (idempotent)."""

from django.core.management.base import BaseCommand

from backoffice.demo import demo_load


class Command(BaseCommand):
    help = "Load the demo data set (an AI API company). Running it again changes nothing."

    def add_arguments(self, parser):
        parser.add_argument(
            "--usage-scale",
            type=float,
            default=1.0,
            help="Share of the usage events to load (e.g. 0.05 for a quick demo in tests).",
        )

    def handle(self, *args, **options):
        for line in demo_load(usage_scale=options["usage_scale"]):
            self.stdout.write(line)
