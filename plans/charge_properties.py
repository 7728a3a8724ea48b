"""Validation and normalisation of a charge's `properties`, per Lago charge model (contract §5.3).

It is pure (no Django) so that the API, the admin and the plan services share one set of rules and
it can be tested without a database. Error codes are Lago's reason codes. The normalised output is
what gets stored and what `plans.pricing` reads: prices as decimal strings, counts as ints, range
bounds as ints when integral, unknown keys dropped.
"""

from decimal import Decimal
from functools import partial

from core.limits import NotANumber, OutOfRange, strict_decimal
from plans.charge_models import KEYS, SPECS, validator, validator_for

CHARGE_MODELS = KEYS  # the registry's keys, in order
MAX_EXPONENT = 30  # numbers beyond 1e30 or finer than 1e-30 are refused (keeps formatting cheap)

Errors = dict[str, list[str]]


def parse_decimal(value: object) -> Decimal | None:
    """A finite Decimal from a JSON string, int or float; None for bools, NaN, Infinity, junk."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        return None
    try:
        number = strict_decimal(value)  # plain decimal text only: no spaces, "_", NaN, hex
    except (NotANumber, OutOfRange):
        return None
    if number.adjusted() > MAX_EXPONENT or int(number.as_tuple().exponent) < -MAX_EXPONENT:
        return None
    return number


def decimal_text(number: Decimal) -> str:
    """Canonical decimal string: the caller's digits, no exponent, no "-0"."""
    return format(number.copy_abs() if number.is_zero() else number, "f")


def _parse_int(value: object) -> int | None:
    number = parse_decimal(value)
    if number is None or number != number.to_integral_value():
        return None
    return int(number)


def _non_negative(value: object) -> Decimal | None:
    number = parse_decimal(value)
    return number if number is not None and number >= 0 else None


def _bound(number: Decimal | None) -> int | str | None:
    """A range bound: an int when integral, else a decimal string."""
    if number is None:
        return None
    return int(number) if number == number.to_integral_value() else decimal_text(number)


def _add(errors: Errors, key: str, code: str) -> None:
    codes = errors.setdefault(key, [])
    if code not in codes:
        codes.append(code)


def _amount(source: dict, out: dict, errors: Errors, key: str, *, required: bool = False) -> None:
    """Copy a decimal >= 0 as a string. Optional ones may be missing (dropped) or null (kept)."""
    value = source.get(key)
    if value is None:
        if required:
            _add(errors, key, f"invalid_{key}")
        elif key in source:
            out[key] = None
        return
    number = _non_negative(value)
    if number is None:
        _add(errors, key, f"invalid_{key}")
    else:
        out[key] = decimal_text(number)


def _integer(
    source: dict,
    out: dict,
    errors: Errors,
    key: str,
    minimum: int,
    *,
    required: bool = False,
    default: int | None = None,
) -> None:
    """Copy an integer >= minimum. Missing or null: an error, `default`, or null kept."""
    value = source.get(key)
    if value is None:
        if required:
            _add(errors, key, f"invalid_{key}")
        elif default is not None:
            out[key] = default
        elif key in source:
            out[key] = None
        return
    number = _parse_int(value)
    if number is None or number < minimum:
        _add(errors, key, f"invalid_{key}")
    else:
        out[key] = number


def _bounds_ok(
    index: int, last: bool, lower: Decimal | None, prev_to: Decimal | None, to_value: Decimal | None
) -> bool:
    """Ranges touch (from = previous to) or step by one (from = previous to + 1); last is open."""
    if lower is None or (to_value is None) != last:
        return False
    if index == 0:
        return lower == 0 and (last or to_value > lower)
    if prev_to is None:
        return False
    step = lower == prev_to + 1
    if not step and lower != prev_to:
        return False
    return last or to_value > lower or (step and to_value == lower)


def _ranges(
    source: dict, out: dict, errors: Errors, key: str, price_key: str, price_code: str
) -> None:
    """Validate tiered ranges (graduated, volume, graduated_percentage)."""
    ranges = source.get(key)
    if not isinstance(ranges, list) or not ranges:
        _add(errors, key, f"missing_{key}")
        return
    rows, prev_to = [], None
    for index, item in enumerate(ranges):
        if not isinstance(item, dict):
            _add(errors, key, f"invalid_{key}")
            prev_to = None
            continue
        lower = _non_negative(item.get("from_value"))
        raw_to = item.get("to_value")
        to_value = None if raw_to is None else parse_decimal(raw_to)
        if (raw_to is not None and to_value is None) or not _bounds_ok(
            index, index == len(ranges) - 1, lower, prev_to, to_value
        ):
            _add(errors, key, f"invalid_{key}")
        unit_price = _non_negative(item.get(price_key))
        if unit_price is None:
            _add(errors, key, price_code)
        raw_flat = item.get("flat_amount")
        flat = _non_negative("0" if raw_flat is None else raw_flat)
        if flat is None:
            _add(errors, key, "invalid_flat_amount")
        if lower is not None and unit_price is not None and flat is not None:
            rows.append(
                {
                    "from_value": _bound(lower),
                    "to_value": _bound(to_value),
                    price_key: decimal_text(unit_price),
                    "flat_amount": decimal_text(flat),
                }
            )
        prev_to = to_value
    out[key] = rows


