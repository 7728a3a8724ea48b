"""The daily chart's geometry: bars scale to the busiest day, empty days keep their slot."""

from datetime import date
from decimal import Decimal

from core.charts import HEIGHT, PAD_BOTTOM, PAD_TOP, WIDTH, bar_chart

D = Decimal


def test_bars_scale_to_the_busiest_day():
    points = [(date(2024, 5, d), D(v)) for d, v in ((1, 50), (2, 0), (3, 100), (4, 25))]
    chart = bar_chart(points)
    usable = HEIGHT - PAD_TOP - PAD_BOTTOM
    assert [bar.height for bar in chart.bars] == [D(usable) / 2, 0, D(usable), D(usable) / 4]
    assert [bar.x for bar in chart.bars] == [D("16.00"), D("176.00"), D("336.00"), D("496.00")]
    assert all(bar.y + bar.height == HEIGHT - PAD_BOTTOM for bar in chart.bars)
    assert chart.bars[-1].x + chart.bars[-1].width <= WIDTH
    assert chart.peak == 100


def test_no_usage_draws_flat_bars_and_no_points_nothing():
    chart = bar_chart([(date(2024, 5, 1), D(0)), (date(2024, 5, 2), D(0))])
    assert [bar.height for bar in chart.bars] == [0, 0]
    assert bar_chart([]).bars == []


def test_a_chart_with_nothing_above_zero_is_empty():
    from core.charts import stacked_chart

    days = [date(2024, 5, 1), date(2024, 5, 2)]
    assert bar_chart([]).empty
    assert bar_chart([(day, D(0)) for day in days]).empty
    assert not bar_chart([(days[0], D(0)), (days[1], D("0.5"))]).empty
    assert stacked_chart([], []).empty
    assert stacked_chart(days, [[D(0), D(0)], [D(0), D(-3)]]).empty
    assert not stacked_chart(days, [[D(0), D(1)], [D(0), D(0)]]).empty
