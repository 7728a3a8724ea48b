"""Writes of invoices: period close (close.py), fee lines (fees.py), lifecycle (lifecycle.py),
numbering (numbering.py)."""

from invoices.services.close import (
    subscription_bill,
    subscription_bill_due,
    subscription_catch_up,
    subscription_preview,
    subscription_schedule,
    subscriptions_due,
    subscriptions_schedule_unscheduled,
)
from invoices.services.lifecycle import (
    drafts_finalize_due,
    invoice_finalize,
    invoice_refresh,
    invoice_totals,
    invoice_update,
    invoice_void,
    invoices_mark_overdue,
)

__all__ = [
    "drafts_finalize_due",
    "invoice_finalize",
    "invoice_refresh",
    "invoice_totals",
    "invoice_update",
    "invoice_void",
    "invoices_mark_overdue",
    "subscription_bill",
    "subscription_bill_due",
    "subscription_catch_up",
    "subscription_preview",
    "subscription_schedule",
    "subscriptions_due",
    "subscriptions_schedule_unscheduled",
]
