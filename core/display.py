"""The one place where money and quantities are written for people (babel, CLDR data).

Admin lists and pages, the dashboard, the pricing simulator, the portal, PDFs, e-mails and
management commands all call these functions, so "$1,234.50" reads the same everywhere. Nothing
is rounded here except for display: a billed amount is already an integer of minor units
(core/money.py) and is shown with exactly the currency's ISO 4217 decimals (JPY 0, USD 2, KWD
3), not CLDR's "cash" digits; a unit price keeps up to six decimals when they matter; units lose
the twelve stored trailing zeros.
"""

from decimal import Decimal, InvalidOperation, localcontext
from functools import lru_cache, wraps

from babel import Locale, UnknownLocaleError
from babel.numbers import format_currency, format_decimal, format_percent, parse_pattern
from django.utils import translation

from core.money import currency_exponent, from_minor_units, is_known_currency

UNIT_PRICE_MAX_DECIMALS = 6
UNITS_MAX_DECIMALS = 6
PRECISION = 80  # digits: any stored figure (numeric(38, x), bigint) formats without error
DASH = "—"


def wide_decimals(function):
    """babel rounds in the current decimal context (28 digits by default), which refuses the
    27-digit figures an old out-of-range event can produce: format with room to spare."""

    @wraps(function)
    def wrapper(*args, **kwargs):
        with localcontext(prec=PRECISION):
            return function(*args, **kwargs)

    return wrapper


def display_locale(locale: str | None = None) -> str:
    """`locale` if babel knows it, else the active Django language, else English."""
    for code in (locale, translation.get_language()):
        parsed = _parse_locale(code)
        if parsed:
            return parsed
    return "en"


@lru_cache(maxsize=64)
def _parse_locale(code: str | None) -> str | None:
    if not code:
        return None
    try:
        return str(Locale.parse(code.replace("-", "_")))
    except (UnknownLocaleError, ValueError, TypeError):
        return None


def _pattern(locale: str, *, currency: bool, min_frac: int, max_frac: int):
    """The locale's own number pattern with our decimals (ISO 4217's, not CLDR's, for money)."""
    cldr = Locale.parse(locale)
    base = cldr.currency_formats["standard"] if currency else cldr.decimal_formats[None]
    pattern = parse_pattern(base.pattern)  # a fresh copy: babel's cached pattern stays intact
    pattern.frac_prec = (min_frac, max_frac)
    return pattern


@wide_decimals
def money_amount(amount: Decimal, currency: str, locale: str | None = None) -> str:
    """A major-unit amount with the currency's own decimals: 1234.5 USD -> "$1,234.50"."""
    if amount is None or amount == "":
        return DASH
    locale = display_locale(locale)
    if not is_known_currency(currency or ""):
        return f"{format_decimal(Decimal(amount), locale=locale)} {currency or ''}".strip()
    exponent = currency_exponent(currency)
    pattern = _pattern(locale, currency=True, min_frac=exponent, max_frac=exponent)
    return format_currency(
        Decimal(amount), currency.upper(), pattern, locale=locale, currency_digits=False
    )


def money(cents: int | None, currency: str, locale: str | None = None) -> str:
    """A billed amount from its minor units: 123450 USD -> "$1,234.50", 1500 JPY -> "¥1,500"."""
    if cents is None or cents == "":
        return DASH
    if not is_known_currency(currency or ""):
        return f"{cents} {currency or ''}".strip()
    return money_amount(from_minor_units(int(cents), currency), currency, locale)


@wide_decimals
def unit_price(amount: Decimal | None, currency: str, locale: str | None = None) -> str:
    """A precise unit price: the currency's decimals, and more (up to 6) when they matter:
    0.0025 USD -> "$0.0025", 250 USD -> "$250.00"."""
    if amount is None or amount == "":
        return DASH
    locale = display_locale(locale)
    exponent = currency_exponent(currency)
    pattern = _pattern(
        locale, currency=True, min_frac=exponent, max_frac=max(exponent, UNIT_PRICE_MAX_DECIMALS)
    )
    return format_currency(
        Decimal(amount), currency.upper(), pattern, locale=locale, currency_digits=False
    )


@wide_decimals
def units(value, locale: str | None = None, max_decimals: int = UNITS_MAX_DECIMALS) -> str:
    """Units without the stored trailing zeros: Decimal("2.000000000000") -> "2",
    1234567.5 -> "1,234,567.5" (en), "1 234 567,5" (fr)."""
    if value is None or value == "":
        return ""
    try:
        number = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return str(value)
    locale = display_locale(locale)
    pattern = _pattern(locale, currency=False, min_frac=0, max_frac=max_decimals)
    return format_decimal(number, pattern, locale=locale)


@wide_decimals
def percent(part, whole, locale: str | None = None) -> str:
    """734000 of 1000000 -> "73%"; nothing when the whole is zero."""
    if not whole:
        return ""
    return format_percent(Decimal(part) / Decimal(whole), locale=display_locale(locale))


def rate(value, locale: str | None = None) -> str:
    """A tax or coupon rate stored as a percentage number: Decimal("20.00") -> "20%"."""
    if value is None or value == "":
        return DASH
    return f"{units(value, locale, max_decimals=4)}%"
