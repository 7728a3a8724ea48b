"""Parse and validate raw event payloads (pure: no database). Lago's reason codes."""

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.utils.dateparse import parse_datetime

from core.limits import (
    MAX_UNIX_SECONDS,
    MIN_TIMESTAMP,
    OUT_OF_RANGE,
    NotANumber,
    OutOfRange,
    event_value,
    property_value_fits,
    strict_decimal,
)

MAX_ID_LENGTH = 255
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
INVALID = "invalid_format"


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
    sent_fingerprint: str = ""  # kept before a metric's expression adds its result

    def fingerprint(self) -> str:
        """Content hash of what the sender sent: a retry must match it exactly."""
        if self.sent_fingerprint:
            return self.sent_fingerprint
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


def read_timestamp(value, now: datetime) -> tuple[datetime | None, str | None]:
    """(moment, None) or (None, reason). Unix seconds (number or numeric string, fractional
    allowed) or ISO 8601; absent = now. Anything before 1970-01-01T00:00:00Z is out of range
    (a year-1 date with a +14:00 offset would be stored as 1 BC, which nothing reads back)."""
    if value is None or value == "":
        return now, None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None, "invalid_format"
    try:
        return _unix_seconds(strict_decimal(value)), None
    except OutOfRange:
        return None, OUT_OF_RANGE
    except NotANumber:
        pass
    return _iso_timestamp(value) if isinstance(value, str) else (None, "invalid_format")


def _unix_seconds(number: Decimal) -> datetime:
    """Range first (a cheap comparison), then the exact conversion: no float on the way."""
    if number < 0 or number > MAX_UNIX_SECONDS:
        raise OutOfRange(number)
    whole = int(number)
    micros = int((number - whole) * 1_000_000)
    return EPOCH + timedelta(seconds=whole, microseconds=micros)


def _iso_timestamp(value: str) -> tuple[datetime | None, str | None]:
    try:
        parsed = parse_datetime(value)
    except ValueError:  # well-formed but impossible, e.g. month 13
        return None, "invalid_format"
    if parsed is None:
        return None, "invalid_format"
    parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    try:
        if parsed.astimezone(UTC) < MIN_TIMESTAMP:
            return None, OUT_OF_RANGE
    except OverflowError:  # the offset moves it out of Python's years 1..9999
        return None, OUT_OF_RANGE
    return parsed, None


def parse_timestamp(value, now: datetime) -> datetime | None:
    """The moment of `read_timestamp`, None when refused (the importer's partition pass)."""
    return read_timestamp(value, now)[0]


def read_number(value, *, code: str = "value_is_not_valid_number") -> tuple[Decimal | None, str]:
    """An event value (metric field, compact quantity, precise amount): (number, "") or
    (None, reason) with `code` for text that is not a number, OUT_OF_RANGE for the rest."""
    try:
        return event_value(value), ""
    except OutOfRange:
        return None, OUT_OF_RANGE
    except NotANumber:
        return None, code


def property_number_errors(properties: dict) -> dict:
    """Every JSON number inside `properties` must stay readable once stored (|x| < 2^63):
    {"properties.key": ["value_is_out_of_range"]}, nested keys joined by dots. Iterative, so
    deep nesting costs no recursion."""
    errors: dict = {}
    stack = [(f"properties.{key}", item) for key, item in properties.items()]
    while stack:
        path, item = stack.pop()
        if isinstance(item, dict):
            stack.extend((f"{path}.{key}", inner) for key, inner in item.items())
        elif isinstance(item, list):
            stack.extend((f"{path}.{index}", inner) for index, inner in enumerate(item))
        elif not property_value_fits(item):
            errors[path] = [OUT_OF_RANGE]
    return errors


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
    timestamp, reason = read_timestamp(raw.get("timestamp"), now)
    if reason:
        _error(errors, "timestamp", reason)
    elif timestamp > now + max_future:
        _error(errors, "timestamp", "too_far_in_future")
    properties = raw.get("properties")
    properties = {} if properties is None else properties
    if not isinstance(properties, dict):
        _error(errors, "properties", "invalid_format")
    else:
        errors.update(property_number_errors(properties))
    precise = raw.get("precise_total_amount_cents")
    precise_value, reason = (None, "") if precise is None else read_number(precise, code=INVALID)
    if reason:
        _error(errors, "precise_total_amount_cents", reason)
    quantity = raw.get("quantity") if compact else None
    if quantity is not None:
        _, reason = read_number(quantity)
        if reason:
            _error(errors, "quantity", reason)
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
