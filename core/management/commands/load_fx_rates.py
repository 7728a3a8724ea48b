"""python manage.py load_fx_rates FILE: the ECB's reference rates CSV (per EUR)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.fx import fx_rates_load_ecb


class Command(BaseCommand):
    help = "Load FX rates from an ECB CSV (eurofxref.csv or eurofxref-hist.csv)."

    def add_arguments(self, parser):
        parser.add_argument("file")

    def handle(self, *args, file: str, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        self.stdout.write(f"{fx_rates_load_ecb(path=path)} FX rates loaded.")
