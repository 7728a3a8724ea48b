"""Log filter that keeps secrets out of log lines."""

import logging
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


class RedactSecretsFilter(logging.Filter):
    """Redacts bearer tokens, API keys, passwords and Stripe secrets from every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
