"""Daily usage as an SVG bar chart, drawn on the server: no JavaScript, no external asset,
nothing a Content-Security-Policy has to allow. Pure geometry, so it is tested as numbers."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

WIDTH, HEIGHT = 640, 160
PAD_TOP, PAD_BOTTOM = 8, 20  # room for the day labels under the bars


@dataclass(frozen=True)
class Bar:
    day: date
    value: Decimal
    x: Decimal
    y: Decimal
    width: Decimal
    height: Decimal


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    peak: Decimal
    width: int = WIDTH
    height: int = HEIGHT
    baseline: int = HEIGHT - PAD_BOTTOM


def bar_chart(points: list[tuple[date, Decimal]]) -> Chart:
    """One bar per day, heights relative to the busiest day; empty days keep their slot."""
    if not points:
        return Chart(bars=[], peak=Decimal(0))
    peak = max(value for _, value in points)
    slot = Decimal(WIDTH) / len(points)
    usable = Decimal(HEIGHT - PAD_TOP - PAD_BOTTOM)
    bars = []
    for index, (day, value) in enumerate(points):
        height = (value / peak * usable) if peak > 0 else Decimal(0)
        bars.append(
            Bar(
                day=day,
                value=value,
                x=_round(slot * index + slot * Decimal("0.1")),
                y=_round(Decimal(HEIGHT - PAD_BOTTOM) - height),
                width=_round(slot * Decimal("0.8")),
                height=_round(height),
            )
        )
    return Chart(bars=bars, peak=peak)


def _round(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))
