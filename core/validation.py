"""Small field checks shared by services. Each returns a Lago reason code, or None when valid."""

import re
from decimal import Decimal, InvalidOperation
from zoneinfo import available_timezones

from babel import Locale, UnknownLocaleError
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email

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
    """A finite Decimal from a string or number, else None (bools refused)."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None
