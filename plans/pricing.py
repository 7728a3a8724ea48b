"""The pricing engine: turns a period's aggregated usage into an amount, per Lago charge model.

It is pure on purpose: no Django, no database, no clock. Inputs are plain dicts (the charge's JSON
`properties`) and Decimals, so every model can be checked against hand-computed tables and
Hypothesis properties, and the same code prices invoices, current usage and estimates.

Money is not rounded here. Amounts are in major units with full Decimal precision; `core.money`
rounds them to the currency's minor unit when a fee is written. Never float.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

from plans.charge_models import pricer, pricer_for

ZERO = Decimal(0)
HUNDRED = Decimal(100)
UNIT_ROUNDINGS = {"round": ROUND_HALF_UP, "ceil": ROUND_CEILING, "floor": ROUND_FLOOR}


@dataclass(frozen=True)
class TierLine:
    from_value: Decimal  # lower bound as given in the range
    to_value: Decimal | None  # None = open last tier
    units: Decimal  # units priced in this tier (for volume: all units, in the one tier)
    per_unit_amount: Decimal  # per-unit price (for graduated_percentage: the rate in percent)
    flat_amount: Decimal
    amount: Decimal  # units * per_unit (or rate) + flat for this tier


@dataclass(frozen=True)
class ProratedLine:
    """`units` present `days` of the period's `period_days`, at `per_unit_amount` per full period:
    units x days / period_days x per_unit_amount = amount. Negative units: removed with `days`
    left (a sum metric's decrement)."""

    units: Decimal
    days: int
    period_days: int
    per_unit_amount: Decimal
    amount: Decimal
    tier: int | None = None  # graduated: index of the tier these units fall in


@dataclass(frozen=True)
class PricingResult:
    amount: Decimal  # major units (e.g. dollars), full precision, never negative
    units: Decimal  # units that were priced (after clamping at 0)
    unit_amount: Decimal  # amount / units, or 0 when units == 0
    tiers: tuple[TierLine, ...] = ()
    details: dict = field(default_factory=dict)  # model-specific breakdown (Decimals / ints)
    prorated: tuple[ProratedLine, ...] = ()  # prorated charges: the per-unit, per-day arithmetic


@dataclass(frozen=True)
class Proration:
    """A prorated charge's usage over a charges period of `period_days` local days.

    `unit_days` holds (days, units) rows in time order: `units` present for `days` days of the
    period. For a sum metric a row is the net change of one local day with the days left until
    the window's end (units carried over from earlier periods: all the window's days), so time
    order is days descending; for a unique count a row counts the values present `days` days
    (add to removal, both days included).

    `positions` (unique counts priced by graduated tiers, Lago's rule) holds
    (position, days, count): `count` values that were the position-th unit when added, present
    `days` days. None: positions follow from `unit_days` (sums: units stack in time order).
    `peak` is the most units present at once (graduated flat amounts are those of the tiers it
    reached). `rounding` is the metric's (function, precision), applied to the prorated units.
    """

    period_days: int
    unit_days: tuple[tuple[int, Decimal], ...] = ()
    positions: tuple[tuple[Decimal, int, int], ...] | None = None
    peak: Decimal = ZERO
    rounding: tuple[str | None, int] = (None, 0)

    @property
    def total_unit_days(self) -> Decimal:
        return sum((Decimal(units) * days for days, units in self.unit_days), ZERO)

    @property
    def units(self) -> Decimal:
        """Prorated units: unit-days over the period's days (exact when it terminates)."""
        if self.period_days <= 0:
            return ZERO
        return self.total_unit_days / self.period_days


@dataclass(frozen=True)
class UsageInput:
    units: Decimal  # aggregated units of the period (after metric rounding)
    events_count: int = 0  # number of events (percentage fixed fees, free events)
    first_events_total: Decimal | None = None  # sum of the first `free_units_per_events` values
    precise_total: Decimal | None = None  # dynamic model: sum of precise amounts, MAJOR units
    per_event_values: tuple[Decimal, ...] | None = None  # percentage min/max: values in time order
    # percentage min/max at scale: the sum of clamped per-transaction fees, computed by the
    # database with the same rule as _paid_values/percentage_per_transaction (usage/aggregation.py)
    clamped_fees_total: Decimal | None = None
    # prorated charges (standard, graduated, volume): units by days present; `units` above are
    # then the full units at the period's end (Lago's full_units_number)
    proration: Proration | None = None


def _number(value: object, default: Decimal = ZERO) -> Decimal:
    """A JSON number or decimal string as a Decimal; missing (None or "") gives `default`."""
    return default if value is None or value == "" else Decimal(str(value))


def _optional(value: object) -> Decimal | None:
    return None if value is None or value == "" else Decimal(str(value))


def _positive(value: Decimal | int) -> Decimal:
    """The value as a Decimal, or 0 when it is not positive (also turns -0 into 0)."""
    return Decimal(value) if value > 0 else ZERO


def _result(
    amount: Decimal, units: Decimal, tiers: Iterable[TierLine] = (), **details: Decimal | int
) -> PricingResult:
    unit_amount = amount / units if units > 0 else ZERO
    return PricingResult(amount, units, unit_amount, tuple(tiers), details)


def round_units(units: Decimal, function: str | None, precision: int = 0) -> Decimal:
    """Apply a billable metric's rounding to aggregated units.

    `function` is None (unchanged), "round" (half up), "ceil" or "floor"; `precision` is the number
    of decimals and may be negative (-1 rounds to tens).
    """
    if function is None:
        return units
    if function not in UNIT_ROUNDINGS:
        raise ValueError(f"unknown rounding function: {function!r}")
    precision = precision or 0
    step = Decimal(1).scaleb(-precision)
    rounded = Decimal(units).quantize(step, rounding=UNIT_ROUNDINGS[function])
    # A negative precision leaves an exponent (1.2E+2); show it as a plain integer (120).
    return rounded.quantize(Decimal(1)) if precision < 0 else rounded


@pricer("standard")
def standard(properties: dict, usage: UsageInput) -> PricingResult:
    """Every unit at `amount`."""
    units = _positive(usage.units)
    return _result(units * _number(properties.get("amount")), units)


def _tier_lines(ranges: list, units: Decimal, price_key: str, percent: bool) -> Iterator[TierLine]:
    """Tiers up to the one holding `units`; tier i covers (previous to_value, to_value]."""
    lower = ZERO
    for tier in ranges:
        to_value = _optional(tier.get("to_value"))
        top = units if to_value is None else min(units, to_value)
        tier_units = _positive(top - lower)
        unit_price = _number(tier.get(price_key))
        flat = _number(tier.get("flat_amount")) if units > lower and units > 0 else ZERO
        variable = tier_units * unit_price / HUNDRED if percent else tier_units * unit_price
        from_value = _number(tier.get("from_value"))
        yield TierLine(from_value, to_value, tier_units, unit_price, flat, variable + flat)
        if to_value is None or to_value >= units:
            return
        lower = to_value


def _graduated(
    ranges: list | None, usage: UsageInput, price_key: str, percent: bool
) -> PricingResult:
    units = _positive(usage.units)
    tiers = tuple(_tier_lines(ranges or [], units, price_key, percent))
    return _result(sum((tier.amount for tier in tiers), ZERO), units, tiers)


@pricer("graduated")
def graduated(properties: dict, usage: UsageInput) -> PricingResult:
    """Units in each tier at that tier's price, plus the flat amount of every reached tier."""
    return _graduated(properties.get("graduated_ranges"), usage, "per_unit_amount", percent=False)


@pricer("graduated_percentage")
def graduated_percentage(properties: dict, usage: UsageInput) -> PricingResult:
    """Units in each tier times that tier's rate (percent), plus each reached tier's flat amount."""
    ranges = properties.get("graduated_percentage_ranges")
    return _graduated(ranges, usage, "rate", percent=True)


def _holds(tier: dict, units: Decimal) -> bool:
    """Whether units are at most the tier's to_value (ranges are in order)."""
    to_value = _optional(tier.get("to_value"))
    return to_value is None or units <= to_value


@pricer("volume")
def volume(properties: dict, usage: UsageInput) -> PricingResult:
    """All units at the price of the one tier holding the total, plus that tier's flat amount."""
    units = _positive(usage.units)
    ranges = properties.get("volume_ranges") or []
    if not ranges:
        return _result(ZERO, units)
    tier = next((t for t in ranges if _holds(t, units)), ranges[-1])
    unit_price = _number(tier.get("per_unit_amount"))
    flat = _number(tier.get("flat_amount")) if units > 0 else ZERO
    amount = units * unit_price + flat
    from_value, to_value = _number(tier.get("from_value")), _optional(tier.get("to_value"))
    line = TierLine(from_value, to_value, units, unit_price, flat, amount)
    return _result(amount, units, [line])


@pricer("package")
def package(properties: dict, usage: UsageInput) -> PricingResult:
    """`amount` per started package of `package_size` units, after `free_units`."""
    units = _positive(usage.units)
    size = _number(properties.get("package_size"), Decimal(1))
    if size <= 0:
        raise ValueError("package_size must be at least 1")
    free_units = _number(properties.get("free_units"))
    paid_units = _positive(units - free_units)
    whole, rest = divmod(paid_units, size)
    packages = int(whole) + (1 if rest else 0)
    amount = packages * _number(properties.get("amount"))
    return _result(amount, units, free_units=free_units, paid_units=paid_units, packages=packages)


def percentage_per_transaction(value: Decimal, properties: dict) -> Decimal:
    """Fee of one transaction: value * rate / 100 + fixed_amount, clamped to the min/max when set.

    A negative value counts as 0.
    """
    rate = _number(properties.get("rate"))
    fee = _positive(value) * rate / HUNDRED + _number(properties.get("fixed_amount"))
    low = _optional(properties.get("per_transaction_min_amount"))
    high = _optional(properties.get("per_transaction_max_amount"))
    if low is not None and fee < low:
        return low
    if high is not None and fee > high:
        return high
    return fee


def _free_amount(free_events: int, free_total: Decimal, usage: UsageInput) -> Decimal:
    """Free units: the first N events' total, the free total, or the first of the two reached."""
    first_events_total = usage.first_events_total or ZERO
    if free_events and free_total:
        return min(first_events_total, free_total)
    if free_events:
        return first_events_total
    return free_total


def _paid_values(
    values: Iterable[Decimal], free_events: int, free_total: Decimal
) -> Iterator[Decimal]:
    """Each event's value left to pay once the free events / free total are used up, in order.

    Free units run out at the first limit reached, as in `_free_amount`. 0 means "not set".
    """
    events_left = free_events or None
    amount_left = free_total or None
    free = events_left is not None or amount_left is not None
    for raw in values:
        value = _positive(raw)
        if free:
            used = value if amount_left is None else min(value, amount_left)
            value -= used
            amount_left = None if amount_left is None else amount_left - used
            events_left = None if events_left is None else events_left - 1
            free = (events_left is None or events_left > 0) and (
                amount_left is None or amount_left > 0
            )
        yield value


def _percentage_min_max(properties: dict, usage: UsageInput, units: Decimal) -> PricingResult:
    """Percentage priced event by event, each fee clamped to the per-transaction min/max."""
    if usage.per_event_values is None and usage.clamped_fees_total is not None:
        return _result(_positive(usage.clamped_fees_total) if units > 0 else ZERO, units)
    if usage.per_event_values is None:
        raise ValueError("per-transaction min/max needs per_event_values or clamped_fees_total")
    free_events = int(_number(properties.get("free_units_per_events")))
    free_total = _number(properties.get("free_units_per_total_aggregation"))
    values = usage.per_event_values
    paid = [v for v in _paid_values(values, free_events, free_total) if v > 0]
    rate = _number(properties.get("rate"))
    fixed_amount = _number(properties.get("fixed_amount"))
    amount = sum((percentage_per_transaction(v, properties) for v in paid), ZERO)
    unclamped = sum((v * rate / HUNDRED + fixed_amount for v in paid), ZERO)
    paid_units = sum(paid, ZERO)
    return _result(
        amount,
        units,
        free_units=sum((_positive(v) for v in values), ZERO) - paid_units,
        paid_units=paid_units,
        free_events=len(values) - len(paid),
        paid_events=len(paid),
        percentage_amount=paid_units * rate / HUNDRED,
        fixed_fees=len(paid) * fixed_amount,
        min_max_adjustment_total_amount=amount - unclamped,
    )


@pricer("percentage")
def percentage(properties: dict, usage: UsageInput) -> PricingResult:
    """`rate` percent of the paid units, plus `fixed_amount` per paid event.

    Like Lago, no fixed fee is charged when there are no units.
    """
    units = _positive(usage.units)
    if (
        _optional(properties.get("per_transaction_min_amount")) is not None
        or _optional(properties.get("per_transaction_max_amount")) is not None
    ):
        return _percentage_min_max(properties, usage, units)
    free_events = int(_number(properties.get("free_units_per_events")))
    free_total = _number(properties.get("free_units_per_total_aggregation"))
    free_units = min(_free_amount(free_events, free_total, usage), units)
    paid_units = units - free_units
    paid_events = max(0, usage.events_count - free_events) if units > 0 else 0
    percentage_amount = paid_units * _number(properties.get("rate")) / HUNDRED
    fixed_fees = paid_events * _number(properties.get("fixed_amount"))
    return _result(
        percentage_amount + fixed_fees,
        units,
        free_units=free_units,
        paid_units=paid_units,
        free_events=min(usage.events_count, free_events),
        paid_events=paid_events,
        percentage_amount=percentage_amount,
        fixed_fees=fixed_fees,
    )


@pricer("dynamic")
def dynamic(properties: dict, usage: UsageInput) -> PricingResult:
    """The sum of the events' precise amounts, sent by the customer (major units)."""
    units = _positive(usage.units)
    return _result(_positive(usage.precise_total or ZERO), units)


# --- prorated charges (Lago: charge.prorated on a recurring metric) ---------------------------
#
# Each unit is billed for the days it was present over the period's days. Amounts are
# sum(units x days x price) / period_days with the division last, so an amount that is exact
# (a half cent included) stays exact until core.money rounds the fee once.


def _prorated_units(proration: Proration) -> Decimal:
    """The prorated units, rounded like the metric when it has a rounding (Lago rounds the
    prorated aggregation)."""
    function, precision = proration.rounding
    return round_units(proration.units, function, precision)


def _prorated_amount(proration: Proration, unit_price: Decimal) -> Decimal:
    if proration.period_days <= 0:
        return ZERO
    if proration.rounding[0] is not None:
        return _prorated_units(proration) * unit_price
    return proration.total_unit_days * unit_price / proration.period_days


def _lines(proration: Proration, unit_price: Decimal, tier: int | None = None):
    days_total = proration.period_days
    return tuple(
        ProratedLine(
            units=Decimal(units),
            days=days,
            period_days=days_total,
            per_unit_amount=unit_price,
            amount=Decimal(units) * days * unit_price / days_total if days_total else ZERO,
            tier=tier,
        )
        for days, units in sorted(proration.unit_days, key=lambda row: -row[0])
        if units and days
    )


def _prorated_result(
    amount: Decimal,
    usage: UsageInput,
    lines: tuple[ProratedLine, ...],
    tiers: Iterable[TierLine] = (),
) -> PricingResult:
    """Lago's prorated fee: the prorated amount, the full units (fee.units) and the amount per
    full unit (precise_unit_amount)."""
    proration = usage.proration
    full_units = _positive(usage.units)
    amount = _positive(amount)
    return PricingResult(
        amount=amount,
        units=full_units,
        unit_amount=amount / full_units if full_units > 0 else ZERO,
        tiers=tuple(tiers),
        details={
            "prorated_units": _positive(_prorated_units(proration)),
            "period_days": proration.period_days,
        },
        prorated=lines,
    )


@pricer("standard", prorated=True)
def prorated_standard(properties: dict, usage: UsageInput) -> PricingResult:
    """Every unit at `amount` x its days present / the period's days."""
    unit_price = _number(properties.get("amount"))
    proration = usage.proration
    return _prorated_result(
        _prorated_amount(proration, unit_price), usage, _lines(proration, unit_price)
    )


@pricer("volume", prorated=True)
def prorated_volume(properties: dict, usage: UsageInput) -> PricingResult:
    """Lago: the tier is the one holding the full units (at the period's end); the prorated
    units are priced at its per-unit price, plus its flat amount (not prorated)."""
    proration = usage.proration
    full_units = _positive(usage.units)
    ranges = properties.get("volume_ranges") or []
    if not ranges:
        return _prorated_result(ZERO, usage, ())
    tier = next((t for t in ranges if _holds(t, full_units)), ranges[-1])
    unit_price = _number(tier.get("per_unit_amount"))
    variable = _prorated_amount(proration, unit_price)
    used = full_units > 0 or proration.total_unit_days > 0
    flat = _number(tier.get("flat_amount")) if used else ZERO
    from_value, to_value = _number(tier.get("from_value")), _optional(tier.get("to_value"))
    line = TierLine(
        from_value,
        to_value,
        _positive(_prorated_units(proration)),
        unit_price,
        flat,
        variable + flat,
    )
    return _prorated_result(variable + flat, usage, _lines(proration, unit_price, 0), [line])


def _stacked(proration: Proration) -> list[tuple[Decimal, Decimal, int, Decimal]]:
    """(lower, upper, days, weight): the units at stack positions (lower, upper] were present
    `days` days, counted `weight` times (negative: a sum metric's decrement, which leaves from
    the top of the stack). Units stack in the order they came."""
    if proration.positions is not None:
        return [
            (Decimal(position) - 1, Decimal(position), days, Decimal(count))
            for position, days, count in proration.positions
        ]
    stacked, level = [], ZERO
    for days, units in proration.unit_days:
        units = Decimal(units)
        following = level + units
        low, high = min(level, following), max(level, following)
        stacked.append((low, high, days, Decimal(1) if units > 0 else Decimal(-1)))
        level = following
    return stacked


@pricer("graduated", prorated=True)
def prorated_graduated(properties: dict, usage: UsageInput) -> PricingResult:
    """Lago's prorated_graduated: units stack in the order they came, the full-units position of
    a unit picks its tier, and the unit is billed at that tier's price x its days / the period's
    days. Flat amounts (not prorated) are those of the tiers the most units present reached."""
    proration = usage.proration
    ranges = properties.get("graduated_ranges") or []
    period_days = proration.period_days
    bounds, lower = [], ZERO
    for tier in ranges:
        upper = _optional(tier.get("to_value"))
        bounds.append((lower, upper))
        if upper is None:
            break
        lower = upper
    unit_days = [ZERO] * len(bounds)
    by_tier_days: dict[tuple[int, int], Decimal] = {}
    for low, high, days, weight in _stacked(proration):
        for index, (tier_low, tier_high) in enumerate(bounds):
            top = high if tier_high is None else min(high, tier_high)
            overlap = top - max(low, tier_low)
            if overlap <= 0:
                continue
            unit_days[index] += overlap * weight * days
            key = (index, days)
            by_tier_days[key] = by_tier_days.get(key, ZERO) + overlap * weight
    peak = max(_positive(proration.peak), _positive(usage.units))
    tiers, variable_total, flats = [], ZERO, ZERO
    for index, (tier_low, tier_high) in enumerate(bounds):
        tier = ranges[index]
        reached = peak > tier_low and peak > 0
        if not reached and not unit_days[index]:
            break
        unit_price = _number(tier.get("per_unit_amount"))
        variable_total += unit_days[index] * unit_price
        flat = _number(tier.get("flat_amount")) if reached else ZERO
        flats += flat
        variable = unit_days[index] * unit_price / period_days if period_days else ZERO
        units = unit_days[index] / period_days if period_days else ZERO
        tiers.append(
            TierLine(
                _number(tier.get("from_value")), tier_high, units, unit_price, flat, variable + flat
            )
        )
    amount = (variable_total / period_days if period_days else ZERO) + flats
    if usage.units < 0:  # Lago: more removed than there was bills nothing
        amount = ZERO

    def line(index: int, days: int, units: Decimal) -> ProratedLine:
        unit_price = _number(ranges[index].get("per_unit_amount"))
        line_amount = units * days * unit_price / period_days if period_days else ZERO
        return ProratedLine(units, days, period_days, unit_price, line_amount, index)

    ordered = sorted(by_tier_days.items(), key=lambda item: (item[0][0], -item[0][1]))
    lines = tuple(line(index, days, units) for (index, days), units in ordered if units and days)
    return _prorated_result(amount, usage, lines, tiers)


def price(charge_model: str, properties: dict, usage: UsageInput) -> PricingResult:
    """Price `usage` with a charge model and its properties (pricing_group_keys are ignored).

    With `usage.proration` (a prorated charge) the model's prorated variant prices it; only
    standard, graduated and volume have one (Lago)."""
    if usage.proration is not None:
        prorated = pricer_for(charge_model, prorated=True)
        if prorated is None:
            raise ValueError(f"charge model {charge_model!r} cannot be prorated")
        return prorated(properties or {}, usage)
    model = pricer_for(charge_model)
    if model is None:
        raise ValueError(f"unknown charge model: {charge_model!r}")
    return model(properties or {}, usage)


# --- what a customer sees: included units, projection ----------------------------------------


def _free_tier_top(ranges: list | None, price_key: str) -> Decimal | None:
    """The to_value of the leading tiers that cost nothing (no unit price, no flat amount)."""
    top = None
    for tier in ranges or []:
        free = _number(tier.get(price_key)) == 0 and _number(tier.get("flat_amount")) == 0
        to_value = _optional(tier.get("to_value"))
        if not free or to_value is None:
            break
        top = to_value
    return top


def included_units(charge_model: str, properties: dict) -> Decimal | None:
    """Units a charge includes for free (a free first tier, or a package's free units), or
    None when it includes nothing: what "734,000 of 1,000,000 included" counts against."""
    properties = properties or {}
    if charge_model == "graduated":
        return _free_tier_top(properties.get("graduated_ranges"), "per_unit_amount")
    if charge_model == "graduated_percentage":
        return _free_tier_top(properties.get("graduated_percentage_ranges"), "rate")
    if charge_model == "package":
        free = _number(properties.get("free_units"))
        return free if free > 0 else None
    return None


def projected_units(units: Decimal, elapsed: Decimal, *, recurring: bool) -> Decimal:
    """Units at the period's end if usage keeps its pace so far (Lago's projection):
    `elapsed` is the fraction of the period gone (0 < elapsed <= 1). A recurring metric (seats,
    storage) carries its current value over unchanged."""
    if recurring or elapsed >= 1 or units <= 0:
        return units
    if elapsed <= 0:
        return units
    return units / elapsed
