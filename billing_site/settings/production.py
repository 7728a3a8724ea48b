"""Production: refuses to start with DEBUG on or without SECRET_KEY from the environment."""

from django.core.exceptions import ImproperlyConfigured

from billing_site.settings.base import *  # noqa: F403
from billing_site.settings.base import DEBUG, SECRET_KEY, env

if DEBUG:
    raise ImproperlyConfigured("DEBUG must be off in production (unset DEBUG or set DEBUG=0).")
if not SECRET_KEY or len(SECRET_KEY) < 32:
    raise ImproperlyConfigured("SECRET_KEY must be set in the environment (32+ characters).")

WEBHOOK_RSA_DEV_KEY = False  # jwt webhooks need LAGO_RSA_PRIVATE_KEY, one key for every host

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=3600)
SECURE_CONTENT_TYPE_NOSNIFF = True
