"""Lago's InvoiceResponse, FeeResponse and CreditNoteResponse shapes."""

from decimal import Decimal

import orjson

from core.api.formats import decimal_str, iso, iso_date
from core.money import round_places
from core.selectors import organization_get
from invoices.models import Fee, Invoice
from invoices.selectors import invoice_due_cents, invoice_is_overdue
from taxes.models import Tax


def _precise(value) -> str:
    return format(value.normalize(), "f") if value is not None else "0"


def fee_json(fee: Fee) -> dict:
    charge = fee.charge
    subscription = fee.subscription
    return {
        "lago_id": str(fee.lago_id),
        "lago_charge_id": str(charge.lago_id) if charge else None,
        "lago_charge_filter_id": str(fee.charge_filter.lago_id) if fee.charge_filter else None,
        "lago_fixed_charge_id": str(fee.fixed_charge.lago_id) if fee.fixed_charge_id else None,
        "lago_invoice_id": str(fee.invoice.lago_id),
        "lago_true_up_parent_fee_id": (
            str(fee.true_up_parent.lago_id) if fee.true_up_parent_id else None
        ),
        "external_subscription_id": subscription.external_id if subscription else None,
        "lago_customer_id": str(fee.invoice.customer.lago_id),
        "external_customer_id": fee.invoice.customer.external_id,
        "amount_cents": fee.amount_cents,
        "amount_currency": fee.amount_currency,
        "precise_amount": _precise(fee.precise_amount),
        "precise_unit_amount": _precise(fee.precise_unit_amount),
        "taxes_amount_cents": fee.taxes_amount_cents,
        "taxes_rate": float(sum((t.tax_rate for t in fee.applied_taxes.all()), 0)),
        "total_amount_cents": fee.amount_cents + fee.taxes_amount_cents,
        "total_amount_currency": fee.amount_currency,
        # Its coupon share, which credit notes on the fee take back in proportion.
        "precise_coupons_amount_cents": _precise_cents(fee.precise_coupons_amount_cents),
        "sub_total_excluding_taxes_amount_cents": fee.amount_cents - fee.coupons_amount_cents,
        "sub_total_excluding_taxes_precise_amount_cents": _precise_cents(
            fee.amount_cents - Decimal(fee.precise_coupons_amount_cents)
        ),
        "payment_status": fee.invoice.payment_status,
        "units": decimal_str(fee.units),
        "total_aggregated_units": decimal_str(fee.total_aggregated_units),
        "events_count": fee.events_count,
        "description": fee.description or None,
        "pay_in_advance": fee.pay_in_advance,
        "invoiceable": True,
        "from_date": iso(fee.from_datetime),
        "to_date": iso(fee.to_datetime),
        "amount_details": fee.amount_details,
        "created_at": iso(fee.created_at),
        "item": {
            "type": fee.fee_type,
            "code": _item_code(fee),
            "name": fee.description,
            "invoice_display_name": fee.invoice_display_name or None,
            "filter_invoice_display_name": (
                fee.charge_filter.invoice_display_name or None if fee.charge_filter else None
            ),
            "filters": fee.charge_filter.values if fee.charge_filter else None,
            **_item(fee),
            "grouped_by": fee.grouped_by,
        },
        "applied_taxes": [
            {
                "lago_id": str(t.lago_id),
                "lago_fee_id": str(fee.lago_id),
                **_tax_reference(t.tax_code),
                "tax_name": t.tax_name,
                "tax_code": t.tax_code,
                "tax_rate": float(t.tax_rate),
                "amount_cents": t.amount_cents,
                "amount_currency": fee.amount_currency,
                "created_at": iso(t.created_at),
            }
            for t in fee.applied_taxes.all()
        ],
    }


def _item(fee: Fee) -> dict:
    """Lago's Fee#item_id/#item_type: the metric of a charge fee, the add-on of an add-on fee,
    the wallet transaction of a credit fee, the subscription otherwise."""
    if fee.charge_id:
        return {
            "lago_item_id": str(fee.charge.billable_metric.lago_id),
            "item_type": "BillableMetric",
        }
    if fee.fixed_charge_id:  # Lago: the fixed charge's add-on
        return {"lago_item_id": str(fee.fixed_charge.add_on.lago_id), "item_type": "AddOn"}
    if fee.fee_type == Fee.FeeType.ADD_ON:
        add_on_id = (fee.amount_details or {}).get("lago_add_on_id")
        return {"lago_item_id": add_on_id, "item_type": "AddOn"}
    if fee.fee_type == Fee.FeeType.CREDIT:
        from customers.models import WalletTransaction

        row = WalletTransaction.objects.filter(invoice_id=fee.invoice_id).order_by("pk").first()
        return {
            "lago_item_id": str(row.lago_id) if row else None,
            "item_type": "WalletTransaction",
        }
    subscription = fee.subscription
    return {
        "lago_item_id": str(subscription.lago_id) if subscription else None,
        "item_type": "Subscription",
    }


