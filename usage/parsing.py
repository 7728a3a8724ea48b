"""Parse and validate raw event payloads (pure: no database). Lago's reason codes."""

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.utils.dateparse import parse_datetime

from core.validation import parse_decimal

MAX_ID_LENGTH = 255
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class ParsedEvent:
    """A syntactically valid event, before catalog and subscription checks."""

    transaction_id: str
    code: str
    timestamp: datetime
    properties: dict
    precise_total_amount_cents: Decimal | None
    external_subscription_id: str = ""
    external_customer_id: str = ""
    sent_timestamp: object = None  # as sent, for the fingerprint (absent = time of receipt)
    compact_quantity: object = (
        None  # the compact form's `quantity`, placed once the metric is known
    )
    generated_id: bool = False
    errors: dict = field(default_factory=dict)

    def fingerprint(self) -> str:
        """Content hash of what the sender sent: a retry must match it exactly."""
        canonical = json.dumps(
            [
                self.code,
                str(self.sent_timestamp),
                self.properties,
                str(self.precise_total_amount_cents),
                self.compact_quantity,
            ],
            sort_keys=True,
            separators=(",", ":"),
            default=str,
        )
        return hashlib.sha256(canonical.encode()).hexdigest()


def _error(errors: dict, name: str, code: str) -> None:
    errors.setdefault(name, []).append(code)


def parse_timestamp(value, now: datetime) -> datetime | None:
    """Unix seconds (number or numeric string, fractional allowed) or ISO 8601; None = now."""
    if value is None or value == "":
        return now
    if isinstance(value, bool):
        return None
    number = parse_decimal(value) if isinstance(value, int | float | str) else None
    if number is not None:
        whole = int(number)
        micros = int((number - whole) * 1_000_000)  # exact: Decimal arithmetic, no float
        try:
            return EPOCH + timedelta(seconds=whole, microseconds=micros)
        except (OverflowError, ValueError):
            return None
    if isinstance(value, str):
        parsed = parse_datetime(value)
        if parsed is not None:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def _text(value) -> str | None:
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def is_compact(raw: dict) -> bool:
    """The simple senders' form: {"user_id", "event_type", "quantity", "timestamp"}."""
    return "event_type" in raw and "code" not in raw


def parse_event(
    raw, *, now: datetime, max_future: timedelta, idempotency_key: str | None = None
) -> ParsedEvent | dict:
    """A ParsedEvent, or a dict of field -> [codes] when the payload is invalid."""
    if not isinstance(raw, dict):
        return {"event": ["invalid_format"]}
    errors: dict = {}
    compact = is_compact(raw)
    code = _text(raw.get("event_type") if compact else raw.get("code"))
    subscription_id = _text(raw.get("external_subscription_id"))
    customer_id = _text(raw.get("user_id") if compact else raw.get("external_customer_id"))
    transaction_id = _text(raw.get("transaction_id")) or idempotency_key
    generated = False
    if transaction_id is None and compact:
        transaction_id, generated = str(uuid.uuid4()), True
    if transaction_id is None:
        _error(errors, "transaction_id", "value_is_mandatory")
    elif len(transaction_id) > MAX_ID_LENGTH:
        _error(errors, "transaction_id", "value_is_too_long")
    if code is None:
        _error(errors, "event_type" if compact else "code", "value_is_mandatory")
    if subscription_id is None and customer_id is None:
        _error(errors, "user_id" if compact else "external_subscription_id", "value_is_mandatory")
    timestamp = parse_timestamp(raw.get("timestamp"), now)
    if timestamp is None:
        _error(errors, "timestamp", "invalid_format")
    elif timestamp > now + max_future:
        _error(errors, "timestamp", "too_far_in_future")
    properties = raw.get("properties")
    properties = {} if properties is None else properties
    if not isinstance(properties, dict):
        _error(errors, "properties", "invalid_format")
    precise = raw.get("precise_total_amount_cents")
    precise_value = None if precise is None else parse_decimal(precise)
    if precise is not None and precise_value is None:
        _error(errors, "precise_total_amount_cents", "invalid_format")
    quantity = raw.get("quantity") if compact else None
    if compact and quantity is not None and parse_decimal(quantity) is None:
        _error(errors, "quantity", "value_is_not_valid_number")
    if errors:
        return errors
    return ParsedEvent(
        transaction_id=transaction_id,
        code=code,
        timestamp=timestamp,
        properties=dict(properties),
        precise_total_amount_cents=precise_value,
        external_subscription_id=subscription_id or "",
        external_customer_id="" if subscription_id else customer_id,
        sent_timestamp=raw.get("timestamp"),
        compact_quantity=quantity,
        generated_id=generated,
    )
