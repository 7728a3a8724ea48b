"""A usage fee's `amount_details` in Lago's shape (the spec's `FeeAmountDetails`).

Lago records per charge model how a fee's amount was reached, and its invoice PDF prints it:
- graduated: `graduated_ranges` [{from_value, to_value, flat_unit_amount, per_unit_amount,
  units, per_unit_total_amount, total_with_flat_amount}], one per tier the units reached;
- graduated_percentage: `graduated_percentage_ranges`, the same with `rate` for the unit price;
- volume: `flat_unit_amount`, `per_unit_amount`, `per_unit_total_amount`;
- package: `free_units`, `paid_units`, `per_package_size`, `per_package_unit_amount`;
- percentage: `units`, `free_units`, `free_events`, `paid_units`, `rate`,
  `per_unit_total_amount`, `paid_events`, `fixed_fee_unit_amount`, `fixed_fee_total_amount`,
  `min_max_adjustment_total_amount`.
Amounts are decimal strings at full precision in the fee's currency (converted like the fee
when the plan is priced in another currency); tier bounds are numbers as in the properties.
Prorated charges add ours: `prorated_units`, `period_days` and the `prorated` lines.

Pure: no ORM, so the writer (the fee computation) and the readers (documents, admin) agree.
"""

from collections.abc import Callable
from decimal import Decimal

from plans.pricing import PricingResult

ZERO = Decimal(0)
Convert = Callable[[Decimal], Decimal]


def text(value) -> str:
    """A decimal as plain digits without trailing zeros, so a fee's recorded arithmetic reads the
    same whatever scale the database returned its sums with (PostgreSQL numeric keeps 12 places)."""
    if isinstance(value, Decimal) and value.is_finite():
        value = value.normalize()
        return format(value.copy_abs() if value.is_zero() else value, "f")
    return str(value)


def _bound(value: Decimal | None) -> int | str | None:
    """A tier bound as Lago gives it: an integer (a decimal bound stays exact, as text)."""
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else text(value)


def _number(value, default: Decimal = ZERO) -> Decimal:
    return default if value is None or value == "" else Decimal(str(value))


def _ranges(result: PricingResult, convert: Convert, percent: bool) -> list[dict]:
    ranges = []
    for tier in result.tiers:
        variable = tier.amount - tier.flat_amount
        price = {"rate": text(tier.per_unit_amount)} if percent else {}
        if not percent:
            price["per_unit_amount"] = text(convert(tier.per_unit_amount))
        ranges.append(
            {
                "from_value": _bound(tier.from_value),
                "to_value": _bound(tier.to_value),
                "flat_unit_amount": text(convert(tier.flat_amount)),
                **price,
                "units": text(tier.units),
                "per_unit_total_amount": text(convert(variable)),
                "total_with_flat_amount": text(convert(tier.amount)),
            }
        )
    return ranges


def _volume(result: PricingResult, convert: Convert) -> dict:
    if not result.tiers:
        return {}
    (tier,) = result.tiers
    return {
        "flat_unit_amount": text(convert(tier.flat_amount)),
        "per_unit_amount": text(convert(tier.per_unit_amount) if tier.units else ZERO),
        "per_unit_total_amount": text(convert(tier.amount - tier.flat_amount)),
    }


def _package(properties: dict, result: PricingResult, convert: Convert) -> dict:
    details = result.details
    return {
        "free_units": text(_number(details.get("free_units"))),
        "paid_units": text(_number(details.get("paid_units"))),
        "per_package_size": _bound(_number(properties.get("package_size"), Decimal(1))),
        "per_package_unit_amount": text(convert(_number(properties.get("amount")))),
    }


def _percentage(properties: dict, result: PricingResult, convert: Convert) -> dict:
    details = result.details
    if "paid_units" not in details:  # min/max summed by the database: only the total is known
        return {"units": text(result.units), "rate": text(_number(properties.get("rate")))}
    paid_events = int(details.get("paid_events", 0))
    fixed_unit = _number(properties.get("fixed_amount")) if paid_events > 0 else ZERO
    return {
        "units": text(result.units),
        "free_units": text(_number(details.get("free_units"))),
        "free_events": int(details.get("free_events", 0)),
        "paid_units": text(_number(details.get("paid_units"))),
        "rate": text(_number(properties.get("rate"))),
        "per_unit_total_amount": text(convert(_number(details.get("percentage_amount")))),
        "paid_events": paid_events,
        "fixed_fee_unit_amount": text(convert(fixed_unit)),
        "fixed_fee_total_amount": text(convert(_number(details.get("fixed_fees")))),
        "min_max_adjustment_total_amount": text(
            convert(_number(details.get("min_max_adjustment_total_amount")))
        ),
    }


def _prorated(result: PricingResult, convert: Convert) -> dict:
    if not result.prorated:
        return {}
    details = {k: text(v) for k, v in result.details.items()}
    details["prorated"] = [  # units x days / period days x price, e.g. 1 x 22/30 x 10.00
        {
            "units": text(p.units),
            "days": p.days,
            "period_days": p.period_days,
            "per_unit_amount": text(convert(p.per_unit_amount)),
            "amount": text(convert(p.amount)),
            **({"tier": p.tier} if p.tier is not None else {}),
        }
        for p in result.prorated
    ]
    return details


def charge_amount_details(
    charge_model: str,
    properties: dict,
    result: PricingResult,
    convert: Convert = lambda amount: amount,
) -> dict:
    """The `amount_details` of a usage fee priced by `charge_model` with `properties`."""
    properties = properties or {}
    details = _prorated(result, convert)
    if charge_model == "graduated":
        details["graduated_ranges"] = _ranges(result, convert, percent=False)
    elif charge_model == "graduated_percentage":
        details["graduated_percentage_ranges"] = _ranges(result, convert, percent=True)
    elif charge_model == "volume":
        details.update(_volume(result, convert))
    elif charge_model == "package":
        details.update(_package(properties, result, convert))
    elif charge_model == "percentage":
        details.update(_percentage(properties, result, convert))
    return details


def graduated_ranges(details: dict) -> tuple[str, list[dict]]:
    """("graduated" or "graduated_percentage", the ranges) of stored details; fees written
    before the Lago shape kept them as `tiers` ({…, flat_amount, amount})."""
    details = details or {}
    if details.get("graduated_ranges"):
        return "graduated", details["graduated_ranges"]
    if details.get("graduated_percentage_ranges"):
        return "graduated_percentage", details["graduated_percentage_ranges"]
    legacy = [
        {
            "from_value": tier["from_value"],
            "to_value": tier["to_value"],
            "flat_unit_amount": tier["flat_amount"],
            "per_unit_amount": tier["per_unit_amount"],
            "units": tier["units"],
            "per_unit_total_amount": text(Decimal(tier["amount"]) - Decimal(tier["flat_amount"])),
            "total_with_flat_amount": tier["amount"],
        }
        for tier in details.get("tiers") or []
    ]
    return ("graduated", legacy) if len(legacy) > 1 else ("", [])
