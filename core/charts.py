"""Bar charts as SVG geometry, drawn on the server (portal and admin dashboard): no
JavaScript, no external asset, nothing a Content-Security-Policy has to allow. Pure geometry,
so it is tested as numbers; templates only place the rectangles."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

WIDTH, HEIGHT = 640, 160
PAD_TOP, PAD_BOTTOM = 8, 20  # room for the day labels under the bars


@dataclass(frozen=True)
class Bar:
    day: date | str  # the label: a day, a month, a bucket name
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

    @property
    def empty(self) -> bool:
        """Nothing above zero to draw: the page says so instead of showing an empty box."""
        return not self.bars or self.peak <= 0


def bar_chart(points: list[tuple[date | str, Decimal]]) -> Chart:
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


@dataclass(frozen=True)
class Segment:
    series: int  # index of the series (its colour)
    value: Decimal
    x: Decimal
    y: Decimal
    width: Decimal
    height: Decimal


@dataclass(frozen=True)
class StackedChart:
    labels: list
    segments: list[Segment]
    peak: Decimal
    width: int = WIDTH
    height: int = HEIGHT
    baseline: int = HEIGHT - PAD_BOTTOM
    label_x: list = ()

    @property
    def empty(self) -> bool:
        return not self.segments or self.peak <= 0


def stacked_chart(labels: list, series: list[list[Decimal]]) -> StackedChart:
    """One stacked bar per label, series bottom-up; heights relative to the tallest stack.
    Negative values (churn) are drawn as zero: the table beside the chart shows them."""
    count = len(labels)
    if not count:
        return StackedChart(labels=[], segments=[], peak=Decimal(0))
    totals = [
        sum((max(values[i], Decimal(0)) for values in series), Decimal(0)) for i in range(count)
    ]
    peak = max(totals)
    slot = Decimal(WIDTH) / count
    usable = Decimal(HEIGHT - PAD_TOP - PAD_BOTTOM)
    segments = []
    for i in range(count):
        bottom = Decimal(HEIGHT - PAD_BOTTOM)
        for index, values in enumerate(series):
            value = max(values[i], Decimal(0))
            height = value / peak * usable if peak > 0 else Decimal(0)
            bottom -= height
            segments.append(
                Segment(
                    index,
                    values[i],
                    _round(slot * i + slot * Decimal("0.1")),
                    _round(bottom),
                    _round(slot * Decimal("0.8")),
                    _round(height),
                )
            )
    label_x = [_round(slot * i + slot * Decimal("0.1")) for i in range(count)]
    return StackedChart(labels=labels, segments=segments, peak=peak, label_x=label_x)
