"""One-off invoice tests use the real HTTP receiver of the webhook tests."""

from tests.webhooks.conftest import receiver  # noqa: F401  (a fixture)
