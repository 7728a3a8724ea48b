"""Invoice lifecycle: totals, finalize (number, immutable), refresh (drafts), void, manual
payment status and metadata, overdue marking. Side effects (PDF, e-mail, webhooks) run after
commit."""

from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from core import hooks
from core.errors import RuleViolation, ValidationFailed
from core.selectors import organization_get
from invoices.locks import lock_invoice
from invoices.models import Invoice
from invoices.selectors import past_due_q
from invoices.services.numbering import next_invoice_number

Status = Invoice.Status
PaymentStatus = Invoice.PaymentStatus
# Billings whose fees are recomputed from usage when a draft is refreshed or finalized.
PERIOD_REASONS = ["subscription_starting", "subscription_periodic", "subscription_terminating"]


def invoice_totals(invoice: Invoice) -> Invoice:
    """Recompute the totals from the fee lines (each already rounded): the total is the exact
    sum of its rounded parts. Order: fees → coupons → taxes → credit notes → prepaid credits."""
    fees = list(invoice.fees.all())
    invoice.fees_amount_cents = sum(f.amount_cents for f in fees)
    invoice.taxes_amount_cents = sum(f.taxes_amount_cents for f in fees)
    invoice.sub_total_excluding_taxes_amount_cents = (
        invoice.fees_amount_cents
        - invoice.progressive_billing_credit_amount_cents
        - invoice.coupons_amount_cents
    )
    invoice.sub_total_including_taxes_amount_cents = (
        invoice.sub_total_excluding_taxes_amount_cents + invoice.taxes_amount_cents
    )
    invoice.total_amount_cents = (
        invoice.sub_total_including_taxes_amount_cents
        - invoice.credit_notes_amount_cents
        - invoice.prepaid_credit_amount_cents
    )
    return invoice


def apply_deductions(invoice: Invoice) -> None:
    """The one order of deductions: fees → progressive billing already billed → coupons →
    taxes → credit notes → prepaid credits → amount due. Each step records what it took (and is
    idempotent per invoice), inside the finalizing transaction."""
    from invoices.services.coupons import coupons_apply
    from invoices.services.credit_notes import credit_notes_apply
    from invoices.services.progressive import progressive_credit_cents, progressive_credit_shares
    from invoices.services.taxes import taxes_apply
    from invoices.services.wallets import wallets_apply

    fees_cents = sum(fee.amount_cents for fee in invoice.fees.all())
    invoice.progressive_billing_credit_amount_cents = min(
        progressive_credit_cents(invoice), fees_cents
    )
    credited = progressive_credit_shares(invoice)  # fees → progressive credit → coupons
    invoice.coupons_amount_cents = coupons_apply(invoice=invoice, credited=credited)
    taxes_apply(invoice=invoice)  # per fee, on its amount net of its coupon share
    invoice_totals(invoice)
    invoice.credit_notes_amount_cents = credit_notes_apply(
        invoice=invoice, amount_due=invoice.sub_total_including_taxes_amount_cents
    )
    invoice_totals(invoice)
    invoice.prepaid_credit_amount_cents = wallets_apply(invoice=invoice)
    invoice_totals(invoice)


def payment_term_days(invoice: Invoice) -> int:
    term = invoice.customer.net_payment_term
    return organization_get().net_payment_term if term is None else term


def _skips_zero_amount(invoice: Invoice) -> bool:
    """Zero-amount invoices are finalized or skipped by the customer's (else the org's) rule."""
    rule = invoice.customer.finalize_zero_amount_invoice
    if rule == "inherit":
        return not organization_get().finalize_zero_amount_invoice
    return rule == "skip"


def _after_finalize(invoice: Invoice) -> None:
    """After commit: the PDF and e-mail; then the announcement, on which the payments app
    collects the amount due (invoicing names no provider)."""
    from invoices.tasks import deliver_finalized_invoice

    invoice_id = invoice.pk
    transaction.on_commit(lambda: deliver_finalized_invoice.delay(invoice_id))
    hooks.run("invoice.finalized", invoice=invoice)
    notify(invoice, "invoice.finalized")


def notify(invoice: Invoice, webhook_type: str) -> None:
    """Send a webhook with the invoice after commit (nothing for a rolled-back change)."""
    from invoices.serializers import invoice_json
    from webhooks.services import webhook_send

    webhook_send(webhook_type=webhook_type, object_type="invoice", data=invoice_json(invoice))


