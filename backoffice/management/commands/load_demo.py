"""python manage.py load_demo: the demo company, safe to run again (idempotent)."""

from django.core.management.base import BaseCommand

from backoffice.demo import demo_load


class Command(BaseCommand):
    help = "Load the demo data set (an AI API company). Running it again changes nothing."

    def handle(self, *args, **options):
        for line in demo_load():
            self.stdout.write(line)
