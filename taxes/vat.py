"""VAT numbers: offline format and check-digit validation (python-stdnum), and an optional,
off-by-default VIES online check whose failure never blocks invoicing."""

import logging

from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError

logger = logging.getLogger(__name__)

EU_COUNTRIES = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "HR",
        "CY",
        "CZ",
        "DK",
        "EE",
        "FI",
        "FR",
        "DE",
        "GR",
        "HU",
        "IE",
        "IT",
        "LV",
        "LT",
        "LU",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SK",
        "SI",
        "ES",
        "SE",
    ]
)


def is_eu(country: str) -> bool:
    return (country or "").upper() in EU_COUNTRIES


def vat_number_valid(number: str, country: str | None = None) -> bool:
    """Format and check digits of an EU VAT number (prefix included); for `country`'s when given."""
    if not number:
        return False
    try:
        compact = eu_vat.validate(number)
    except ValidationError:
        return False
    if country:
        prefix = "GR" if country.upper() == "GR" else country.upper()
        return compact[:2] in (prefix, "EL" if prefix == "GR" else prefix)
    return True


def vies_confirms(number: str) -> bool | None:
    """Ask VIES online; None when it cannot answer (the offline check then stands)."""
    try:
        answer = eu_vat.check_vies(eu_vat.compact(number), timeout=10)
    except Exception:
        logger.warning("VIES check unavailable")
        return None
    return bool(getattr(answer, "valid", False))
