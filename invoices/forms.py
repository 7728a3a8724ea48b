"""Admin form for issuing a credit note: an amount per fee (before coupons and taxes, as in
Lago's API) and the refund / offset parts (the rest is credit)."""

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
    offset_amount_cents = forms.IntegerField(
        min_value=0,
        required=False,
        help_text="Part taken off what is still owed (minor units, unpaid invoices only).",
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
                help_text="minor units, before coupons and taxes",
            )

    def items(self) -> list[dict]:
        return [
            {"fee_id": name.removeprefix("fee_"), "amount_cents": value}
            for name, value in self.cleaned_data.items()
            if name.startswith("fee_") and value
        ]

    def payload(self, total: int) -> dict:
        """The credit_note_create request; `total` is the estimate's (what the parts make)."""
        data = {
            "invoice_id": str(self.invoice.lago_id),
            "reason": self.cleaned_data["reason"],
            "description": self.cleaned_data.get("description") or "",
            "items": self.items(),
        }
        refund = self.cleaned_data.get("refund_amount_cents") or 0
        offset = self.cleaned_data.get("offset_amount_cents") or 0
        if refund or offset:
            data |= {
                "refund_amount_cents": refund,
                "offset_amount_cents": offset,
                "credit_amount_cents": max(total - refund - offset, 0),
            }
        return data
