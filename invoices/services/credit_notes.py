"""Credit notes: give back part of a finalized invoice as credit (consumed by the customer's
next invoices, before prepaid credits), a refund (through the payment provider) or an offset of
what is still owed on it.

The arithmetic is Lago's (app/services/credit_notes/{estimate,create,apply_taxes,validate,
validate_item,adjust_amounts_with_rounding}_service.rb; docs/architecture.md, "Deductions"):

- an item is an amount of one fee **before coupons and taxes**, at most what is left of the fee
  (what its invoice billed of it — its amount less a progressive-billing share, which belongs
  to the progressive invoice — minus the items of earlier credit notes);
- its coupon share is fee.precise_coupons_amount_cents * item / that billed base, unrounded; the
  note's coupons adjustment is their sum (rounded once for coupons_adjustment_amount_cents);
- each tax of the credited fees applies to Σ (item - its coupon share) of the items it taxed,
  unrounded; the note's taxes are their sum rounded once (each applied tax rounded on its own);
  the note that credits what is left of the whole invoice first takes back the rounding of the
  earlier notes' taxes (Σ taxes - precise taxes);
- sub_total_excluding_taxes = round(Σ items - coupons adjustment); total = that + taxes;
- credit + refund + offset must be that total; like Lago, one minor unit off is accepted and
  absorbed by the first non-zero part (credit, else refund, else offset), so that what is stored
  always satisfies total = sub_total_excluding_taxes + taxes = credit + refund + offset.

Python interface (used by the API, the admin and automatic credit notes):

- credit_note_estimate(*, invoice, items, automatic=False) -> Estimate
- credit_note_create(*, data, automatic=False) -> CreditNote
"""

import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from core import display, hooks
from core.errors import NotFound, RuleViolation, ValidationFailed
from core.locks import lock_one
from core.money import round_minor_units, round_places
from core.validation import Errors, check_item_metadata
from invoices.models import (
    CreditNote,
    CreditNoteApplication,
    CreditNoteAppliedTax,
    CreditNoteItem,
    Fee,
    Invoice,
)

Status = Invoice.Status
SPLIT_KEYS = ("credit_amount_cents", "refund_amount_cents", "offset_amount_cents")


@dataclass(frozen=True)
class EstimateItem:
    """One credited fee: the amount as given (minor units, before coupons) and its coupon share."""

    fee: Fee
    precise_amount: Decimal
    precise_coupons: Decimal

    @property
    def amount_cents(self) -> int:
        return round_minor_units(self.precise_amount)

    @property
    def precise_net(self) -> Decimal:
        """What taxes apply to: the item net of its share of the fee's coupons."""
        return self.precise_amount - self.precise_coupons


@dataclass(frozen=True)
class EstimateTax:
    """One tax of the credit note, on the items of the fees it taxed (Lago's applied tax)."""

    code: str
    name: str
    rate: Decimal
    description: str
    precise_base: Decimal

    @property
    def precise_amount(self) -> Decimal:
        return self.precise_base * self.rate / 100

    @property
    def base_amount_cents(self) -> int:
        return round_minor_units(self.precise_base)

    @property
    def amount_cents(self) -> int:
        return round_minor_units(self.precise_amount)


@dataclass(frozen=True)
class Estimate:
    """A credit note's amounts before it exists; what credit_note_create stores, and what
    POST /credit_notes/estimate answers. Integer amounts are minor units; precise ones are
    unrounded minor units.

    - sub_total: Σ items as given (before coupons and taxes)
    - coupons_adjustment / precise_coupons_adjustment: the items' share of the fees' coupons
    - sub_total_excluding_taxes: round(Σ items - precise coupons adjustment)
    - taxes / precise_taxes (after the last-note correction), taxes_rate (effective, percent)
    - total: sub_total_excluding_taxes + taxes = what credit + refund + offset must equal
    - max_refundable / max_offsettable: how much of the total may be refunded / offset now
    """

    invoice: Invoice
    items: tuple[EstimateItem, ...]
    applied_taxes: tuple[EstimateTax, ...]
    precise_coupons_adjustment: Decimal
    precise_taxes: Decimal
    taxes_rate: Decimal
    refundable: int  # of the invoice, whatever this note's total
    offsettable: int

    @property
    def precise_sub_total(self) -> Decimal:
        return sum((item.precise_amount for item in self.items), Decimal(0))

    @property
    def sub_total(self) -> int:
        return sum(item.amount_cents for item in self.items)

    @property
    def coupons_adjustment(self) -> int:
        return round_minor_units(self.precise_coupons_adjustment)

    @property
    def sub_total_excluding_taxes(self) -> int:
        return round_minor_units(self.precise_sub_total - self.precise_coupons_adjustment)

    @property
    def taxes(self) -> int:
        return round_minor_units(self.precise_taxes)

    @property
    def total(self) -> int:
        return self.sub_total_excluding_taxes + self.taxes

    @property
    def precise_total(self) -> Decimal:
        return self.precise_sub_total - self.precise_coupons_adjustment + self.precise_taxes

    @property
    def max_refundable(self) -> int:
        return max(min(self.total, self.refundable), 0)

    @property
    def max_offsettable(self) -> int:
        return max(min(self.total, self.offsettable), 0)


