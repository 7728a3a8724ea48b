"""python manage.py rebuild_rollups [--subscription EXTERNAL_ID]"""

from django.core.management.base import BaseCommand

from usage.rollups import rollups_rebuild


class Command(BaseCommand):
    help = (
        "Recompute the hourly usage rollups from the raw events, e.g. after a bulk load that "
        "bypassed ingestion. Run it while that subscription receives no events."
    )

    def add_arguments(self, parser):
        parser.add_argument("--subscription", help="external subscription id (default: all)")

    def handle(self, *args, subscription=None, **options):
        written = rollups_rebuild(external_subscription_id=subscription)
        self.stdout.write(f"{written} rollup rows written.")
