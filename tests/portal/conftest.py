import pytest
import time_machine

from tests.portal.world import build_world, frozen, portal_user

NOW = frozen(2024, 5, 20, 12)


@pytest.fixture
def world(api):
    world = build_world(api, NOW)
    portal_user(world.acme, "ap@acme.example")
    portal_user(world.other, "ap@other.example")
    return world


@pytest.fixture
def at_now(world):
    with time_machine.travel(NOW, tick=False):
        yield world


@pytest.fixture
def acme_client(client, at_now):
    """The Django test client logged into the portal as Acme's user (through the login form)."""
    response = client.post(
        "/portal/login",
        {"username": "ap@acme.example", "password": "correct horse battery staple 7"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return client
