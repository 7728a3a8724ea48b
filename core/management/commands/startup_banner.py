"""python manage.py startup_banner: what `make run` prints just before it starts the processes."""

from django.conf import settings
from django.core.management.base import BaseCommand


def banner_lines() -> list[str]:
    served = settings.SERVED_BASE_URL
    lines = [
        f"Serving on {served}/ (admin at /admin/, portal at /portal/, API docs at /api/v1/docs)"
    ]
    if settings.PUBLIC_BASE_URL.rstrip("/") != served:
        lines.append(f"Links in e-mails, webhooks and portal_url: {settings.PUBLIC_BASE_URL}")
    return lines


class Command(BaseCommand):
    help = "Print where make run serves (WEB_HOST, WEB_PORT) and where links point."

    def handle(self, *args, **options):
        for line in banner_lines():
            self.stdout.write(line)
