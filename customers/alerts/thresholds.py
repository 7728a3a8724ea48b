"""Which threshold values a move of the watched value crossed (pure: no ORM).

As Lago's UsageMonitoring::Alert#find_thresholds_crossed: an increasing alert crosses the
values in (previous, current], a decreasing one those in [current, previous). A recurring
threshold repeats every `value` after the highest fixed threshold (below the lowest one for a
decreasing alert, Lago's rule). Not as Lago: at most MAX_RECURRING_STEPS multiples are
returned per move (the highest ones), so a tiny step and a huge jump cannot stall a worker.
"""

from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal, localcontext

MAX_RECURRING_STEPS = 100
ZERO = Decimal(0)


@dataclass(frozen=True)
class Threshold:
    code: str | None
    value: Decimal
    recurring: bool = False


def _floor(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_FLOOR))


def crossed(
    thresholds: list[Threshold], previous: Decimal, current: Decimal, *, increasing: bool = True
) -> list[Threshold]:
    """The thresholds crossed going from `previous` to `current`, by value ascending; each
    multiple of a recurring threshold is its own item (recurring=True, the value reached)."""
    fixed = sorted({t.value: t for t in thresholds if not t.recurring}.values(), key=_value)
    recurring = next((t for t in thresholds if t.recurring and t.value > 0), None)
    if increasing:
        if current <= previous:
            return []
        out = [t for t in fixed if previous < t.value <= current]
    else:
        if current >= previous:
            return []
        out = [t for t in fixed if current <= t.value < previous]
    if recurring is not None:
        out += _multiples(recurring, fixed, previous, current, increasing)
    return sorted(out, key=_value)


def _value(threshold: Threshold) -> Decimal:
    return threshold.value


def _multiples(recurring: Threshold, fixed, previous, current, increasing) -> list[Threshold]:
    step = recurring.value
    with localcontext() as context:
        context.prec = 80  # values have at most 30 digits: divisions stay exact enough
        if increasing:
            base = max((t.value for t in fixed), default=ZERO)
            low = max(1, _floor((previous - base) / step) + 1)  # base + n*step > previous
            high = _floor((current - base) / step)  # base + n*step <= current
            low = max(low, high - MAX_RECURRING_STEPS + 1)
            return [Threshold(recurring.code, base + n * step, True) for n in range(low, high + 1)]
        base = min((t.value for t in fixed), default=ZERO)
        low = max(1, _floor((base - previous) / step) + 1)  # base - n*step < previous
        high = _floor((base - current) / step)  # base - n*step >= current
        low = max(low, high - MAX_RECURRING_STEPS + 1)
        return [Threshold(recurring.code, base - n * step, True) for n in range(low, high + 1)]