def _tax_reference(code: str) -> dict:
    """Lago's applied taxes name their tax (`lago_tax_id`, `tax_description`); a rate from the
    automatic rules (taxes/data) has no Tax row: null, as Lago's for a deleted tax."""
    tax = Tax.objects.filter(code=code).only("lago_id", "description").first()
    return {
        "lago_tax_id": str(tax.lago_id) if tax else None,
        "tax_description": (tax.description or None) if tax else None,
    }


def applied_taxes_json(invoice: Invoice) -> list[dict]:
    return [
        {
            "lago_id": str(t.lago_id),
            "lago_invoice_id": str(invoice.lago_id),
            "lago_tax_id": _tax_reference(t.tax_code)["lago_tax_id"],
            "tax_name": t.tax_name,
            "tax_code": t.tax_code,
            "tax_rate": float(t.tax_rate),
            "tax_description": t.mention or None,
            "amount_cents": t.amount_cents,
            "amount_currency": invoice.currency,
            "fees_amount_cents": t.fees_amount_cents,
            "created_at": iso(t.created_at),
        }
        for t in invoice.applied_taxes.all()
    ]


def _item_code(fee: Fee) -> str:
    if fee.charge_id:
        return fee.charge.billable_metric.code
    return (fee.amount_details or {}).get("add_on_code") or fee.fee_type


def _billing_periods(invoice: Invoice) -> list[dict]:
    return [
        {
            "lago_subscription_id": str(b.subscription.lago_id),
            "external_subscription_id": b.subscription.external_id,
            "lago_plan_id": str(b.subscription.plan.lago_id),
            "subscription_from_datetime": iso(b.from_datetime),
            "subscription_to_datetime": iso(b.to_datetime),
            "charges_from_datetime": iso(b.charges_from_datetime),
            "charges_to_datetime": iso(b.charges_to_datetime),
            "invoicing_reason": b.invoicing_reason,
        }
        for b in invoice.billings.all()
    ]


def invoice_json(invoice: Invoice, *, file_url: str | None = None, with_fees: bool = True) -> dict:
    """The invoice as Lago sends it; drafts carry the number PREFIX-DRAFT."""
    from customers.serializers import customer_json, subscription_json

    number = invoice.number or f"{organization_get().invoice_prefix}-DRAFT"
    data = {
        "lago_id": str(invoice.lago_id),
        "sequential_id": invoice.sequential_id,
        "number": number,
        "issuing_date": iso_date(invoice.issuing_date),
        "payment_due_date": iso_date(invoice.payment_due_date),
        "net_payment_term": invoice.net_payment_term,
        "invoice_type": invoice.invoice_type,
        "status": invoice.status,
        "payment_status": invoice.payment_status,
        "payment_overdue": invoice_is_overdue(invoice),
        "payment_dispute_lost_at": iso(invoice.payment_dispute_lost_at),
        "currency": invoice.currency,
        "fees_amount_cents": invoice.fees_amount_cents,
        "coupons_amount_cents": invoice.coupons_amount_cents,
        "credit_notes_amount_cents": invoice.credit_notes_amount_cents,
        "progressive_billing_credit_amount_cents": invoice.progressive_billing_credit_amount_cents,
        "sub_total_excluding_taxes_amount_cents": invoice.sub_total_excluding_taxes_amount_cents,
        "taxes_amount_cents": invoice.taxes_amount_cents,
        "sub_total_including_taxes_amount_cents": invoice.sub_total_including_taxes_amount_cents,
        "prepaid_credit_amount_cents": invoice.prepaid_credit_amount_cents,
        "total_amount_cents": invoice.total_amount_cents,
        "total_due_amount_cents": invoice_due_cents(invoice),
        "version_number": invoice.version_number,
        "file_url": file_url,
        "voided_at": iso(invoice.voided_at),
        "created_at": iso(invoice.created_at),
        "updated_at": iso(invoice.updated_at),
        "metadata": invoice.metadata,
        "customer": customer_json(invoice.customer),
        "billing_periods": _billing_periods(invoice),
        "subscriptions": [subscription_json(b.subscription) for b in invoice.billings.all()],
        "applied_taxes": applied_taxes_json(invoice),
        "tax_details": invoice.tax_details,
        "credits": [],
    }
    if with_fees:
        data["fees"] = [fee_json(fee) for fee in invoice.fees.all()]
    return data


def _precise_cents(value) -> str:
    """Lago's precise minor units as text: "1000.0", "100.5"."""
    text = format(Decimal(value).normalize(), "f")
    return text if "." in text else f"{text}.0"


def _json_number(value: Decimal) -> orjson.Fragment:
    """A Decimal as a JSON number with its exact digits (the spec wants a number; a float
    would not keep them). Only for responses rendered by the API's orjson renderer."""
    return orjson.Fragment(_precise_cents(value).encode())


def _tax_ids(codes) -> dict[str, str]:
    """lago_tax_id per code: the Tax object when the code names one (rule-based rates have
    none)."""
    return {
        code: str(lago_id)
        for code, lago_id in Tax.objects.filter(code__in=codes).values_list("code", "lago_id")
    }


