"""Local development (make run): DEBUG on by default, a secret key generated once under var/."""

import secrets
import warnings

from celery.exceptions import SecurityWarning

from billing_site.settings.base import *  # noqa: F403
from billing_site.settings.base import VAR_DIR, env


def _local_secret_key() -> str:
    """Read var/secret_key, creating it with a random key the first time (never committed)."""
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


DEBUG = env.bool("DEBUG", default=True)

# E-mails go to files under var/mail/ (one file per connection, read with any pager): the
# console backend printed every invoice PDF in base64 into `make run`'s output.
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))

# `make run` runs as whoever starts it, root in a container: Celery's worker then warns "You're
# running the worker with superuser privileges" at each start. The danger is root unpickling a
# message (Celery refuses to start then, unless C_FORCE_ROOT); this project accepts JSON only
# (CELERY_ACCEPT_CONTENT), so in development the warning says nothing actionable. The
# production settings keep it: run workers there as a service user.
warnings.filterwarnings(
    "ignore",
    message="You're running the worker with superuser privileges",
    category=SecurityWarning,
)
WHITENOISE_USE_FINDERS = True
SECRET_KEY = env.str("SECRET_KEY", default="") or _local_secret_key()
