"""The taxes on a usage report (current, projected and past usage), computed as the invoice
computes them (`invoices/services/taxes.py`): per fee line (a charge's filter and pricing
group), the taxes named by the charge, else the plan, else the customer, else the
organization's defaults, else the automatic rules on the period's issuing date; each tax of
each line rounded half-up by the money helper (`taxes.selectors.tax_cents`), the report's
taxes the sum of those. What is estimated here is what the period's invoice charges on the
same usage (no coupons or credits: Lago's customer usage applies none either). The one
difference: the customer's VAT number is checked offline only, not with VIES, on a read."""

from datetime import date

from taxes.selectors import automatic_taxes, code_levels, fee_taxes, tax_cents, tax_context
from taxes.services import tax_id_verdict
from usage.reports import UsageReport


def usage_taxes_cents(report: UsageReport, issuing_date: date) -> int:
    subscription = report.subscription
    customer, plan = subscription.customer, subscription.plan
    lines = [line for usage in report.charges for line in usage.lines if line.amount_cents]
    if not lines:
        return 0
    verdict = tax_id_verdict(customer=customer, online=False)
    automatic = automatic_taxes(
        tax_context(customer=customer, on=issuing_date, tax_id_valid=verdict)
    )
    total = 0
    by_charge: dict[int, list] = {}
    for line in lines:
        charge = line.charge
        if charge.pk not in by_charge:
            levels = code_levels(
                charge=charge.tax_codes, plan=plan.tax_codes, customer=customer.tax_codes
            )
            by_charge[charge.pk] = fee_taxes(levels, automatic)
        total += sum(tax_cents(line.amount_cents, tax.rate) for tax in by_charge[charge.pk])
    return total
