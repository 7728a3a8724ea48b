"""python manage.py load_tax_rules [--file PATH]: upsert the automatic tax rules."""

from pathlib import Path

from django.core.management.base import BaseCommand

from taxes.services import RULES_FILE, tax_rules_load


class Command(BaseCommand):
    help = "Load EU VAT and US sales-tax rules (with effective dates) from a CSV file."

    def add_arguments(self, parser):
        parser.add_argument("--file", default=str(RULES_FILE))

    def handle(self, *args, file: str, **options):
        created, updated = tax_rules_load(path=Path(file))
        self.stdout.write(f"Tax rules: {created} created, {updated} updated.")
