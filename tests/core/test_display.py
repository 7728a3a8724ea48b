"""core/display.py: the one money display helper, by hand-written table, and the check that
nothing else in the project formats money by hand."""

import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.template import Context, Template

from core import display

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("cents", "currency", "locale", "shown"),
    [
        (120000, "USD", "en", "$1,200.00"),
        (6865, "USD", "en", "$68.65"),
        (5, "USD", "en", "$0.05"),
        (-50, "EUR", "fr", "-0,50\u00a0€"),
        (123450, "EUR", "de", "1.234,50\u00a0€"),
        (1500, "JPY", "en", "¥1,500"),  # no minor unit
        (12345, "KWD", "en", "KWD12.345"),  # three decimals, ISO 4217
        (100, "CHF", "en", "CHF1.00"),  # ISO decimals, not CLDR's cash rounding
        (9_223_372_036_854_775_807, "USD", "en", "$92,233,720,368,547,758.07"),  # bigint max
    ],
)
def test_money_from_minor_units(cents, currency, locale, shown):
    assert display.money(cents, currency, locale) == shown


def test_money_without_amount_or_with_unknown_currency():
    assert display.money(None, "USD") == "—"
    assert display.money(100, "XYZ") == "100 XYZ"  # never an exception on a page


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        ("250.000000000000000", "$250.00"),
        ("0.009192", "$0.009192"),
        ("0.0025", "$0.0025"),
        ("0.00000049", "$0.00"),  # beyond six decimals: a unit price, not a billed amount
        ("1.5", "$1.50"),
    ],
)
def test_unit_price_keeps_what_matters(amount, shown):
    assert display.unit_price(Decimal(amount), "USD", "en") == shown


@pytest.mark.parametrize(
    ("value", "locale", "shown"),
    [
        ("2.000000000000", "en", "2"),
        ("1234567.5", "en", "1,234,567.5"),
        ("1234567.5", "fr", "1\u202f234\u202f567,5"),
        ("0.333333333333", "en", "0.333333"),
        ("123456789012345678901234567.5", "en", "123,456,789,012,345,678,901,234,567.5"),
    ],
)
def test_units_trim_trailing_zeros(value, locale, shown):
    assert display.units(Decimal(value), locale) == shown


def test_rate_and_percent():
    assert display.rate(Decimal("20.00")) == "20%"
    assert display.rate(Decimal("8.875")) == "8.875%"
    assert display.percent(734000, 1000000, "en") == "73%"
    assert display.percent(1, 0) == ""


def test_template_filters_use_the_helper():
    page = Template(
        "{% load display %}{{ cents|money:cur }} · {{ units|units }} · {{ price|unit_price:cur }}"
    ).render(Context({"cents": 6865, "cur": "USD", "units": Decimal("2.0000"), "price": "0.25"}))
    assert page == "$68.65 · 2 · $0.25"


HAND_FORMATTING = [
    re.compile(r"from_minor_units\([^)]*\)\s*[:}][^\n]*\{[^}]*currency"),  # f"{major} {currency}"
    re.compile(r"\{[\w.]*cents[\w.]*\} \{[\w.]*currency"),  # f"{x_cents} {currency}"
    re.compile(r"format_currency\("),
    re.compile(r"_cents\|intcomma"),
]


def test_no_module_formats_money_by_hand():
    """Admin, dashboard, simulator, portal, PDFs, e-mails and commands call core/display.py."""
    offenders = []
    for path in [*ROOT.glob("*/**/*.py"), *ROOT.glob("templates/**/*.html")]:
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith((".venv/", "tests/", "bench/")) or relative == "core/display.py":
            continue
        text = path.read_text(encoding="utf-8")
        offenders += [f"{relative}: {p.pattern}" for p in HAND_FORMATTING if p.search(text)]
    assert offenders == []