# --- what is left to credit -------------------------------------------------------------------


def fee_billed_cents(fee: Fee) -> int:
    """What the fee's own invoice billed of it, before coupons and taxes: its amount less the
    usage a progressive invoice billed (and taxed) already. That part is credited on the
    progressive invoice, never twice; coupons and taxes of the fee apply to this base."""
    invoice = fee.invoice
    if invoice.progressive_billing_credit_amount_cents <= 0:
        return fee.amount_cents
    from invoices.services.progressive import progressive_credit_shares  # (same app; cycle)

    return fee.amount_cents - progressive_credit_shares(invoice).get(fee.pk, 0)


def fee_creditable_cents(fee: Fee) -> int:
    """What is left to credit on a fee, before coupons and taxes: what its invoice billed of it
    minus the items of every earlier credit note (Lago: a voided note's items stay credited)."""
    credited = fee.credit_note_items.aggregate(total=Sum("amount_cents"))["total"] or 0
    return fee_billed_cents(fee) - credited


def _notes_sum(invoice: Invoice, field: str) -> int:
    return invoice.credit_notes.aggregate(total=Sum(field))["total"] or 0


def invoice_paid_cents(invoice: Invoice) -> int:
    """What the customer paid on the invoice (all of it once it is paid, nothing before)."""
    if invoice.payment_status != Invoice.PaymentStatus.SUCCEEDED:
        return 0
    return invoice.total_amount_cents


def invoice_refundable_cents(invoice: Invoice) -> int:
    """What was paid and not yet refunded by a credit note."""
    return invoice_paid_cents(invoice) - _notes_sum(invoice, "refund_amount_cents")


def invoice_offset_cents(invoice: Invoice) -> int:
    """What credit notes took off the amount still owed on an invoice."""
    return _notes_sum(invoice, "offset_amount_cents")


def invoice_offsettable_cents(invoice: Invoice) -> int:
    """What is still owed on the invoice and not yet offset."""
    owed = invoice.total_amount_cents - invoice_paid_cents(invoice)
    return owed - invoice_offset_cents(invoice)


def _fees_total_cents(invoice: Invoice) -> int:
    """Lago's fee_total_amount_cents: the fees and their taxes at the fees' rates, before
    coupons; the loose upper bound of everything credit notes may give back on the invoice."""
    fees = list(invoice.fees.prefetch_related("applied_taxes"))
    taxes = sum(
        (fee.amount_cents * sum((t.tax_rate for t in fee.applied_taxes.all()), Decimal(0)))
        for fee in fees
    )
    return sum(fee.amount_cents for fee in fees) + round_minor_units(Decimal(taxes) / 100)


# --- the estimate -----------------------------------------------------------------------------


def _check_invoice(invoice: Invoice, automatic: bool) -> None:
    """Finalized invoices only; a manual note also needs something billed on it."""
    if invoice.status != Status.FINALIZED or (not automatic and invoice.total_amount_cents <= 0):
        raise RuleViolation("invoice_not_creditable", "Only a finalized invoice with a total.")


