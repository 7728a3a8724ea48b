"""The instance's RSA key pair for Lago's "jwt" webhook signatures (RS256).

As Lago (config/initializers/rsa_keys.rb): the private key is `LAGO_RSA_PRIVATE_KEY`, the
base64 of a PEM private key, read from the environment and never stored in the database,
logged or shown. When it is unset and `WEBHOOK_RSA_DEV_KEY` is on (dev and tests), a 2048-bit
key is generated once into `var/webhook_rsa_private.pem` (mode 0600, git-ignored) and reused;
production turns that off, so a missing key is a configuration error, not a silent new key.

The public key is published at GET /api/v1/webhooks/json_public_key as Lago does:
base64 of its PEM, in Ruby's Base64.encode64 layout (60-character lines).
"""

import base64
import binascii
import os
import threading
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

_lock = threading.Lock()
_cache: dict[tuple, rsa.RSAPrivateKey] = {}


def _from_environment(encoded: str) -> rsa.RSAPrivateKey:
    try:
        pem = base64.b64decode(encoded.encode("ascii"), validate=False)
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError, UnicodeEncodeError, binascii.Error):
        key = None  # the reason may quote the key: never raise it
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ImproperlyConfigured(
            "LAGO_RSA_PRIVATE_KEY is not the base64 of a PEM RSA private key"
        )
    return key


def _from_file(path: Path) -> rsa.RSAPrivateKey:
    """Read the dev key, generating it first if absent (atomically: two processes starting
    together end up with one key)."""
    if not path.exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(pem)
        try:
            os.link(temporary, path)  # fails if another process was first: keep theirs
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ImproperlyConfigured(f"{path} does not hold an RSA private key")
    return key


def jwt_configured() -> bool:
    """Whether "jwt" signatures can be made here (a key in the environment, or a dev key)."""
    return bool(settings.WEBHOOK_RSA_PRIVATE_KEY) or settings.WEBHOOK_RSA_DEV_KEY


def private_key() -> rsa.RSAPrivateKey:
    """The signing key: LAGO_RSA_PRIVATE_KEY, else the generated dev key, else an error."""
    encoded = settings.WEBHOOK_RSA_PRIVATE_KEY
    path = Path(settings.WEBHOOK_RSA_KEY_FILE)
    source = ("env", encoded) if encoded else ("file", str(path))
    with _lock:
        if source not in _cache:
            if encoded:
                _cache[source] = _from_environment(encoded)
            elif settings.WEBHOOK_RSA_DEV_KEY:
                _cache[source] = _from_file(path)
            else:
                raise ImproperlyConfigured(
                    "LAGO_RSA_PRIVATE_KEY must be set to sign webhooks with jwt "
                    "(base64 of a PEM RSA private key, as Lago)"
                )
        return _cache[source]


def public_key_pem() -> bytes:
    return (
        private_key()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def public_key_base64() -> str:
    """Lago's `Base64.encode64(RsaPublicKey.to_s)`: lines of 60 characters, each ending in a
    newline (any base64 decoder reads it)."""
    encoded = base64.b64encode(public_key_pem()).decode("ascii")
    return "".join(f"{encoded[i : i + 60]}\n" for i in range(0, len(encoded), 60))
