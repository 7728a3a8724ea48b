"""python manage.py create_api_key --name NAME: prints the raw key alone on its last line."""

from django.core.management.base import BaseCommand

from core.services import api_key_create


class Command(BaseCommand):
    help = "Create an API key. The raw key is printed once, on the last line; only a hash is kept."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)

    def handle(self, *args, name: str, **options):
        key, raw_key = api_key_create(name=name, created_by="manage.py")
        self.stderr.write(f"Created API key {key.name!r} (prefix {key.prefix}).")
        self.stdout.write(raw_key)
