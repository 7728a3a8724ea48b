"""Admin form for issuing a credit note: an amount per fee and the credit/refund split."""

from django import forms

from core.money import from_minor_units
from invoices.models import CreditNote, Invoice
from invoices.services.credit_notes import fee_creditable_cents


class CreditNoteForm(forms.Form):
    reason = forms.ChoiceField(choices=CreditNote.Reason.choices)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    refund_amount_cents = forms.IntegerField(
        min_value=0,
        required=False,
        help_text="Part refunded (minor units, paid invoices only); the rest is credit.",
    )

    def __init__(self, *args, invoice: Invoice, **kwargs):
        super().__init__(*args, **kwargs)
        self.invoice = invoice
        for fee in invoice.fees.all():
            left = fee_creditable_cents(fee)
            self.fields[f"fee_{fee.lago_id}"] = forms.IntegerField(
                label=f"{fee} (up to {from_minor_units(left, fee.amount_currency)})",
                min_value=0,
                max_value=max(left, 0),
                required=False,
                help_text="minor units",
            )

    def items(self) -> list[dict]:
        return [
            {"fee_id": name.removeprefix("fee_"), "amount_cents": value}
            for name, value in self.cleaned_data.items()
            if name.startswith("fee_") and value
        ]

    def payload(self, total: int | None = None) -> dict:
        data = {
            "invoice_id": str(self.invoice.lago_id),
            "reason": self.cleaned_data["reason"],
            "description": self.cleaned_data.get("description") or "",
            "items": self.items(),
        }
        refund = self.cleaned_data.get("refund_amount_cents") or 0
        if refund:
            from invoices.services.credit_notes import credit_note_estimate

            total = credit_note_estimate(invoice=self.invoice, items=data["items"]).total
            data |= {"refund_amount_cents": refund, "credit_amount_cents": max(total - refund, 0)}
        return data