@transaction.atomic
def invoice_finalize(*, invoice: Invoice, now: datetime | None = None) -> Invoice:
    """Draft → finalized: refresh its fees (late events count), take the next number, fix the
    due date. Finalizing twice is a no-op; a zero invoice may be closed instead (setting)."""
    return _finalize(invoice.pk, now)[0]


def drafts_finalize_due(*, now: datetime) -> list[Invoice]:
    """Finalize the drafts whose grace period is over; the ones THIS call finalized (or closed).
    A run going on at the same time finds the same drafts: the row lock lets one finalize each,
    the other finds it done and does not report it."""
    finalized = (draft_finalize_once(invoice_id=pk, now=now) for pk in drafts_due_ids(now))
    return [invoice for invoice in finalized if invoice is not None]


def drafts_due_ids(now: datetime) -> list[int]:
    """The drafts whose grace period is over at `now`."""
    due = Invoice.objects.filter(status=Status.DRAFT, finalize_after__lte=now)
    return list(due.values_list("pk", flat=True))


@transaction.atomic
def draft_finalize_once(*, invoice_id: int, now: datetime) -> Invoice | None:
    """Finalize one draft; the invoice if THIS call finalized (or closed) it, else None."""
    invoice, changed = _finalize(invoice_id, now)
    return invoice if changed else None


def _finalize(invoice_id: int, now: datetime | None) -> tuple[Invoice, bool]:
    """The finalization under the row lock, and whether this call changed the invoice."""
    from invoices.services.close import invoice_refresh_fees

    invoice = Invoice.objects.select_for_update().select_related("customer").get(pk=invoice_id)
    if invoice.status in (Status.FINALIZED, Status.CLOSED):
        return invoice, False
    if invoice.status != Status.DRAFT:
        raise RuleViolation("invoice_not_draft", "Only a draft invoice can be finalized.")
    now = now or timezone.now()
    if invoice.billings.filter(invoicing_reason__in=PERIOD_REASONS).exists():
        invoice_refresh_fees(invoice)
    apply_deductions(invoice)
    if invoice.fees_amount_cents == 0 and _skips_zero_amount(invoice):
        invoice.status = Status.CLOSED
        invoice.save()
        return invoice, True
    invoice.number, invoice.sequential_id = next_invoice_number(now)
    invoice.status, invoice.finalized_at = Status.FINALIZED, now
    invoice.net_payment_term = payment_term_days(invoice)
    invoice.payment_due_date = invoice.issuing_date + timedelta(days=invoice.net_payment_term)
    if invoice.total_amount_cents <= 0:
        invoice.payment_status = PaymentStatus.SUCCEEDED  # nothing to collect
        invoice.payment_status_changed_at = now
    invoice.save()
    _after_finalize(invoice)
    return invoice, True


@transaction.atomic
def invoice_refresh(*, invoice: Invoice) -> Invoice:
    """Recompute a draft's fees from the usage as it is now (late events within the grace)."""
    from invoices.services.close import invoice_refresh_fees

    invoice = lock_invoice(invoice.pk)
    if invoice.status != Status.DRAFT:
        raise RuleViolation("invoice_not_draft", "Only a draft invoice can be refreshed.")
    invoice_refresh_fees(invoice)
    invoice_totals(invoice)
    invoice.save()
    return invoice


@transaction.atomic
def invoice_void(
    *,
    invoice: Invoice,
    now: datetime | None = None,
    generate_credit_note: bool = False,
    credit_amount: int | None = None,
    refund_amount: int | None = None,
) -> Invoice:
    """Finalized → voided (final). A paid invoice is voided only with a credit note for what
    is left of it (as credit, refund or both)."""
    invoice = lock_invoice(invoice.pk)
    if invoice.status == Status.VOIDED:
        return invoice
    if invoice.status != Status.FINALIZED:
        raise RuleViolation("invoice_not_finalized", "Only a finalized invoice can be voided.")
    if invoice.payment_dispute_lost_at:
        raise RuleViolation(
            "invoice_payment_dispute_lost", "The payment dispute was lost: it stays as it is."
        )
    paid = invoice.payment_status == PaymentStatus.SUCCEEDED and invoice.total_amount_cents > 0
    if not paid and invoice.total_paid_amount_cents > 0:  # Lago: not voidable either
        raise RuleViolation(
            "invoice_partially_paid", "Part of it was paid (manual payments): credit it instead."
        )
    if paid and not generate_credit_note:
        raise RuleViolation(
            "invoice_paid", "A paid invoice is voided with a credit note (generate_credit_note)."
        )
    if paid:
        _credit_everything(invoice, credit_amount, refund_amount)
    invoice.status, invoice.voided_at = Status.VOIDED, now or timezone.now()
    invoice.payment_overdue = False
    invoice.save(update_fields=["status", "voided_at", "payment_overdue", "updated_at"])
    if invoice.invoice_type == Invoice.InvoiceType.CREDIT and not paid:
        from invoices.services.wallet_topups import wallet_top_up_failed

        wallet_top_up_failed(invoice=invoice)  # an unpaid, voided top-up never lands
    notify(invoice, "invoice.voided")
    return invoice


