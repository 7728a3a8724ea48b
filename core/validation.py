"""Small field checks shared by services. Each returns a Lago reason code, or None when valid."""

import re
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import available_timezones

from babel import Locale, UnknownLocaleError
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.utils import dateparse

from core.limits import MAX_NUMERIC, NotANumber, OutOfRange, strict_decimal
from core.money import is_known_currency

_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._~:\-]*$")
_TIMEZONES = frozenset(available_timezones())
_COUNTRIES = frozenset(code for code in Locale("en").territories if len(code) == 2)


class Errors(dict):
    """field -> [codes]; `add` appends, falsy codes are ignored."""

    def add(self, field: str, code: str | None) -> None:
        if code:
            self.setdefault(field, []).append(code)

    def merge(self, other: dict, prefix: str = "") -> None:
        for field, codes in other.items():
            for code in codes:
                self.add(f"{prefix}{field}", code)


def check_code(value) -> str | None:
    """Codes and external ids travel raw in URL paths: keep them URL-safe."""
    if value in (None, ""):
        return "value_is_mandatory"
    if not isinstance(value, str) or not _CODE_RE.match(value) or len(value) > 255:
        return "invalid_format"
    return None


def check_currency(value) -> str | None:
    if not isinstance(value, str) or not is_known_currency(value):
        return "value_is_invalid"
    return None


def check_timezone(value) -> str | None:
    return None if isinstance(value, str) and value in _TIMEZONES else "value_is_invalid"


def check_country(value) -> str | None:
    return None if isinstance(value, str) and value.upper() in _COUNTRIES else "value_is_invalid"


def check_locale(value) -> str | None:
    try:
        Locale.parse(value)
    except (UnknownLocaleError, ValueError, TypeError):
        return "value_is_invalid"
    return None


def check_emails(value: str) -> str | None:
    """Lago accepts several addresses separated by commas."""
    if not isinstance(value, str):
        return "invalid_format"
    for address in (part.strip() for part in value.split(",")):
        try:
            validate_email(address)
        except DjangoValidationError:
            return "invalid_format"
    return None


def check_choice(value, choices) -> str | None:
    return None if value in choices else "value_is_invalid"


def check_non_negative_int(value) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return "value_is_invalid"
    return None


def parse_decimal(value) -> Decimal | None:
    """A finite Decimal from a JSON number or a plain decimal string, else None.

    Strict like Lago: no surrounding spaces, underscores, NaN, Infinity or hex (Python's
    Decimal() takes them all); text is checked before any arithmetic (core/limits.py), and
    anything a numeric column could not hold (|x| >= 10^26) is refused too."""
    try:
        number = strict_decimal(value)
    except (NotANumber, OutOfRange):
        return None
    return number if abs(number) < MAX_NUMERIC else None


def parse_moment(value) -> datetime | None:
    """Django's parse_datetime, but None for a well-formed impossible moment (month 13, minute
    75), which parse_datetime raises ValueError for: callers report a reason code, not a 500.

    An aware moment comes back in UTC: Python allows offsets up to +-23:59, PostgreSQL only
    up to +-15:59 (`+17:47` would fail the query or the write); the instant is the same. A
    moment the offset moves out of Python's years 1..9999 is None too."""
    if not isinstance(value, str):
        return None
    try:
        moment = dateparse.parse_datetime(value)
        return moment.astimezone(UTC) if moment and moment.tzinfo else moment
    except (ValueError, OverflowError):
        return None


def parse_day(value) -> date | None:
    """parse_date, None for `2026-02-30` (parse_date raises ValueError for it)."""
    if not isinstance(value, str):
        return None
    try:
        return dateparse.parse_date(value)
    except ValueError:
        return None


def is_uuid(value) -> bool:
    """A lago_id in a path, query or body: anything else cannot name a row (and is no query)."""
    try:
        uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        return False
    return True


# Lago's key-value metadata of plans, wallets, credit notes (Metadata::ItemMetadata).
METADATA_MAX_KEYS, METADATA_MAX_KEY_LENGTH, METADATA_MAX_VALUE_LENGTH = 50, 100, 255


def check_item_metadata(value) -> str | None:
    """A JSON object of at most 50 keys (strings up to 100 characters) whose values are null or
    strings up to 255 characters (Lago's rules); `invalid_format` otherwise."""
    if not isinstance(value, dict) or len(value) > METADATA_MAX_KEYS:
        return "invalid_format"
    for key, item in value.items():
        if not isinstance(key, str) or len(key) > METADATA_MAX_KEY_LENGTH:
            return "invalid_format"
        if item is not None and not (
            isinstance(item, str) and len(item) <= METADATA_MAX_VALUE_LENGTH
        ):
            return "invalid_format"
    return None