@validator("standard")
def _standard(source: dict, out: dict, errors: Errors) -> None:
    _amount(source, out, errors, "amount", required=True)


@validator("package")
def _package(source: dict, out: dict, errors: Errors) -> None:
    _amount(source, out, errors, "amount", required=True)
    _integer(source, out, errors, "package_size", minimum=1, required=True)
    _integer(source, out, errors, "free_units", minimum=0, default=0)


@validator("percentage")
def _percentage(source: dict, out: dict, errors: Errors) -> None:
    _amount(source, out, errors, "rate", required=True)
    _amount(source, out, errors, "fixed_amount")
    _integer(source, out, errors, "free_units_per_events", minimum=0)
    _amount(source, out, errors, "free_units_per_total_aggregation")
    _amount(source, out, errors, "per_transaction_min_amount")
    _amount(source, out, errors, "per_transaction_max_amount")
    low = out.get("per_transaction_min_amount")
    high = out.get("per_transaction_max_amount")
    if low is not None and high is not None and Decimal(low) > Decimal(high):
        _add(errors, "per_transaction_max_amount", "invalid_per_transaction_max_amount")


@validator("dynamic")
def _dynamic(source: dict, out: dict, errors: Errors) -> None:
    """No price: the events carry their own amounts."""


def _group_keys(source: dict, out: dict, errors: Errors) -> None:
    """`pricing_group_keys` (or the legacy `grouped_by`): a list of non-empty strings."""
    keys = source.get("pricing_group_keys")
    if keys is None:
        keys = source.get("grouped_by")
    if keys is None:
        return
    if not isinstance(keys, list) or not all(isinstance(k, str) and k.strip() for k in keys):
        _add(errors, "pricing_group_keys", "invalid_type")
    else:
        out["pricing_group_keys"] = list(keys)


def _register_ranged() -> None:
    """Tiered models (a spec with `ranges`) share the range rules; no validator of their own."""
    for spec in SPECS:
        if spec.ranges is not None:
            ranges = spec.ranges
            check = partial(
                _ranges, key=ranges.key, price_key=ranges.price_key, price_code=ranges.price_code
            )
            validator(spec.key)(check)


_register_ranged()


def _open_range(**prices) -> list[dict]:
    return [{"from_value": 0, "to_value": None, **prices}]


# Lago's ChargeModels::BuildDefaultPropertiesService: what a charge gets when its `properties`
# are absent or empty (the spec's own example sends a standard charge with `properties: {}`).
DEFAULT_PROPERTIES = {
    "standard": lambda: {"amount": "0"},
    "graduated": lambda: {"graduated_ranges": _open_range(per_unit_amount="0", flat_amount="0")},
    "package": lambda: {"package_size": 1, "amount": "0", "free_units": 0},
    "percentage": lambda: {"rate": "0"},
    "volume": lambda: {"volume_ranges": _open_range(per_unit_amount="0", flat_amount="0")},
    "graduated_percentage": lambda: {
        "graduated_percentage_ranges": _open_range(rate="0", fixed_amount="0", flat_amount="0")
    },
    "dynamic": dict,
}


def properties_or_default(charge_model: str, properties: object) -> object:
    """A charge's properties, Lago's defaults for its model when absent or empty (`{}`)."""
    if properties in (None, {}) and charge_model in DEFAULT_PROPERTIES:
        return DEFAULT_PROPERTIES[charge_model]()
    return properties


def validate_properties(charge_model: str, properties: dict | None) -> tuple[dict, Errors]:
    """Return (normalised_properties, errors).

    errors maps a property name to a list of Lago reason codes; an empty dict means valid.
    """
    check = validator_for(charge_model)
    if check is None:
        return {}, {"charge_model": ["value_is_invalid"]}
    source = {} if properties is None else properties
    if not isinstance(source, dict):
        return {}, {"properties": ["value_is_invalid"]}
    out: dict = {}
    errors: Errors = {}
    check(source, out, errors)
    _group_keys(source, out, errors)
    return out, errors
