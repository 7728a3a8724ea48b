"""Invoice tests share the real HTTP receiver of the webhook tests."""

from tests.webhooks.conftest import receiver  # noqa: F401  (a fixture)
