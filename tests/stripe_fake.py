"""localstripe, a real Stripe-compatible server, on loopback (one per test session: it keeps
its state in a fixed file), reset for every test; Stripe settings pointing at it; helpers to
sign webhook payloads exactly as Stripe does."""

import hashlib
import hmac
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.live import free_port, wait_for

WEBHOOK_SECRET = "whsec_test_secret"


@pytest.fixture(scope="session")
def localstripe_url():
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("localstripe_server.py")), str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return requests.delete(f"{url}/_config/data", timeout=1).status_code == 200
        except requests.ConnectionError:
            return False

    try:
        wait_for(up, timeout=30, what="localstripe")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def stripe_on(settings, localstripe_url):
    """Stripe enabled against a fresh localstripe."""
    requests.delete(f"{localstripe_url}/_config/data", timeout=5)
    settings.STRIPE_SECRET_KEY = "sk_test_localstripe"
    settings.STRIPE_API_BASE = localstripe_url
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.FINANCE_EMAILS = ["finance@seller.example"]
    return localstripe_url


def sign(payload: bytes, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """The Stripe-Signature header: t=<ts>,v1=HMAC-SHA256(secret, "<ts>.<payload>")."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def event(event_id: str, event_type: str, obj: dict) -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": event_type,
            "created": int(time.time()),
            "data": {"object": obj},
            "livemode": False,
            "api_version": "2024-06-20",
        }
    ).encode()
