"""What looks like a credential, replaced by a marker: log lines (billing_site/logging.py) and the
stored API request log (core/api_log.py) both go through `redact`."""

import re

_SECRET_PATTERNS = [
    re.compile(r"(?i)(authorization:?\s*bearer\s+)[^\s'\"]+"),
    re.compile(
        r"(?i)((?:api[_-]?key|signing[_-]?secret|private[_-]?key|secret|password|token)['\"]?\s*[:=]\s*['\"]?)[^\s'\",}]+"
    ),
    re.compile(r"\b(?:sk|rk|whsec)_[A-Za-z0-9_]+"),
    # a PEM private key (the webhook RSA key), and any PEM in base64 (LAGO_RSA_PRIVATE_KEY)
    re.compile(
        r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)", re.S
    ),
    re.compile(r"LS0tLS1CRUdJTi[A-Za-z0-9+/=\s]*"),
]


def redact(text: str) -> str:
    """Replace anything that looks like a credential with a marker."""
    for pattern in _SECRET_PATTERNS:
        if pattern.groups:
            text = pattern.sub(lambda m: m.group(1) + "[redacted]", text)
        else:
            text = pattern.sub("[redacted]", text)
    return text
