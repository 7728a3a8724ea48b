"""FX rates: lookup (direct, inverse, or across EUR), and loading the ECB's reference rates.

Used for reporting in the base currency, wallets in another currency, and — only when a plan has
no price in the customer's currency — converting an invoice's amounts (at the issuing date's
rate, rounded once per fee, the rate printed on the invoice)."""

import csv
from datetime import date
from decimal import Decimal
from pathlib import Path

from django.db import transaction

from core.models import FxRate

CROSS = "EUR"


class NoRate(LookupError):
    pass


def _latest(base: str, quote: str, on: date) -> Decimal | None:
    row = (
        FxRate.objects.filter(base=base, quote=quote, date__lte=on)
        .order_by("-date")
        .values_list("rate", flat=True)
        .first()
    )
    return row


def fx_rate(*, base: str, quote: str, on: date) -> Decimal:
    """How many `quote` for one `base` on `on` (the latest rate at or before it)."""
    base, quote = base.upper(), quote.upper()
    if base == quote:
        return Decimal(1)
    direct = _latest(base, quote, on)
    if direct:
        return direct
    inverse = _latest(quote, base, on)
    if inverse:
        return Decimal(1) / inverse
    if CROSS not in (base, quote):
        try:
            return fx_rate(base=CROSS, quote=quote, on=on) / fx_rate(base=CROSS, quote=base, on=on)
        except NoRate:
            pass
    raise NoRate(f"no FX rate {base}->{quote} on or before {on}")


def fx_rate_or_none(*, base: str, quote: str, on: date) -> Decimal | None:
    try:
        return fx_rate(base=base, quote=quote, on=on)
    except NoRate:
        return None


@transaction.atomic
def fx_rates_load_ecb(*, path: Path) -> int:
    """Load an ECB reference-rates CSV (`Date,USD,JPY,…`, one row per day, rates per EUR, as in
    eurofxref.csv / eurofxref-hist.csv); returns the rates written."""
    written = 0
    with path.open(newline="", encoding="utf-8") as source:
        for row in csv.DictReader(source, skipinitialspace=True):
            day = date.fromisoformat(_parse_ecb_date(row.pop("Date").strip()))
            for quote, value in row.items():
                value = (value or "").strip()
                if not quote or not quote.strip() or value in ("", "N/A"):
                    continue
                FxRate.objects.update_or_create(
                    base="EUR",
                    quote=quote.strip().upper(),
                    date=day,
                    defaults={"rate": Decimal(value), "source": "ecb"},
                )
                written += 1
    return written


def _parse_ecb_date(text: str) -> str:
    """The ECB writes `2024-05-02` in the history file and `02 May 2024` in the daily one."""
    if "-" in text:
        return text
    from datetime import datetime

    return datetime.strptime(text, "%d %B %Y").date().isoformat()  # noqa: DTZ007
