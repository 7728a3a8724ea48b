"""Named row lock for invoices (order: customer -> subscription -> invoice -> wallet; see
`core/locks.py`)."""

from core.locks import lock_one
from invoices.models import Invoice


def lock_invoice(pk) -> Invoice:
    """The invoice row, locked (after its customer and subscriptions, before wallets)."""
    return lock_one(Invoice, pk)
