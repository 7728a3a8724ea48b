"""The representable range, decided once: what a number or a timestamp sent to us may be.

Derived from the storage (see docs/architecture.md, "Representable range"):
- event values, rollups and fee units are numeric(38, 12): 26 integer digits, 12 decimals;
- amounts are bigint minor units (< 2^63);
- PostgreSQL turns a JSON number of `properties` (jsonb) into an exact integer when read back,
  and the API's renderer cannot write an integer of 64 bits or more.

An event's value (and its precise amount) is kept below 10^15 so that a period of up to 10^11
events still sums inside the columns; the period close refuses, per subscription, any sum that
does not fit anyway (invoices/services/close.py). Syntax is checked on the text first, so a
number like "1e1000000" is refused before any arithmetic could be slow.
"""

import math
import re
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

OUT_OF_RANGE = "value_is_out_of_range"

VALUE_SCALE = 12  # decimal places of the value columns
MAX_VALUE = Decimal(10) ** 15  # exclusive bound of |event value| and |precise amount|
MIN_NONZERO_VALUE = Decimal(10) ** -VALUE_SCALE  # smaller non-zero values would round to 0
MAX_PROPERTY_NUMBER = 2**63  # exclusive bound of any other number in `properties`
MAX_NUMERIC = Decimal(10) ** 26  # exclusive bound of any decimal a service accepts
MAX_AMOUNT_CENTS = 2**63 - 1  # bigint minor units
MAX_NUMBER_CHARS = 64  # a numeric string longer than this is out of range (or not a number)
MAX_EXPONENT_DIGITS = 4  # "1e12345" and beyond are out of range, whatever the mantissa
MIN_TIMESTAMP = datetime(1970, 1, 1, tzinfo=UTC)
MAX_UNIX_SECONDS = Decimal(253402300799)  # 9999-12-31T23:59:59Z, the last datetime Python has

# Plain decimal text: optional sign, ASCII digits, optional fraction, optional exponent.
# No spaces, underscores, "NaN", "Infinity", hex or non-ASCII digits (Decimal() takes them all).
_NUMBER_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?([0-9]+))?")

_QUANTUM = Decimal(1).scaleb(-VALUE_SCALE)


class NotANumber(ValueError):
    """The input is not a number at all (wrong type or syntax)."""


class OutOfRange(ValueError):
    """The input is a number, but not one we can store, sum or render."""


def strict_decimal(value) -> Decimal:
    """A finite Decimal from a JSON number or a plain decimal string, exactly as sent.

    Floats go through repr (the shortest text that round-trips), never through binary
    arithmetic. Raises NotANumber or OutOfRange; never does work proportional to an exponent."""
    if isinstance(value, bool) or value is None:
        raise NotANumber(value)
    if isinstance(value, int):
        if abs(value) >= 10**MAX_NUMBER_CHARS:
            raise OutOfRange(value)
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise OutOfRange(value)
        return Decimal(repr(value))
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise NotANumber(value)
        return value
    if not isinstance(value, str):
        raise NotANumber(value)
    return _decimal_from_text(value)


def _decimal_from_text(text: str) -> Decimal:
    match = _NUMBER_RE.fullmatch(text[: MAX_NUMBER_CHARS + 1])
    if match is None:
        raise NotANumber(text)
    exponent = match.group(1)
    if len(text) > MAX_NUMBER_CHARS or (exponent and len(exponent) > MAX_EXPONENT_DIGITS):
        raise OutOfRange(text)
    try:
        return Decimal(text)
    except InvalidOperation as exc:  # not reached with the pattern above; kept for safety
        raise NotANumber(text) from exc


def event_value(value) -> Decimal:
    """An event's metric value or precise amount: |x| < 10^15, rounded to 12 decimals (the
    column's scale); a non-zero value that would round to 0 is refused, not silently zeroed."""
    number = strict_decimal(value)
    if abs(number) >= MAX_VALUE or (number and abs(number) < MIN_NONZERO_VALUE):
        raise OutOfRange(value)
    return number.quantize(_QUANTUM, rounding=ROUND_HALF_EVEN)


def property_value_fits(value) -> bool:
    """False for a JSON number inside `properties` that would not read back (|x| >= 2^63)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return True
    if isinstance(value, int):
        return abs(value) < MAX_PROPERTY_NUMBER
    return math.isfinite(value) and abs(value) < MAX_PROPERTY_NUMBER


def amount_fits(cents) -> bool:
    """True if an amount in minor units fits a bigint column."""
    return abs(cents) <= MAX_AMOUNT_CENTS


def number_fits(value, scale: int = VALUE_SCALE) -> bool:
    """True if a Decimal fits a numeric(38, scale) column."""
    return abs(value) < Decimal(10) ** (38 - scale)
