"""Log filter that keeps secrets out of log lines."""

import logging
import re

_SECRET_PATTERNS = [
    re.compile(r"(?i)(authorization:?\s*bearer\s+)[^\s'\"]+"),
    re.compile(
        r"(?i)((?:api[_-]?key|signing[_-]?secret|secret|password|token)['\"]?\s*[:=]\s*['\"]?)[^\s'\",}]+"
    ),
    re.compile(r"\b(?:sk|rk|whsec)_[A-Za-z0-9_]+"),
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