def _precise_amount(value) -> Decimal:
    """An item amount in minor units: an integer (the API), or a Decimal from Python callers
    (e.g. the unused days of a fee), kept to Lago's 5 decimals. None is 0, like Lago."""
    if value is None:
        return Decimal(0)
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise ValidationFailed({"amount_cents": ["invalid_value"]})
    if isinstance(value, Decimal) and not value.is_finite():  # before `< 0`: NaN cannot compare
        raise ValidationFailed({"amount_cents": ["invalid_value"]})
    if value < 0:
        raise ValidationFailed({"amount_cents": ["invalid_value"]})
    return round_places(Decimal(value))


def _coupon_share(fee: Fee, precise_amount: Decimal) -> Decimal:
    """The item's share of the fee's coupons, in proportion to what the fee's invoice billed of
    it (its amount, less a progressive-billing share), unrounded."""
    billed = fee_billed_cents(fee)
    if billed <= 0:
        return Decimal(0)
    return Decimal(fee.precise_coupons_amount_cents) * precise_amount / billed


def _item(fee: Fee, amount) -> EstimateItem:
    precise = _precise_amount(amount)
    return EstimateItem(fee, precise, _coupon_share(fee, precise))


def _items(invoice: Invoice, items) -> tuple[EstimateItem, ...]:
    """Lago's ValidateItemService, item by item, stopping at the first bad one: a fee of this
    invoice (else 404 fee_not_found), an amount ≥ 0, at most what is left of the fee (items of
    the same fee in one request add up)."""
    if not isinstance(items, list):
        raise ValidationFailed({"items": ["must_be_an_array"]})
    fees = {str(fee.lago_id): fee for fee in invoice.fees.prefetch_related("applied_taxes")}
    left: dict[int, int] = {}
    parsed = []
    for item in items:
        fee = fees.get(str(item.get("fee_id"))) if isinstance(item, dict) else None
        if fee is None:
            raise NotFound("fee")
        line = _item(fee, item.get("amount_cents"))
        remaining = left.setdefault(fee.pk, fee_creditable_cents(fee))
        if line.amount_cents > remaining:
            raise ValidationFailed({"amount_cents": ["higher_than_remaining_fee_amount"]})
        left[fee.pk] = remaining - line.amount_cents
        parsed.append(line)
    return tuple(parsed)


def _taxes(invoice: Invoice, items: tuple[EstimateItem, ...]) -> tuple[EstimateTax, ...]:
    """Per tax code of the credited fees (Lago's ApplyTaxesService): base = Σ net items it
    taxed, at the rate the invoice applied; the description is the invoice's mention."""
    bases: dict[str, list] = {}
    for item in items:
        for tax in item.fee.applied_taxes.all():
            entry = bases.setdefault(tax.tax_code, [tax.tax_name, tax.tax_rate, Decimal(0)])
            entry[2] += item.precise_net
    mentions = {t.tax_code: t.mention for t in invoice.applied_taxes.all()}
    return tuple(
        EstimateTax(code, name, Decimal(rate), mentions.get(code, ""), base)
        for code, (name, rate, base) in sorted(bases.items())
    )


def _taxes_rate(taxes: tuple[EstimateTax, ...], precise_net: Decimal) -> Decimal:
    """The effective rate: each tax's rate weighted by the share of the net items it taxed."""
    if not precise_net:
        return Decimal(0)
    rate = sum((tax.precise_base / precise_net * tax.rate for tax in taxes), Decimal(0))
    return round_places(rate)


def _taxes_rounding_taken_back(invoice: Invoice, items: tuple[EstimateItem, ...]) -> Decimal:
    """When this note credits everything left on the invoice, the earlier notes' tax rounding
    (Σ taxes - precise taxes), so that all notes together give back the precise taxes."""
    left = sum(fee_creditable_cents(fee) for fee in invoice.fees.all())
    if left <= 0 or left != sum(item.amount_cents for item in items):
        return Decimal(0)
    notes = invoice.credit_notes.aggregate(
        taxes=Sum("taxes_amount_cents"), precise=Sum("precise_taxes_amount_cents")
    )
    return Decimal(notes["taxes"] or 0) - Decimal(notes["precise"] or 0)


