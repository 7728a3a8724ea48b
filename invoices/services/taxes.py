"""Tax application at finalization: for each fee, the taxes that apply (explicit codes by
precedence, else the automatic rules in force on the issuing date), each computed on the fee net
of its progressive-billing credit and coupon share and rounded per fee and rate by the money
helper; the invoice breakdown per rate is the exact sum of those."""

from collections import defaultdict

from invoices.models import AppliedTax, Fee, FeeAppliedTax, Invoice
from invoices.services.progressive import progressive_credit_shares
from taxes.selectors import (
    TaxLine,
    automatic_taxes,
    code_levels,
    fee_taxes,
    tax_cents,
    tax_context,
)
from taxes.services import tax_id_verdict


def _add_on_codes(fee: Fee) -> list[str]:
    code = (fee.amount_details or {}).get("add_on_code")
    if not code:
        return []
    from plans.models import AddOn

    add_on = AddOn.objects.filter(code=code).first()
    return list(add_on.tax_codes) if add_on else []


def _plan_codes(fee: Fee) -> list[str]:
    if fee.subscription is None:
        return []
    plan = fee.subscription.plan
    if fee.fee_type == Fee.FeeType.COMMITMENT:
        commitment = getattr(plan, "minimum_commitment", None)
        if commitment is not None and commitment.tax_codes:
            return list(commitment.tax_codes)
    return list(plan.tax_codes or [])


def fee_code_levels(fee: Fee, invoice: Invoice) -> list[list[str]]:
    """Explicit tax codes, most specific first: fee, add-on, charge, plan, customer."""
    return code_levels(
        fee=(fee.amount_details or {}).get("tax_codes"),
        add_on=_add_on_codes(fee),
        charge=fee.charge.tax_codes if fee.charge_id else (),
        plan=_plan_codes(fee),
        customer=invoice.customer.tax_codes,
    )


def taxes_apply(*, invoice: Invoice) -> int:
    """(Re)compute every fee's taxes and the invoice breakdown; returns the invoice's taxes."""
    if invoice.invoice_type == Invoice.InvoiceType.CREDIT:
        return 0  # buying prepaid credits is not a taxable supply here (Lago: no tax)
    AppliedTax.objects.filter(invoice=invoice).delete()
    FeeAppliedTax.objects.filter(fee__invoice=invoice).delete()
    verdict = tax_id_verdict(customer=invoice.customer)  # may ask VIES: before the selector
    context = tax_context(customer=invoice.customer, on=invoice.issuing_date, tax_id_valid=verdict)
    automatic = automatic_taxes(context)
    credited = progressive_credit_shares(invoice)  # usage already taxed when billed
    breakdown: dict[tuple, list] = defaultdict(lambda: [0, 0, ""])
    total = 0
    for fee in invoice.fees.select_related("charge", "subscription__plan"):
        lines: list[TaxLine] = fee_taxes(fee_code_levels(fee, invoice), automatic)
        base = fee.amount_cents - credited[fee.pk] - fee.coupons_amount_cents
        fee.taxes_amount_cents = 0
        for line in lines:
            amount = tax_cents(base, line.rate)
            FeeAppliedTax.objects.create(
                fee=fee,
                tax_code=line.code,
                tax_name=line.name,
                tax_rate=line.rate,
                base_amount_cents=base,
                amount_cents=amount,
            )
            fee.taxes_amount_cents += amount
            entry = breakdown[(line.code, line.name, line.rate)]
            entry[0] += base
            entry[1] += amount
            entry[2] = line.mention
        fee.save(update_fields=["taxes_amount_cents"])
        total += fee.taxes_amount_cents
    for (code, name, rate), (base, amount, mention) in sorted(breakdown.items()):
        AppliedTax.objects.create(
            invoice=invoice,
            tax_code=code,
            tax_name=name,
            tax_rate=rate,
            fees_amount_cents=base,
            amount_cents=amount,
            mention=mention,
        )
    invoice.tax_details = {
        "customer_tax_id": context.tax_id or None,
        "customer_tax_id_valid": context.tax_id_valid,
        # what the invoice applied: explicit tax codes may override the automatic rules
        "reverse_charge": any(code == "vat_reverse_charge" for code, _, _ in breakdown),
        "notes": _notes(context),
    }
    return total


def _notes(context) -> list[str]:
    if context.tax_id and context.tax_id_valid is False:
        return [f"The VAT number {context.tax_id} is not valid; VAT was charged."]
    return []
