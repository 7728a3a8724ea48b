"""python manage.py event_partitions [--ensure YYYY-MM [--months N]] [--detach YYYY-MM]"""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from usage import partitions


def _month(text: str) -> date:
    try:
        year, month = (int(part) for part in text.split("-"))
        return date(year, month, 1)
    except ValueError as exc:
        raise CommandError(f"expected YYYY-MM, got {text!r}") from exc


class Command(BaseCommand):
    help = "List, create or detach monthly partitions of the events table (PostgreSQL)."

    def add_arguments(self, parser):
        parser.add_argument("--ensure", metavar="YYYY-MM")
        parser.add_argument("--months", type=int, default=1)
        parser.add_argument("--detach", metavar="YYYY-MM")

    def handle(self, *args, ensure=None, months=1, detach=None, **options):
        if not partitions.is_partitioned():
            self.stdout.write("The events table is partitioned on PostgreSQL only.")
            return
        if ensure:
            for name in partitions.ensure_months(_month(ensure), months):
                self.stdout.write(f"created {name}")
        if detach:
            self.stdout.write(f"detached {partitions.detach_month(_month(detach))}")
        for name in partitions.existing_partitions():
            self.stdout.write(name)
