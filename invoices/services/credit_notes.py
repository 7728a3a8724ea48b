"""Credit notes: give back part of a finalized invoice as credit (consumed by the customer's
next invoices, before prepaid credits), a refund (through the payment provider) or an offset of
what is still owed on it. Taxes are credited in proportion to each fee's taxes."""

import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from core.errors import NotFound, RuleViolation, ValidationFailed
from core.money import round_minor_units
from core.validation import Errors
from invoices.models import CreditNote, CreditNoteApplication, CreditNoteItem, Fee, Invoice

Status = Invoice.Status


@dataclass
class Estimate:
    """Amounts of a credit note before it exists (POST /credit_notes/estimate too)."""

    invoice: Invoice
    items: list[tuple[Fee, int, int]] = field(default_factory=list)  # fee, amount, taxes

    @property
    def sub_total(self) -> int:
        return sum(amount for _, amount, _ in self.items)

    @property
    def taxes(self) -> int:
        return sum(taxes for _, _, taxes in self.items)

    @property
    def total(self) -> int:
        return self.sub_total + self.taxes


def fee_creditable_cents(fee: Fee) -> int:
    """What is left to credit on a fee: its amount net of coupons minus earlier credit notes."""
    credited = (
        fee.credit_note_items.exclude(credit_note__credit_status=CreditNote.CreditStatus.VOIDED)
        .aggregate(total=Sum("amount_cents"))
        .get("total")
        or 0
    )
    return fee.amount_cents - fee.coupons_amount_cents - credited


def _item_taxes(fee: Fee, amount: int) -> int:
    """The fee's taxes in proportion to the credited share of its taxable amount."""
    base = fee.amount_cents - fee.coupons_amount_cents
    if not base or not fee.taxes_amount_cents:
        return 0
    return round_minor_units(Decimal(fee.taxes_amount_cents) * amount / base)


def credit_note_estimate(*, invoice: Invoice, items: list, automatic: bool = False) -> Estimate:
    """Validate items [{fee_id, amount_cents}] against what each fee can still be credited.
    `automatic` (unused days at termination) also credits an invoice settled by earlier credit
    or prepaid credits, whose amount due is zero."""
    zero_due = invoice.total_amount_cents <= 0 and not automatic
    if invoice.status != Status.FINALIZED or zero_due:
        raise RuleViolation("invoice_not_creditable", "Only a finalized invoice with a total.")
    if not isinstance(items, list) or not items:
        raise ValidationFailed({"items": ["value_is_mandatory"]})
    fees = {str(f.lago_id): f for f in invoice.fees.all()}
    errors, estimate = Errors(), Estimate(invoice)
    for index, item in enumerate(items):
        fee = fees.get(str(item.get("fee_id"))) if isinstance(item, dict) else None
        amount = item.get("amount_cents") if isinstance(item, dict) else None
        if fee is None:
            errors.add(f"items.{index}.fee_id", "fee_not_found")
        elif isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            errors.add(f"items.{index}.amount_cents", "value_is_invalid")
        elif amount > fee_creditable_cents(fee):
            errors.add(f"items.{index}.amount_cents", "higher_than_remaining_fee_amount")
        else:
            estimate.items.append((fee, amount, _item_taxes(fee, amount)))
    if errors:
        raise ValidationFailed(errors)
    return estimate


def invoice_paid_cents(invoice: Invoice) -> int:
    """What the customer paid on an invoice, less what was refunded already."""
    if invoice.payment_status != Invoice.PaymentStatus.SUCCEEDED:
        return 0
    refunded = (
        invoice.credit_notes.exclude(credit_status=CreditNote.CreditStatus.VOIDED).aggregate(
            total=Sum("refund_amount_cents")
        )["total"]
        or 0
    )
    return invoice.total_amount_cents - refunded


def invoice_offset_cents(invoice: Invoice) -> int:
    """What credit notes took off the amount still owed on an invoice."""
    total = invoice.credit_notes.exclude(credit_status=CreditNote.CreditStatus.VOIDED).aggregate(
        total=Sum("offset_amount_cents")
    )["total"]
    return total or 0


def _split(estimate: Estimate, data: dict) -> tuple[int, int, int]:
    """credit / refund / offset amounts: given, or all as credit by default."""
    keys = ("credit_amount_cents", "refund_amount_cents", "offset_amount_cents")
    given = {k: data.get(k) for k in keys if data.get(k) is not None}
    if not given:
        return estimate.total, 0, 0
    errors = Errors()
    for key, value in given.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            errors.add(key, "value_is_invalid")
    if errors:
        raise ValidationFailed(errors)
    credit, refund, offset = (given.get(k, 0) for k in keys)
    if credit + refund + offset != estimate.total:
        raise ValidationFailed({"base": ["total_does_not_match_items"]})
    invoice = estimate.invoice
    if refund > invoice_paid_cents(invoice):
        raise ValidationFailed({"refund_amount_cents": ["higher_than_paid_amount"]})
    owed = 0 if invoice.payment_status == "succeeded" else invoice.total_amount_cents
    if offset > owed - invoice_offset_cents(invoice):
        raise ValidationFailed({"offset_amount_cents": ["higher_than_remaining_invoice_amount"]})
    return credit, refund, offset


def _next_sequence(invoice: Invoice) -> int:
    last = invoice.credit_notes.order_by("-sequential_id").values_list("sequential_id", flat=True)
    return (last.first() or 0) + 1