def credit_note_estimate(*, invoice: Invoice, items: list, automatic: bool = False) -> Estimate:
    """The amounts of a credit note on `invoice` for `items`, Lago's request items
    [{"fee_id": <fee lago_id>, "amount_cents": <int, or Decimal from Python>}], each an amount
    of the fee before coupons and taxes. Raises NotFound("fee"), ValidationFailed
    ({"amount_cents": [...]}, {"items": [...]}) or RuleViolation (invoice not creditable;
    `automatic` notes only need a finalized invoice). Nothing is written."""
    _check_invoice(invoice, automatic)
    lines = _items(invoice, items)
    taxes = _taxes(invoice, lines)
    precise_coupons = sum((line.precise_coupons for line in lines), Decimal(0))
    precise_taxes = sum((tax.precise_amount for tax in taxes), Decimal(0))
    precise_net = sum((line.precise_amount for line in lines), Decimal(0)) - precise_coupons
    return Estimate(
        invoice=invoice,
        items=lines,
        applied_taxes=taxes,
        precise_coupons_adjustment=precise_coupons,
        precise_taxes=precise_taxes - _taxes_rounding_taken_back(invoice, lines),
        taxes_rate=_taxes_rate(taxes, precise_net),
        refundable=invoice_refundable_cents(invoice),
        offsettable=invoice_offsettable_cents(invoice),
    )


# --- the split into credit / refund / offset --------------------------------------------------


def _given_split(estimate: Estimate, data: dict) -> tuple[int, int, int]:
    """The amounts asked for; none at all means everything as credit (not Lago's: it refuses
    a note without amounts)."""
    given = {key: data.get(key) for key in SPLIT_KEYS if data.get(key) is not None}
    if not given:
        return estimate.total, 0, 0
    errors = Errors()
    for key, value in given.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            errors.add(key, "value_is_invalid")
    if errors:
        raise ValidationFailed(errors)
    credit, refund, offset = (given.get(key, 0) for key in SPLIT_KEYS)
    return credit, refund, offset


def _absorb_last_cent(total: int, credit: int, refund: int, offset: int) -> tuple[int, int, int]:
    """Lago's AdjustAmountsWithRoundingService: the amounts may be one minor unit off the total
    (the requester rounded the precise total, or the parts, differently); the first non-zero
    part takes the difference."""
    parts = [credit, refund, offset]
    difference = total - sum(parts)
    for index, part in enumerate(parts):
        if part > 0:
            parts[index] = part + difference
            break
    return parts[0], parts[1], parts[2]


def _split_errors(estimate: Estimate, credit: int, refund: int, offset: int) -> Errors:
    """Lago's ValidateService on the amounts to store (field, code as Lago)."""
    invoice, errors = estimate.invoice, Errors()
    total = credit + refund + offset
    fees_total = _fees_total_cents(invoice)
    earlier = {key: _notes_sum(invoice, key) for key in SPLIT_KEYS}
    creditable = fees_total - earlier["credit_amount_cents"] - earlier["offset_amount_cents"]
    if refund and invoice_paid_cents(invoice) <= 0:
        errors.add("refund_amount_cents", "cannot_refund_unpaid_invoice")
    elif refund > estimate.refundable:
        errors.add("refund_amount_cents", "higher_than_remaining_invoice_amount")
    if credit > creditable + 1:  # Lago tolerates one minor unit on these bounds
        errors.add("credit_amount_cents", "higher_than_remaining_invoice_amount")
    if offset and offset > min(estimate.offsettable, creditable):
        errors.add("offset_amount_cents", "higher_than_remaining_invoice_amount")
    if total > fees_total - sum(earlier.values()) + 1:
        errors.add("base", "higher_than_remaining_invoice_amount")
    return errors


def credit_note_split(estimate: Estimate, data: dict) -> tuple[int, int, int]:
    """(credit, refund, offset) to store for a request: they must add up to the estimate's
    total (one minor unit off is absorbed), within what is left to credit, refund (paid and
    not refunded) and offset (owed and not offset)."""
    credit, refund, offset = _given_split(estimate, data)
    requested = credit + refund + offset
    if requested <= 0:
        raise ValidationFailed({"base": ["total_amount_must_be_positive"]})
    if abs(requested - estimate.total) > 1:
        raise ValidationFailed({"base": ["does_not_match_item_amounts"]})
    credit, refund, offset = _absorb_last_cent(estimate.total, credit, refund, offset)
    errors = _split_errors(estimate, credit, refund, offset)
    if errors:
        raise ValidationFailed(errors)
    return credit, refund, offset


# --- create -----------------------------------------------------------------------------------


