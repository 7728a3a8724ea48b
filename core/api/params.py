"""Query-string filters read the same way on every list: a bad value is a 422 naming it."""

from datetime import UTC, date, datetime

from core.errors import ValidationFailed
from core.validation import parse_day, parse_moment


def query_datetime(params, name: str) -> datetime | None:
    """An ISO 8601 moment (naive = UTC), None when absent; `invalid_date` as Lago's filters."""
    raw = params.get(name)
    if not raw:
        return None
    moment = parse_moment(raw)
    if moment is None:
        raise ValidationFailed({name: ["invalid_date"]})
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def query_date(params, name: str) -> date | None:
    """A calendar day (YYYY-MM-DD), None when absent; `invalid_date` otherwise."""
    raw = params.get(name)
    if not raw:
        return None
    day = parse_day(raw)
    if day is None:
        raise ValidationFailed({name: ["invalid_date"]})
    return day


def query_cents(params, name: str) -> int | None:
    """An amount in minor units (an integer, at most 18 digits), None when absent;
    `invalid_format` otherwise (never a float, never a database overflow)."""
    raw = params.get(name)
    if not raw:
        return None
    digits = raw[1:] if raw[:1] in "+-" else raw
    if not digits.isascii() or not digits.isdigit() or len(digits) > 18:
        raise ValidationFailed({name: ["invalid_format"]})
    return int(raw)
