"""python manage.py startup_banner: what `make run` prints just before it starts the processes."""

import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand


def _shown(path: str) -> str:
    """A folder as the reader will type it: relative when under the current directory."""
    absolute = Path(path).resolve()
    try:
        return str(absolute.relative_to(Path.cwd())) + os.sep
    except ValueError:
        return str(absolute) + os.sep


def email_line() -> str:
    backend = settings.EMAIL_BACKEND
    if backend == "django.core.mail.backends.filebased.EmailBackend":
        return (
            f"E-mails: written to {_shown(settings.EMAIL_FILE_PATH)} "
            "(a file per connection, attachments included), not printed here"
        )
    if backend == "django.core.mail.backends.console.EmailBackend":
        return "E-mails: printed here (console backend, attachments in base64)"
    return f"E-mails: sent through {backend}"


def banner_lines() -> list[str]:
    served = settings.SERVED_BASE_URL
    lines = [
        f"Serving on {served}/ (admin at /admin/, portal at /portal/, API docs at /api/v1/docs)"
    ]
    if settings.PUBLIC_BASE_URL.rstrip("/") != served:
        lines.append(f"Links in e-mails, webhooks and portal_url: {settings.PUBLIC_BASE_URL}")
    lines.append(email_line())
    return lines


class Command(BaseCommand):
    help = "Print where make run serves (WEB_HOST, WEB_PORT), where links point, where e-mails go."

    def handle(self, *args, **options):
        for line in banner_lines():
            self.stdout.write(line)