def _next_sequence(invoice: Invoice) -> int:
    last = invoice.credit_notes.order_by("-sequential_id").values_list("sequential_id", flat=True)
    return (last.first() or 0) + 1


def _locked_invoice(invoice_id) -> Invoice:
    invoice = (
        Invoice.objects.select_for_update().filter(lago_id=invoice_id).first()
        if _uuid(invoice_id)
        else None
    )
    if invoice is None:
        raise NotFound("invoice")
    return invoice


def _reason(data: dict) -> str:
    """Lago: no reason is `other`; an unknown one is refused."""
    reason = data.get("reason") or CreditNote.Reason.OTHER
    if reason not in CreditNote.Reason.values:
        raise ValidationFailed({"reason": ["value_is_invalid"]})
    return reason


def _check_operator_limit(invoice: Invoice, total: int) -> None:
    """A billing operator gives back at most CREDIT_NOTE_OPERATOR_LIMIT_CENTS per invoice, over
    all the notes they issue on it (so the limit cannot be split over several notes). A voided
    note's credit no longer counts; its refund and offset do (that money went). Runs under the
    invoice's row lock, so two notes issued at once cannot both pass."""
    notes = invoice.credit_notes.filter(issued_by_operator=True)
    given = sum(
        note.total_amount_cents
        if note.voided_at is None
        else note.refund_amount_cents + note.offset_amount_cents
        for note in notes
    )
    limit = settings.CREDIT_NOTE_OPERATOR_LIMIT_CENTS
    if given + total > limit:
        left = max(limit - given, 0)
        raise RuleViolation(
            "credit_note_above_limit",
            f"Above {display.money(limit, invoice.currency)} on this "
            f"invoice ({display.money(left, invoice.currency)} left): a billing admin "
            "issues it.",
        )


@transaction.atomic
def credit_note_create(
    *, data: dict, automatic: bool = False, by_operator: bool = False
) -> CreditNote:
    """Lago's POST /credit_notes body (without its root): invoice_id, reason (default other),
    description, items [{fee_id, amount_cents}] (amounts of the fees before coupons and
    taxes), credit_amount_cents / refund_amount_cents / offset_amount_cents (together the
    estimate's total, ± 1 minor unit; all as credit when none is given), metadata.

    `automatic=True` (or data["automatic"] is True; the API never passes it) is for notes the
    system issues, e.g. the unused days of an in-advance base fee at a termination or upgrade:
    it marks the note automatic and only requires the invoice to be finalized. Item amounts
    may then be Decimals (precise minor units). The invoice is locked while the note is made;
    a refund is sent to the payment provider after commit.

    `by_operator=True` (a billing operator in the admin) holds the note to the operator's
    cumulative limit on the invoice (_check_operator_limit) and marks it as counting toward it."""
    automatic = automatic or data.get("automatic") is True
    invoice = _locked_invoice(data.get("invoice_id"))
    reason = _reason(data)
    estimate = credit_note_estimate(invoice=invoice, items=data.get("items"), automatic=automatic)
    split = credit_note_split(estimate, data)
    if by_operator:
        _check_operator_limit(invoice, estimate.total)
    note = _store(estimate, data, reason, split, automatic, by_operator)
    _settle_by_offset(invoice)
    _after_create(note)
    return note


def _store(
    estimate: Estimate,
    data: dict,
    reason: str,
    split: tuple[int, int, int],
    automatic: bool,
    by_operator: bool = False,
) -> CreditNote:
    credit, refund, offset = split
    invoice = estimate.invoice
    try:
        with transaction.atomic():
            sequence = _next_sequence(invoice)
            note = CreditNote.objects.create(
                invoice=invoice,
                customer=invoice.customer,
                sequential_id=sequence,
                number=f"{invoice.number}-CN{sequence}",
                reason=reason,
                description=data.get("description") or "",
                currency=invoice.currency,
                credit_status=CreditNote.CreditStatus.AVAILABLE if credit else "",
                refund_status=CreditNote.RefundStatus.PENDING if refund else "",
                sub_total_excluding_taxes_amount_cents=estimate.sub_total_excluding_taxes,
                coupons_adjustment_amount_cents=estimate.coupons_adjustment,
                precise_coupons_adjustment_amount_cents=round_places(
                    estimate.precise_coupons_adjustment
                ),
                taxes_amount_cents=estimate.taxes,
                precise_taxes_amount_cents=round_places(estimate.precise_taxes),
                taxes_rate=estimate.taxes_rate,
                total_amount_cents=estimate.total,
                credit_amount_cents=credit,
                refund_amount_cents=refund,
                offset_amount_cents=offset,
                automatic=automatic,
                issued_by_operator=by_operator,
                metadata=data.get("metadata") or {},
            )
    except IntegrityError as exc:
        raise RuleViolation(
            "credit_note_conflict", "Another credit note was made at once."
        ) from exc
    _store_lines(note, estimate)
    return note