def credit_note_applied_taxes_json(note) -> list[dict]:
    taxes = list(note.applied_taxes.all())
    ids = _tax_ids([t.tax_code for t in taxes])
    return [
        {
            "lago_id": str(t.lago_id),
            "lago_credit_note_id": str(note.lago_id),
            "lago_tax_id": ids.get(t.tax_code),
            "tax_name": t.tax_name,
            "tax_code": t.tax_code,
            "tax_rate": float(t.tax_rate),
            "tax_description": t.tax_description or None,
            "base_amount_cents": t.base_amount_cents,
            "amount_cents": t.amount_cents,
            "amount_currency": note.currency,
            "created_at": iso(t.created_at),
        }
        for t in taxes
    ]


def credit_note_json(note) -> dict:
    """Lago's CreditNoteResponse (V1::CreditNoteSerializer), items and applied taxes included.
    Precise amounts are unrounded minor units as text, like Lago's."""
    from customers.serializers import customer_json
    from invoices.services.credit_notes import credit_note_balance

    items = list(note.items.select_related("fee__invoice__customer"))
    precise_total = (
        sum((item.precise_amount_cents for item in items), Decimal(0))
        - note.precise_coupons_adjustment_amount_cents
        + note.precise_taxes_amount_cents
    )
    return {
        "lago_id": str(note.lago_id),
        "sequential_id": note.sequential_id,
        "number": note.number,
        "lago_invoice_id": str(note.invoice.lago_id),
        "invoice_number": note.invoice.number,
        "issuing_date": iso_date(note.created_at.date()),
        "credit_status": note.credit_status or None,
        "refund_status": note.refund_status or None,
        "reason": note.reason,
        "description": note.description or None,
        "currency": note.currency,
        "total_amount_cents": note.total_amount_cents,
        "precise_total_amount_cents": _precise_cents(precise_total),
        "taxes_amount_cents": note.taxes_amount_cents,
        "precise_taxes_amount_cents": _precise_cents(note.precise_taxes_amount_cents),
        "taxes_rate": float(note.taxes_rate),
        "sub_total_excluding_taxes_amount_cents": note.sub_total_excluding_taxes_amount_cents,
        "balance_amount_cents": credit_note_balance(note),
        "credit_amount_cents": note.credit_amount_cents,
        "refund_amount_cents": note.refund_amount_cents,
        "offset_amount_cents": note.offset_amount_cents,
        "coupons_adjustment_amount_cents": note.coupons_adjustment_amount_cents,
        "precise_coupons_adjustment_amount_cents": _precise_cents(
            note.precise_coupons_adjustment_amount_cents
        ),
        "created_at": iso(note.created_at),
        "updated_at": iso(note.updated_at),
        "file_url": None,
        "xml_url": None,
        "self_billed": False,
        "metadata": note.metadata,
        "items": [
            {
                "lago_id": str(item.lago_id),
                "amount_cents": item.amount_cents,
                "precise_amount_cents": _precise_cents(item.precise_amount_cents),
                "amount_currency": note.currency,
                "fee": fee_json(item.fee),
            }
            for item in items
        ],
        "applied_taxes": credit_note_applied_taxes_json(note),
        "customer": customer_json(note.customer),
    }


def credit_note_estimate_json(estimate) -> dict:
    """Lago's CreditNoteEstimatedResponse (V1::CreditNotes::EstimateSerializer): the amounts
    credit_note_create would store for these items; max_creditable is the note's total."""
    invoice = estimate.invoice
    ids = _tax_ids([tax.code for tax in estimate.applied_taxes])
    return {
        "lago_invoice_id": str(invoice.lago_id),
        "invoice_number": invoice.number,
        "currency": invoice.currency,
        "taxes_amount_cents": estimate.taxes,
        "precise_taxes_amount_cents": _json_number(round_places(estimate.precise_taxes)),
        "taxes_rate": float(estimate.taxes_rate),
        "sub_total_excluding_taxes_amount_cents": estimate.sub_total_excluding_taxes,
        "max_creditable_amount_cents": estimate.total,
        "max_refundable_amount_cents": estimate.max_refundable,
        "max_offsettable_amount_cents": estimate.max_offsettable,
        "coupons_adjustment_amount_cents": estimate.coupons_adjustment,
        "precise_coupons_adjustment_amount_cents": _json_number(
            round_places(estimate.precise_coupons_adjustment)
        ),
        "items": [
            {"lago_fee_id": str(item.fee.lago_id), "amount_cents": item.amount_cents}
            for item in estimate.items
        ],
        "applied_taxes": [
            {
                "lago_tax_id": ids.get(tax.code),
                "tax_name": tax.name,
                "tax_code": tax.code,
                "tax_rate": float(tax.rate),
                "tax_description": tax.description,  # a string in the spec, "" if none
                "base_amount_cents": tax.base_amount_cents,
                "amount_cents": tax.amount_cents,
                "amount_currency": invoice.currency,
            }
            for tax in estimate.applied_taxes
        ],
    }
