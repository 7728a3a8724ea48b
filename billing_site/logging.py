"""Log filter that keeps secrets out of log lines."""

import logging

from core.redaction import redact

__all__ = ["RedactSecretsFilter", "redact"]


class RedactSecretsFilter(logging.Filter):
    """Redacts bearer tokens, API keys, passwords and Stripe secrets from every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
