"""The per-endpoint secret is derived from the server key; signatures are Lago's HMAC mode."""

import base64
import hashlib
import hmac
import uuid

import pytest
from django.core.exceptions import ImproperlyConfigured

from webhooks.models import WebhookEndpoint
from webhooks.signing import endpoint_secret, sign, signed_headers, verify

ENDPOINT = WebhookEndpoint(lago_id=uuid.UUID("1b4e28ba-2fa1-11d2-883f-0016d3cca427"))


def expected_secret(key: str) -> str:
    return hmac.new(key.encode(), str(ENDPOINT.lago_id).encode(), hashlib.sha256).hexdigest()


def test_secret_derives_from_secret_key_when_no_signing_key(settings):
    settings.WEBHOOK_SIGNING_KEY = ""
    settings.SECRET_KEY = "k1"
    assert endpoint_secret(ENDPOINT) == expected_secret("k1")
    settings.SECRET_KEY = "k2"
    assert endpoint_secret(ENDPOINT) == expected_secret("k2")  # rotating rotates secrets


def test_signing_key_wins_over_secret_key(settings):
    settings.SECRET_KEY = "k1"
    settings.WEBHOOK_SIGNING_KEY = "signing"
    assert endpoint_secret(ENDPOINT) == expected_secret("signing")


def test_no_key_at_all_refuses_to_sign(settings):
    settings.SECRET_KEY = ""
    settings.WEBHOOK_SIGNING_KEY = ""
    with pytest.raises(ImproperlyConfigured):
        endpoint_secret(ENDPOINT)


def test_sign_is_base64_hmac_sha256_of_the_body():
    digest = hmac.new(b"s3cret", b'{"a":1}', hashlib.sha256).digest()
    assert sign("s3cret", b'{"a":1}') == base64.b64encode(digest).decode()
    assert verify("s3cret", b'{"a":1}', sign("s3cret", b'{"a":1}'))
    assert not verify("s3cret", b'{"a":2}', sign("s3cret", b'{"a":1}'))
    assert not verify("s3cret", b'{"a":1}', "")
    assert not verify("s3cret", b'{"a":1}', "é")
    assert not verify("s3cret", b'{"a":1}', None)


def test_headers():
    headers = signed_headers(secret="s", body=b"{}", unique_key="k")
    assert headers == {
        "Content-Type": "application/json",
        "X-Lago-Signature": sign("s", b"{}"),
        "X-Lago-Signature-Algorithm": "hmac",
        "X-Lago-Unique-Key": "k",
    }
