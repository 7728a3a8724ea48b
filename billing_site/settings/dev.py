"""Local development (make run): DEBUG on by default, a secret key generated once under var/."""

import secrets

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
WHITENOISE_USE_FINDERS = True
SECRET_KEY = env.str("SECRET_KEY", default="") or _local_secret_key()
