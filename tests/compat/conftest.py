"""The official lago-python-client pointed at a live server (a real HTTP round trip)."""

import pytest
from lago_python_client import Client

from core.services import api_key_create


@pytest.fixture
def lago(live_server, transactional_db) -> Client:
    _, raw_key = api_key_create(name="lago-client")
    return Client(api_key=raw_key, api_url=live_server.url)
