"""Lago's "jwt" webhooks: RS256 signatures a receiver verifies with the public key the API
publishes (GET /webhooks/json_public_key, /webhooks/public_key), delivered to a real local
HTTP receiver and checked with PyJWT; the RSA key from LAGO_RSA_PRIVATE_KEY or a dev key."""

import base64
import json
import logging
import stat
from datetime import date
from pathlib import Path

import jwt
import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.exceptions import ImproperlyConfigured
from jsonschema import Draft202012Validator

from webhooks import keys
from webhooks.models import WebhookDelivery
from webhooks.services import delivery_body, webhook_send

pytestmark = pytest.mark.django_db

SPEC = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "lago-openapi.yaml"
INVOICE = {"lago_id": "inv-1", "total_amount_cents": 1200, "issuing_date": date(2024, 3, 1)}


def _pem_private(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,  # Lago's `openssl genrsa` output
        serialization.NoEncryption(),
    )


@pytest.fixture(scope="module")
def env_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def lago_key(settings, env_key):
    """LAGO_RSA_PRIVATE_KEY set as Lago documents it: base64 of the PEM."""
    settings.WEBHOOK_RSA_PRIVATE_KEY = base64.b64encode(_pem_private(env_key)).decode()
    settings.LAGO_API_URL = "https://billing.example.com"
    return env_key


@pytest.fixture
def send(django_capture_on_commit_callbacks):
    def run(webhook_type: str = "invoice.finalized"):
        with django_capture_on_commit_callbacks(execute=True):
            return webhook_send(webhook_type=webhook_type, object_type="invoice", data=INVOICE)

    return run


def published_key(api) -> bytes:
    response = api.get("/api/v1/webhooks/json_public_key")
    assert response.status_code == 200
    return base64.b64decode(response.json()["webhook"]["public_key"])


def test_json_public_key_is_lagos_shape_and_the_env_keys_public_half(api, lago_key):
    response = api.get("/api/v1/webhooks/json_public_key")
    assert response.status_code == 200
    body = response.json()
    encoded = body["webhook"]["public_key"]
    # Ruby's Base64.encode64 layout: 60-character lines, each ending in a newline
    lines = encoded.split("\n")
    assert lines[-1] == "" and all(0 < len(line) <= 60 for line in lines[:-1])
    assert all(len(line) == 60 for line in lines[:-2])
    pem = base64.b64decode(encoded)
    assert pem.startswith(b"-----BEGIN PUBLIC KEY-----\n")
    expected = lago_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert pem == expected
    assert b"PRIVATE" not in response.content
    if SPEC.exists():
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        spec = yaml.load(SPEC.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506
        validator = Draft202012Validator({**spec, "$ref": "#/components/schemas/WebhookPublicKey"})
        assert [e.message for e in validator.iter_errors(body)] == []


def test_public_key_as_text_is_the_same(api, lago_key):
    response = api.get("/api/v1/webhooks/public_key")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    json_key = api.get("/api/v1/webhooks/json_public_key").json()["webhook"]["public_key"]
    assert response.content.decode() == json_key


def test_public_keys_need_an_api_key(anon_api):
    for path in ("public_key", "json_public_key"):
        response = anon_api.get(f"/api/v1/webhooks/{path}")
        assert response.status_code == 401
        assert response.json()["status"] == 401


def test_jwt_webhook_verifies_with_the_published_key(api, lago_key, receiver, send, caplog):
    created = api.post(
        "/api/v1/webhook_endpoints",
        {"webhook_endpoint": {"webhook_url": receiver.url(), "signature_algo": "jwt"}},
        format="json",
    )
    assert created.status_code == 200, created.json()
    assert created.json()["webhook_endpoint"]["signature_algo"] == "jwt"
    with caplog.at_level(logging.DEBUG):
        [delivery] = send()
    [hit] = receiver.hits
    assert hit.headers["x-lago-signature-algorithm"] == "jwt"
    assert hit.headers["x-lago-unique-key"] == str(delivery.lago_id)
    token = hit.headers["x-lago-signature"]
    # the receiver's side, as Lago's docs show it: PyJWT, the published key, RS256, the issuer
    claims = jwt.decode(
        token, published_key(api), algorithms=["RS256"], issuer="https://billing.example.com"
    )
    assert claims == {"data": hit.body.decode(), "iss": "https://billing.example.com"}
    assert json.loads(claims["data"])["invoice"]["lago_id"] == "inv-1"
    assert jwt.get_unverified_header(token) == {"alg": "RS256"}  # as ruby-jwt: no typ
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED
    assert hit.body == delivery_body(delivery)
    assert "PRIVATE KEY" not in caplog.text


def test_a_forged_or_altered_signature_does_not_verify(
    api, lago_key, receiver, make_endpoint, send
):
    make_endpoint(signature_algo="jwt")
    send()
    [hit] = receiver.hits
    token = hit.headers["x-lago-signature"]
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other_pem = other.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, other_pem, algorithms=["RS256"])
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["data"] = claims["data"].replace("1200", "9999")
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(f"{header}.{forged}.{signature}", published_key(api), algorithms=["RS256"])
    with pytest.raises(jwt.InvalidIssuerError):
        jwt.decode(token, published_key(api), algorithms=["RS256"], issuer="https://evil.example")