def _credit_everything(invoice: Invoice, credit: int | None, refund: int | None) -> None:
    from invoices.services.credit_notes import credit_note_create, fee_creditable_cents

    items = [
        {"fee_id": str(fee.lago_id), "amount_cents": fee_creditable_cents(fee)}
        for fee in invoice.fees.all()
        if fee_creditable_cents(fee) > 0
    ]
    if not items:
        return
    split = {}
    if credit is not None or refund is not None:
        split = {"credit_amount_cents": credit or 0, "refund_amount_cents": refund or 0}
    credit_note_create(
        data={
            "invoice_id": str(invoice.lago_id),
            "reason": "order_cancellation",
            "description": "Invoice voided",
            "items": items,
            **split,
        }
    )


def payment_status_changed(invoice: Invoice) -> None:
    """Whatever changed the payment status (manual, provider): paid top-ups land in their
    wallet, failed ones do not; subscribers hear about it."""
    from invoices.services.wallet_topups import wallet_top_up_failed, wallet_top_up_paid

    if invoice.invoice_type == Invoice.InvoiceType.CREDIT:
        if invoice.payment_status == PaymentStatus.SUCCEEDED:
            wallet_top_up_paid(invoice=invoice)
        elif invoice.payment_status == PaymentStatus.FAILED:
            wallet_top_up_failed(invoice=invoice)
    notify(invoice, "invoice.payment_status_updated")


def _metadata(items) -> list[dict]:
    if not isinstance(items, list) or not all(
        isinstance(i, dict) and isinstance(i.get("key"), str) and i["key"] for i in items
    ):
        raise ValidationFailed({"metadata": ["invalid_format"]})
    return [
        {"id": str(i.get("id") or index), "key": i["key"], "value": str(i.get("value") or "")}
        for index, i in enumerate(items)
    ]


@transaction.atomic
def invoice_update(*, invoice: Invoice, data: dict) -> Invoice:
    """Lago's PUT /invoices/{id}: metadata (any status but voided) and the payment status of a
    finalized invoice paid outside the payment provider."""
    invoice = lock_invoice(invoice.pk)
    fields = ["updated_at"]
    if data.get("metadata") is not None:
        invoice.metadata = _metadata(data["metadata"])
        fields.append("metadata")
    status = data.get("payment_status")
    if status is not None:
        if status not in PaymentStatus.values:
            raise ValidationFailed({"payment_status": ["value_is_invalid"]})
        if invoice.status != Status.FINALIZED:
            raise RuleViolation("invoice_not_finalized", "Only a finalized invoice is paid.")
        if status != invoice.payment_status:
            invoice.payment_status = status
            invoice.payment_status_changed_at = timezone.now()
            invoice.payment_overdue = invoice.payment_overdue and status != "succeeded"
            fields += ["payment_status", "payment_status_changed_at", "payment_overdue"]
            payment_status_changed(invoice)
    invoice.save(update_fields=fields)
    return invoice


def invoices_mark_overdue(*, today: date, batch: int = 1000) -> int:
    """Flag the invoices past their due date on `today` (`invoices.selectors.past_due_q`), in
    set-based updates of up to `batch` rows; one webhook each. Idempotent: the rows are locked
    and re-read as unflagged before the update, so a run at the same time flags none twice."""
    pending = Invoice.objects.filter(past_due_q(today), payment_overdue=False)
    count = 0
    while True:
        with transaction.atomic():
            ids = list(
                pending.select_for_update().order_by("pk").values_list("pk", flat=True)[:batch]
            )
            if not ids:
                return count
            Invoice.objects.filter(pk__in=ids).update(
                payment_overdue=True, updated_at=timezone.now()
            )
            for invoice in Invoice.objects.filter(pk__in=ids).select_related("customer"):
                notify(invoice, "invoice.payment_overdue")
            count += len(ids)
        if len(ids) < batch:
            return count
