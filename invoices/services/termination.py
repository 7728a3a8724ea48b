"""Credit notes for base-fee days paid for but not used: a subscription terminated (or changed
to another plan) before the end of days an invoice already billed.

Lago issues one for a base fee paid in advance, per the subscription's
`on_termination_credit_note`: `credit` (default), `refund` (the paid part refunded, the rest
credited), `offset` (the paid part refunded, the rest taken off the unpaid invoice) or `skip`.
An upgrade always credits. The same rule covers days billed ahead of the clock (a period
closed early, then the subscription terminated inside it): whatever billed them, days after
the last used day are given back, so the customer pays each day it used exactly once.

The amount credited on a fee is what it billed minus the price of its used days, rounded once,
so fee minus credit is exactly the rounded price of the days used."""

import logging
from decimal import Decimal

from core.errors import RuleViolation, ValidationFailed
from core.money import round_minor_units, to_minor_units
from customers.models import Subscription
from invoices.models import CreditNote, Fee, Invoice
from invoices.schedule import Schedule
from invoices.services.credit_notes import (
    credit_note_create,
    credit_note_estimate,
    fee_creditable_cents,
    invoice_offset_cents,
    invoice_paid_cents,
)
from invoices.services.fees import (
    base_fees_billed,
    covered_days,
    last_used_day,
    successor_took_over,
)

logger = logging.getLogger(__name__)
Mode = Subscription.OnTerminationCreditNote


def unused_amount_cents(fee: Fee, schedule: Schedule, last_used) -> int:
    """What `fee` billed for days after `last_used`: its amount minus the rounded price of the
    days up to `last_used` (0 when every day it paid for was used)."""
    first, last = covered_days(fee, schedule)
    if last <= last_used:
        return 0
    used = max((min(last_used, last) - first).days + 1, 0)
    used_cents = to_minor_units(
        _price_of_days(fee, used, (last - first).days + 1), fee.amount_currency
    )
    return max(min(fee.amount_cents - used_cents, fee_creditable_cents(fee)), 0)


def _price_of_days(fee: Fee, days: int, covered: int) -> Decimal:
    """The precise price of `days` of the fee's period, as the base fee itself computes it
    (whole-period price x days / period days), so a fully used fee credits exactly 0."""
    details = fee.amount_details or {}
    if details.get("base_amount") and details.get("period_days"):
        return Decimal(details["base_amount"]) * days / details["period_days"]
    return fee.precise_amount * days / covered  # fees billed before the rule existed


def _refundable_cents(fee: Fee, estimate_total: int) -> int:
    """Lago: of the fee's share of what was paid in money, the used days are taken first; what
    remains of the paid share (never more than the credit) is refundable."""
    invoice = fee.invoice
    paid = invoice_paid_cents(invoice)
    invoice_total = invoice.sub_total_including_taxes_amount_cents
    if paid <= 0 or invoice_total <= 0:
        return 0
    fee_total = fee.amount_cents - fee.coupons_amount_cents + fee.taxes_amount_cents
    unpaid_share = Decimal(fee_total) * (invoice_total - paid) / invoice_total
    refundable = Decimal(estimate_total) - unpaid_share
    return max(min(round_minor_units(refundable), estimate_total, paid), 0)


def _split(fee: Fee, mode: str, total: int) -> dict:
    """credit / refund / offset amounts of a termination credit note of `total`."""
    if mode == Mode.CREDIT:
        return {"credit_amount_cents": total}
    refund = _refundable_cents(fee, total)
    rest = total - refund
    if mode == Mode.OFFSET:
        invoice = fee.invoice
        owed = 0 if invoice.payment_status == "succeeded" else invoice.total_amount_cents
        offset = min(rest, max(owed - invoice_offset_cents(invoice), 0))
        return {
            "credit_amount_cents": rest - offset,
            "refund_amount_cents": refund,
            "offset_amount_cents": offset,
        }
    return {"credit_amount_cents": rest, "refund_amount_cents": refund}


def _credit_fee(fee: Fee, amount: int, mode: str, reason: str) -> CreditNote | None:
    items = [{"fee_id": str(fee.lago_id), "amount_cents": amount}]
    try:
        estimate = credit_note_estimate(invoice=fee.invoice, items=items, automatic=True)
        data = {"invoice_id": str(fee.invoice.lago_id), "reason": reason, "items": items}
        return credit_note_create(data=data | _split(fee, mode, estimate.total), automatic=True)
    except (RuleViolation, ValidationFailed) as exc:
        # Visible, never silent: the unused days stay billed and finance sees why.
        logger.warning(
            "termination credit note not issued",
            extra={"fee": str(fee.lago_id), "amount_cents": amount, "error": str(exc)},
        )
        return None


def termination_credit_notes(*, subscription: Subscription) -> list[CreditNote]:
    """Credit the base-fee days after a terminated subscription's last used day, one credit
    note per finalized invoice that billed them. Drafts are not credited: their refresh at
    finalization bills only the days used. Called once, inside the termination billing."""
    mode = subscription.on_termination_credit_note or Mode.CREDIT
    upgrade = successor_took_over(subscription)
    if upgrade:
        mode = Mode.CREDIT  # Lago: a plan change only credits (the new plan's invoice uses it)
    schedule = Schedule.of(subscription)
    last_used = last_used_day(subscription, schedule)
    if mode == Mode.SKIP or last_used is None:
        return []
    reason = CreditNote.Reason.ORDER_CHANGE if upgrade else CreditNote.Reason.ORDER_CANCELLATION
    notes = []
    fees = base_fees_billed(subscription).filter(invoice__status=Invoice.Status.FINALIZED)
    for fee in fees:
        amount = unused_amount_cents(fee, schedule, last_used)
        note = _credit_fee(fee, amount, mode, reason) if amount > 0 else None
        notes += [note] if note else []
    return notes
