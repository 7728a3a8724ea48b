"""Template filters over core/display.py, for the admin and the dashboard:
`{{ invoice.total_amount_cents|money:invoice.currency }}`, `{{ fee.units|units }}`."""

import json

from django import template

from core import display

register = template.Library()


@register.filter
def money(cents, currency: str) -> str:
    """Minor units shown in their currency: 120000|money:"USD" -> "$1,200.00"."""
    return display.money(cents, currency)


@register.filter
def units(value) -> str:
    """2.000000000000 -> "2"."""
    return display.units(value)


@register.filter
def unit_price(amount, currency: str) -> str:
    """250.000000000000000|unit_price:"USD" -> "$250.00"; 0.0025 -> "$0.0025"."""
    return display.unit_price(amount, currency)


@register.filter
def as_json(value) -> str:
    """Event properties as the client sent them (JSON), not a Python dict's repr."""
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "), default=str)
