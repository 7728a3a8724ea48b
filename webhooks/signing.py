"""Signatures of webhook bodies, in Lago's two modes: "hmac" and "jwt".

Each endpoint's secret is derived, never stored:
``hex(HMAC-SHA256(key=WEBHOOK_SIGNING_KEY or SECRET_KEY, msg=str(endpoint.lago_id)))``.
The key comes from the environment (settings), so a database dump reveals no secret; rotating
``WEBHOOK_SIGNING_KEY`` (or ``SECRET_KEY`` when it is unset) rotates every endpoint's secret, and
receivers must then be given the new ones.

Headers sent with every delivery: ``X-Lago-Signature: base64(HMAC-SHA256(secret, raw body))``,
``X-Lago-Signature-Algorithm: hmac``, ``X-Lago-Unique-Key: <delivery lago_id>`` (the receiver's
idempotency key: retries of one delivery carry the same value).

In "jwt" mode (Lago's Webhook#jwt_signature) ``X-Lago-Signature`` is an RS256 JWT signed with
the instance's RSA key (webhooks/keys.py), header ``{"alg": "RS256"}``, claims
``{"data": <the raw body, as a string>, "iss": LAGO_API_URL}`` and nothing else (no expiry,
as Lago); ``X-Lago-Signature-Algorithm: jwt``. The receiver verifies it with the public key
of GET /api/v1/webhooks/json_public_key and checks that ``data`` equals the body.
"""

import base64
import hashlib
import hmac

import jwt
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from webhooks.keys import private_key

SIGNATURE_HEADER = "X-Lago-Signature"
ALGORITHM_HEADER = "X-Lago-Signature-Algorithm"
UNIQUE_KEY_HEADER = "X-Lago-Unique-Key"


def _server_key() -> bytes:
    """WEBHOOK_SIGNING_KEY, else SECRET_KEY: an empty key would make secrets guessable."""
    key = getattr(settings, "WEBHOOK_SIGNING_KEY", "") or settings.SECRET_KEY
    if not key:
        raise ImproperlyConfigured("WEBHOOK_SIGNING_KEY or SECRET_KEY must be set to sign webhooks")
    return key.encode()


def endpoint_secret(endpoint) -> str:
    """The endpoint's signing secret (hex), derived from the server key and its lago_id."""
    return hmac.new(_server_key(), str(endpoint.lago_id).encode(), hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes) -> str:
    """base64(HMAC-SHA256(secret, body)): the value of X-Lago-Signature."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def verify(secret: str, body: bytes, signature: str) -> bool:
    """True when `signature` signs `body` under `secret` (constant-time comparison)."""
    if not isinstance(signature, str):
        return False
    return hmac.compare_digest(sign(secret, body).encode(), signature.encode())


def jwt_sign(body: bytes) -> str:
    """Lago's jwt signature: RS256 over {"data": body, "iss": LAGO_API_URL}, header alg only."""
    claims = {"data": body.decode("utf-8"), "iss": settings.LAGO_API_URL}
    return jwt.encode(claims, private_key(), algorithm="RS256", headers={"typ": None})


def signed_headers(
    *, secret: str, body: bytes, unique_key: str, algorithm: str = "hmac"
) -> dict[str, str]:
    """Every header a delivery carries, signature included (`algorithm`: "hmac" or "jwt")."""
    signature = jwt_sign(body) if algorithm == "jwt" else sign(secret, body)
    return {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: signature,
        ALGORITHM_HEADER: "jwt" if algorithm == "jwt" else "hmac",
        UNIQUE_KEY_HEADER: unique_key,
    }
