"""Gapless invoice numbers: PREFIX-YYYYMM-NNNN, taken at finalization under a row lock on the
month's sequence, inside the finalizing transaction (a rollback gives the number back)."""

from datetime import datetime

from django.db import IntegrityError, transaction

from core.selectors import organization_get
from invoices.models import NumberSequence
from plans.periods import local_date


def _locked_sequence(prefix: str, period: str) -> NumberSequence:
    sequence = NumberSequence.objects.select_for_update().filter(prefix=prefix, period=period)
    row = sequence.first()
    if row is not None:
        return row
    try:
        with transaction.atomic():
            NumberSequence.objects.create(prefix=prefix, period=period)
    except IntegrityError:
        pass  # another transaction created it first
    return sequence.get()


def next_invoice_number(at: datetime) -> tuple[str, int]:
    """(number, sequential id) for an invoice finalized at `at`; call inside a transaction."""
    organization = organization_get()
    period = local_date(at, organization.timezone or "UTC").strftime("%Y%m")
    sequence = _locked_sequence(organization.invoice_prefix, period)
    sequence.last_value += 1
    sequence.save(update_fields=["last_value"])
    number = f"{organization.invoice_prefix}-{period}-{sequence.last_value:04d}"
    return number, sequence.last_value


def next_sequence_value(prefix: str, period: str = "") -> int:
    """The next value of another gapless series (payment receipts); call inside a
    transaction: a rollback gives the value back."""
    sequence = _locked_sequence(prefix, period)
    sequence.last_value += 1
    sequence.save(update_fields=["last_value"])
    return sequence.last_value