@transaction.atomic
def credit_note_create(*, data: dict, automatic: bool = False) -> CreditNote:
    """Lago's POST /credit_notes: invoice_id, reason, description, items, and the split into
    credit / refund / offset (all credit when not given). `automatic`: issued by the system
    for unused days (see credit_note_estimate)."""
    invoice = (
        Invoice.objects.select_for_update().filter(lago_id=data.get("invoice_id")).first()
        if _uuid(data.get("invoice_id"))
        else None
    )
    if invoice is None:
        raise NotFound("invoice")
    if data.get("reason") not in CreditNote.Reason.values:
        raise ValidationFailed({"reason": ["value_is_invalid"]})
    estimate = credit_note_estimate(invoice=invoice, items=data.get("items"), automatic=automatic)
    credit, refund, offset = _split(estimate, data)
    try:
        with transaction.atomic():
            sequence = _next_sequence(invoice)
            note = CreditNote.objects.create(
                invoice=invoice,
                customer=invoice.customer,
                sequential_id=sequence,
                number=f"{invoice.number}-CN{sequence}",
                reason=data["reason"],
                description=data.get("description") or "",
                currency=invoice.currency,
                credit_status=CreditNote.CreditStatus.AVAILABLE if credit else "",
                refund_status=CreditNote.RefundStatus.PENDING if refund else "",
                sub_total_excluding_taxes_amount_cents=estimate.sub_total,
                taxes_amount_cents=estimate.taxes,
                total_amount_cents=estimate.total,
                credit_amount_cents=credit,
                refund_amount_cents=refund,
                offset_amount_cents=offset,
                metadata=data.get("metadata") or {},
            )
    except IntegrityError as exc:
        raise RuleViolation(
            "credit_note_conflict", "Another credit note was made at once."
        ) from exc
    CreditNoteItem.objects.bulk_create(
        CreditNoteItem(credit_note=note, fee=fee, amount_cents=amount, taxes_amount_cents=taxes)
        for fee, amount, taxes in estimate.items
    )
    _settle_by_offset(invoice)
    _after_create(note)
    return note


def _settle_by_offset(invoice: Invoice) -> None:
    """An invoice whose remaining amount is fully offset is paid."""
    if invoice.payment_status == "succeeded":
        return
    if invoice_offset_cents(invoice) >= invoice.total_amount_cents:
        invoice.payment_status = Invoice.PaymentStatus.SUCCEEDED
        invoice.payment_overdue = False
        invoice.save(update_fields=["payment_status", "payment_overdue", "updated_at"])


def _after_create(note: CreditNote) -> None:
    from invoices.serializers import credit_note_json
    from webhooks.services import webhook_send

    webhook_send(
        webhook_type="credit_note.created", object_type="credit_note", data=credit_note_json(note)
    )
    if note.refund_amount_cents:
        from payments.tasks import refund_credit_note

        note_id = note.pk
        transaction.on_commit(lambda: refund_credit_note.delay(note_id))


def _uuid(value) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def credit_note_balance(note: CreditNote) -> int:
    """Credit still available: its credit amount minus what invoices consumed."""
    if note.credit_status in ("", CreditNote.CreditStatus.VOIDED):
        return 0
    used = note.applications.aggregate(total=Sum("amount_cents"))["total"] or 0
    return note.credit_amount_cents - used


@transaction.atomic
def credit_note_void(*, note: CreditNote) -> CreditNote:
    """Void the unused credit of a credit note (a used one cannot be voided)."""
    note = CreditNote.objects.select_for_update().get(pk=note.pk)
    if note.credit_status == CreditNote.CreditStatus.VOIDED:
        return note
    if note.applications.exists():
        raise RuleViolation("credit_note_used", "Part of this credit was already used.")
    if not note.credit_status:
        raise RuleViolation("no_credit_to_void", "This credit note has no credit to void.")
    note.credit_status, note.voided_at = CreditNote.CreditStatus.VOIDED, timezone.now()
    note.save(update_fields=["credit_status", "voided_at", "updated_at"])
    return note


def credit_notes_apply(*, invoice: Invoice, amount_due: int) -> int:
    """Consume the customer's available credit (oldest first, same currency) on an invoice
    being finalized, up to `amount_due`; returns what was taken. Idempotent per invoice."""
    done = invoice.credit_note_applications.aggregate(total=Sum("amount_cents"))["total"]
    if done is not None:
        return done
    if invoice.invoice_type not in ("subscription", "progressive_billing") or amount_due <= 0:
        return 0
    notes = CreditNote.objects.select_for_update().filter(
        customer=invoice.customer,
        currency=invoice.currency,
        credit_status=CreditNote.CreditStatus.AVAILABLE,
    )
    taken = 0
    for note in notes.order_by("created_at", "id"):
        amount = min(credit_note_balance(note), amount_due - taken)
        if amount <= 0:
            continue
        CreditNoteApplication.objects.create(credit_note=note, invoice=invoice, amount_cents=amount)
        taken += amount
        if credit_note_balance(note) == 0:
            note.credit_status = CreditNote.CreditStatus.CONSUMED
            note.save(update_fields=["credit_status", "updated_at"])
        if taken == amount_due:
            break
    return taken


@transaction.atomic
def credit_note_update(*, note: CreditNote, data: dict) -> CreditNote:
    """Metadata, and the refund status of a refund made outside the payment provider."""
    note = CreditNote.objects.select_for_update().get(pk=note.pk)
    fields = ["updated_at"]
    if isinstance(data.get("metadata"), dict):
        note.metadata, fields = data["metadata"], [*fields, "metadata"]
    status = data.get("refund_status")
    if status is not None:
        if status not in CreditNote.RefundStatus.values or not note.refund_amount_cents:
            raise ValidationFailed({"refund_status": ["value_is_invalid"]})
        note.refund_status, fields = status, [*fields, "refund_status"]
        if status == CreditNote.RefundStatus.SUCCEEDED:
            note.refunded_at, fields = timezone.now(), [*fields, "refunded_at"]
    note.save(update_fields=fields)
    return note
