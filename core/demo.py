"""The demo data set shown by `make run`: an AI API company and its customers.

Each capability adds its part here; every step is idempotent (looked up by code/external id).
"""

from collections.abc import Iterator

from core.models import ApiKey
from core.services import api_key_create

DEMO_KEY_NAME = "demo"


def demo_api_key() -> Iterator[str]:
    """A demo API key, printed the first time only (only its hash is kept)."""
    if ApiKey.objects.filter(name=DEMO_KEY_NAME, revoked_at__isnull=True).exists():
        yield "Demo API key exists (its raw value was printed when created)."
        return
    _, raw_key = api_key_create(name=DEMO_KEY_NAME, created_by="load_demo")
    yield f"Demo API key (shown once): {raw_key}"


def demo_load() -> Iterator[str]:
    """Run every demo step and yield what each did."""
    yield from demo_api_key()