def _store_lines(note: CreditNote, estimate: Estimate) -> None:
    CreditNoteItem.objects.bulk_create(
        CreditNoteItem(
            credit_note=note,
            fee=item.fee,
            amount_cents=item.amount_cents,
            precise_amount_cents=item.precise_amount,
        )
        for item in estimate.items
    )
    CreditNoteAppliedTax.objects.bulk_create(
        CreditNoteAppliedTax(
            credit_note=note,
            tax_code=tax.code,
            tax_name=tax.name,
            tax_rate=tax.rate,
            tax_description=tax.description,
            base_amount_cents=tax.base_amount_cents,
            amount_cents=tax.amount_cents,
        )
        for tax in estimate.applied_taxes
    )


def _settle_by_offset(invoice: Invoice) -> None:
    """An invoice whose remaining amount is fully offset is paid."""
    if invoice.payment_status == "succeeded":
        return
    if invoice_offset_cents(invoice) >= invoice.total_amount_cents:
        invoice.payment_status = Invoice.PaymentStatus.SUCCEEDED
        invoice.payment_status_changed_at = timezone.now()
        invoice.payment_overdue = False
        fields = ["payment_status", "payment_status_changed_at", "payment_overdue", "updated_at"]
        invoice.save(update_fields=fields)


def _after_create(note: CreditNote) -> None:
    from invoices.serializers import credit_note_json
    from webhooks.services import webhook_send

    webhook_send(
        webhook_type="credit_note.created", object_type="credit_note", data=credit_note_json(note)
    )
    if note.refund_amount_cents:
        hooks.run("credit_note.refund_due", credit_note=note)


def _uuid(value) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def credit_note_invoice(invoice_id) -> Invoice:
    """The invoice a credit-note request names (404 invoice_not_found otherwise)."""
    invoice = Invoice.objects.filter(lago_id=invoice_id).first() if _uuid(invoice_id) else None
    if invoice is None:
        raise NotFound("invoice")
    return invoice


# --- balance, void, consumption, update -------------------------------------------------------


def credit_note_balance(note: CreditNote) -> int:
    """Credit still available: its credit amount minus what invoices consumed."""
    if note.credit_status in ("", CreditNote.CreditStatus.VOIDED):
        return 0
    used = note.applications.aggregate(total=Sum("amount_cents"))["total"] or 0
    return note.credit_amount_cents - used


@transaction.atomic
def credit_note_void(*, note: CreditNote) -> CreditNote:
    """Void the unused credit of a credit note (a used one cannot be voided)."""
    note = lock_one(CreditNote, note.pk)
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
    note = lock_one(CreditNote, note.pk)
    fields = ["updated_at"]
    if isinstance(data.get("metadata"), dict):
        if check_item_metadata(data["metadata"]):
            raise ValidationFailed({"metadata": ["invalid_format"]})
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


@transaction.atomic
def credit_note_metadata_set(
    *, note: CreditNote, metadata: dict | None, merge: bool = False, key: str | None = None
) -> CreditNote:
    """Lago's /credit_notes/{id}/metadata: replace, merge (`merge`), clear (None) or remove
    one `key`. Keys are strings up to 100 characters, values null or strings up to 255."""
    note = lock_one(CreditNote, note.pk)
    if metadata is None:
        note.metadata = {k: v for k, v in note.metadata.items() if key is not None and k != key}
    else:
        if check_item_metadata(metadata):
            raise ValidationFailed({"metadata": ["invalid_format"]})
        note.metadata = {**note.metadata, **metadata} if merge else dict(metadata)
    note.save(update_fields=["metadata", "updated_at"])
    return note
