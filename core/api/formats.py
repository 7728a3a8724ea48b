"""Wire formats shared by every resource: ISO 8601 UTC times, decimal strings."""

from datetime import UTC, date, datetime
from decimal import Decimal

import orjson


def iso(moment: datetime | None) -> str | None:
    """`2024-01-01T00:00:00Z` (UTC, seconds), or None."""
    if moment is None:
        return None
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def iso_date(day: date | None) -> str | None:
    return day.isoformat() if day else None


def decimal_str(value: Decimal | int | None) -> str | None:
    """Lago sends units and credits as strings such as "1500.0"."""
    if value is None:
        return None
    value = Decimal(value)
    text = format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")
    return text if "." in text else f"{text}.0"


def decimal_number(value: Decimal | int) -> orjson.Fragment:
    """A Decimal as a JSON number with its exact digits, where the spec wants a number (a
    float would lose them); only for answers written by the API's orjson renderer."""
    text = format(Decimal(value).normalize(), "f")
    return orjson.Fragment((text if "." in text else f"{text}.0").encode())
