"""Numbers, money and dates in the language the portal speaks (babel, CLDR data); the chart."""

from decimal import Decimal

from babel.dates import format_date
from django import template
from django.utils import translation

from core import display
from core.charts import bar_chart
from invoices.selectors import invoice_is_overdue

register = template.Library()


def _locale() -> str:
    return translation.get_language() or "en"


@register.filter
def units(value) -> str:
    """1234567.5 -> "1,234,567.5" (en), "1 234 567,5" (fr)."""
    return display.units(value, _locale(), max_decimals=4)


@register.simple_tag
def money(cents, currency: str) -> str:
    """Minor units of `currency` shown with its own decimals: 123456 USD -> "$1,234.56"."""
    if cents is None:
        return ""
    return display.money(cents, currency, _locale())


@register.filter
def day(value) -> str:
    return format_date(value, format="medium", locale=_locale()) if value else ""


@register.filter
def short_day(value) -> str:
    return format_date(value, format="d", locale=_locale()) if value else ""


@register.simple_tag
def share(part, whole) -> str:
    """734000 of 1000000 -> "73%"."""
    return display.percent(part, whole, _locale())


@register.inclusion_tag("portal/chart.html")
def usage_chart(points, label: str):
    return {"chart": bar_chart(points), "label": label, "points": points}


@register.filter
def plain(value) -> str:
    """A Decimal as a plain machine number for HTML attributes: 570000.000 -> "570000"."""
    if value is None:
        return ""
    number = Decimal(value).normalize()
    return format(number, "f")


@register.filter
def overdue(invoice) -> bool:
    """The one definition of overdue (invoices.selectors), not the flag a beat run sets later."""
    return invoice_is_overdue(invoice)
