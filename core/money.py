"""The one place where money is rounded.

Rule (docs/architecture.md, "Rounding"): unit prices and precise amounts keep full Decimal
precision; a billed amount is rounded ROUND_HALF_UP to the currency's minor unit, taken from
ISO 4217 (py-moneyed's table: JPY/KRW 0 decimals, USD/EUR 2, KWD/BHD/TND 3). Nothing else in the
project calls `quantize` on money.
"""

from decimal import ROUND_HALF_UP, Decimal

from moneyed import get_currency
from moneyed.classes import CurrencyDoesNotExist

ROUNDING = ROUND_HALF_UP


class UnknownCurrency(ValueError):
    pass


def currency_exponent(currency: str) -> int:
    """Number of minor-unit digits of an ISO 4217 currency (USD 2, JPY 0, KWD 3)."""
    try:
        sub_unit = get_currency(code=currency.upper()).sub_unit
    except (CurrencyDoesNotExist, AttributeError) as exc:
        raise UnknownCurrency(currency) from exc
    return len(str(sub_unit)) - 1


def is_known_currency(currency: str) -> bool:
    try:
        currency_exponent(currency)
    except UnknownCurrency:
        return False
    return True


def to_minor_units(amount: Decimal, currency: str) -> int:
    """Round a major-unit amount half-up to an integer number of minor units."""
    scaled = Decimal(amount).scaleb(currency_exponent(currency))
    return int(scaled.quantize(Decimal(1), rounding=ROUNDING))


def precise_minor_units(amount: Decimal, currency: str) -> Decimal:
    """A major-unit amount expressed in minor units without rounding (Lago's precise cents)."""
    return Decimal(amount).scaleb(currency_exponent(currency))


def from_minor_units(cents: int | Decimal, currency: str) -> Decimal:
    """Minor units back to a major-unit Decimal, exactly (a power-of-ten shift)."""
    return Decimal(cents).scaleb(-currency_exponent(currency))


def round_minor_units(amount_in_minor_units: Decimal) -> int:
    """An amount already expressed in minor units (e.g. a pro-rata share of cents), rounded
    half-up to a whole minor unit."""
    return int(Decimal(amount_in_minor_units).quantize(Decimal(1), rounding=ROUNDING))


# Lago stores precise amounts in minor units as decimal(30, 5) (credit notes and their items).
PRECISE_PLACES = 5


def round_places(value: Decimal, places: int = PRECISE_PLACES) -> Decimal:
    """A precise amount (or a rate) kept to `places` decimals, half-up: what is stored and shown
    as Lago's `precise_*_cents`. Integer amounts are rounded from the unrounded value, never
    from this one, so the two roundings never stack."""
    return Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUNDING)
