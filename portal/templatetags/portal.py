"""Numbers, money and dates in the language the portal speaks (babel, CLDR data); the chart."""

from decimal import Decimal, localcontext
from functools import wraps

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent
from django import template
from django.utils import translation

from core.charts import bar_chart
from core.money import from_minor_units
from invoices.selectors import invoice_is_overdue

register = template.Library()
PRECISION = 80  # digits: any stored figure (numeric(38, x), bigint) formats without error


def wide_decimals(function):
    """babel rounds in the current decimal context (28 digits by default), which refuses the
    27-digit figures an old out-of-range event can produce: format with room to spare."""

    @wraps(function)
    def wrapper(*args, **kwargs):
        with localcontext(prec=PRECISION):
            return function(*args, **kwargs)

    return wrapper


def _locale() -> str:
    return translation.get_language() or "en"


@register.filter
@wide_decimals
def units(value) -> str:
    """1234567.5 -> "1,234,567.5" (en), "1 234 567,5" (fr)."""
    if value is None or value == "":
        return ""
    return format_decimal(Decimal(value), format="#,##0.####", locale=_locale())


@register.simple_tag
@wide_decimals
def money(cents, currency: str) -> str:
    """Minor units of `currency` shown with its own decimals: 123456 USD -> "$1,234.56"."""
    if cents is None:
        return ""
    return format_currency(from_minor_units(int(cents), currency), currency, locale=_locale())


@register.filter
def day(value) -> str:
    return format_date(value, format="medium", locale=_locale()) if value else ""


@register.filter
def short_day(value) -> str:
    return format_date(value, format="d", locale=_locale()) if value else ""


@register.simple_tag
@wide_decimals
def share(part, whole) -> str:
    """734000 of 1000000 -> "73%"."""
    if not whole:
        return ""
    return format_percent(Decimal(part) / Decimal(whole), locale=_locale())


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
