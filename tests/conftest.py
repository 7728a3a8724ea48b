"""Shared fixtures: API clients with real keys, the live-process helpers."""

import os

import pytest
from django.db import connection
from rest_framework.test import APIClient

from core.services import api_key_create
from tests.stripe_fake import localstripe_url, stripe_on  # noqa: F401 (fixtures for every test)

# Playwright's sync API runs an event loop in the test thread; Django's ORM calls there are safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# Every /api/v1 response of every test is checked against Lago's OpenAPI spec (docs/testing.md).
pytest_plugins = ["tests.compat.contract"]


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` need PostgreSQL; elsewhere they are reported as skipped."""
    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (runs in the PostgreSQL pass of .ci/run)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def fresh_ingest_cache():
    """Each test starts with an empty per-process catalog cache."""
    from usage import catalog_cache

    catalog_cache.clear()
    yield
    catalog_cache.clear()


@pytest.fixture
def raw_api_key(db) -> str:
    _, raw_key = api_key_create(name="tests")
    return raw_key


@pytest.fixture
def api(raw_api_key) -> APIClient:
    """A DRF test client authenticated with a real API key."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_api_key}")
    return client


@pytest.fixture
def anon_api() -> APIClient:
    return APIClient()