def test_hmac_and_jwt_endpoints_side_by_side(api, lago_key, receiver, make_endpoint, send):
    make_endpoint("/h")
    make_endpoint("/j", signature_algo="jwt")
    send()
    by_path = {hit.path: hit for hit in receiver.hits}
    assert by_path["/h"].headers["x-lago-signature-algorithm"] == "hmac"
    assert by_path["/j"].headers["x-lago-signature-algorithm"] == "jwt"
    assert by_path["/h"].body == by_path["/j"].body


def test_update_switches_an_endpoint_to_jwt(api, lago_key):
    created = api.post(
        "/api/v1/webhook_endpoints",
        {"webhook_endpoint": {"webhook_url": "https://example.com/h"}},
        format="json",
    ).json()["webhook_endpoint"]
    assert created["signature_algo"] == "hmac"  # our default (Lago's is jwt)
    updated = api.put(
        f"/api/v1/webhook_endpoints/{created['lago_id']}",
        {"webhook_endpoint": {"signature_algo": "jwt"}},
        format="json",
    )
    assert updated.json()["webhook_endpoint"]["signature_algo"] == "jwt"


# --- the key -----------------------------------------------------------------------------------


def test_dev_key_is_generated_once_private_to_its_owner(settings, tmp_path):
    settings.WEBHOOK_RSA_PRIVATE_KEY = ""
    settings.WEBHOOK_RSA_KEY_FILE = tmp_path / "var" / "webhook_rsa_private.pem"
    first = keys.public_key_pem()
    path = settings.WEBHOOK_RSA_KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert list(path.parent.iterdir()) == [path]  # no temporary file left
    keys._cache.clear()  # a new process reads the same file
    assert keys.public_key_pem() == first


def test_production_without_the_key_is_a_configuration_error(settings, tmp_path):
    settings.WEBHOOK_RSA_PRIVATE_KEY = ""
    settings.WEBHOOK_RSA_DEV_KEY = False
    settings.WEBHOOK_RSA_KEY_FILE = tmp_path / "absent.pem"
    with pytest.raises(ImproperlyConfigured, match="LAGO_RSA_PRIVATE_KEY must be set"):
        keys.private_key()
    assert not settings.WEBHOOK_RSA_KEY_FILE.exists()


def test_production_without_the_key_refuses_jwt_endpoints(api, settings):
    settings.WEBHOOK_RSA_PRIVATE_KEY = ""
    settings.WEBHOOK_RSA_DEV_KEY = False
    response = api.post(
        "/api/v1/webhook_endpoints",
        {"webhook_endpoint": {"webhook_url": "https://example.com/j", "signature_algo": "jwt"}},
        format="json",
    )
    assert response.status_code == 422
    assert response.json()["error_details"] == {"signature_algo": ["jwt_key_not_configured"]}
    hmac = api.post(
        "/api/v1/webhook_endpoints",
        {"webhook_endpoint": {"webhook_url": "https://example.com/h"}},
        format="json",
    )
    assert hmac.status_code == 200


@pytest.mark.parametrize(
    "value", ["not base64 at all!", base64.b64encode(b"-----BEGIN nope").decode()]
)
def test_a_bad_env_key_is_refused_without_echoing_it(settings, value):
    settings.WEBHOOK_RSA_PRIVATE_KEY = value
    with pytest.raises(ImproperlyConfigured) as caught:
        keys.private_key()
    assert value not in str(caught.value)
