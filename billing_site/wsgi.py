"""WSGI entry point (gunicorn billing_site.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billing_site.settings.dev")
application = get_wsgi_application()
