"""Admin forms for customers and subscriptions, validated by the services' rules."""

from django import forms

from customers.models import Customer, Subscription
from customers.services import (
    BILLING_CONFIGURATION_FIELDS,
    CUSTOMER_FIELDS,
    customer_errors,
)
from plans.models import Plan
from taxes.models import Tax

SHIPPING_PARTS = ("address_line1", "address_line2", "city", "state", "zipcode", "country")


def _apply(form: forms.Form, errors: dict) -> None:
    for field, codes in errors.items():
        target = field if field in form.fields else None
        form.add_error(target, f"{field}: {', '.join(codes)}")


class CustomerForm(forms.ModelForm):
    """The customer's details as fields, not JSON: the shipping address part by part and the
    tax codes picked from the taxes that exist."""

    tax_codes = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Taxes applied to this customer's invoices, over the organization's default.",
    )

    shipping_address_line1 = forms.CharField(required=False, label="address line 1")
    shipping_address_line2 = forms.CharField(required=False, label="address line 2")
    shipping_city = forms.CharField(required=False, label="city")
    shipping_state = forms.CharField(required=False, label="state")
    shipping_zipcode = forms.CharField(required=False, label="zip code")
    shipping_country = forms.CharField(required=False, max_length=2, label="country")

    class Meta:
        model = Customer
        fields = ["external_id", *CUSTOMER_FIELDS, *BILLING_CONFIGURATION_FIELDS.values()]
        widgets = {"shipping_address": forms.HiddenInput}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        codes = list(Tax.objects.order_by("code").values_list("code", "name"))
        current = list(self.instance.tax_codes or []) if self.instance.pk else []
        known = {code for code, _ in codes}
        self.fields["tax_codes"].choices = [(c, f"{n} ({c})") for c, n in codes] + [
            (c, c) for c in current if c not in known
        ]
        self.fields["tax_codes"].initial = current
        if "shipping_address" in self.fields:
            self.fields["shipping_address"].required = False
            shipping = (self.instance.shipping_address or {}) if self.instance.pk else {}
            for part in SHIPPING_PARTS:
                if f"shipping_{part}" in self.fields:
                    self.fields[f"shipping_{part}"].initial = shipping.get(part) or ""

    def clean(self):
        cleaned = super().clean()
        if "shipping_address" in self.fields:
            parts = {
                part: (cleaned.get(f"shipping_{part}") or "").strip() for part in SHIPPING_PARTS
            }
            cleaned["shipping_address"] = {k: v for k, v in parts.items() if v}
        cleaned["tax_codes"] = list(cleaned.get("tax_codes") or [])
        flat = {k: v for k, v in cleaned.items() if v not in (None, "")}
        for key in ("country", "currency"):
            if isinstance(flat.get(key), str):
                flat[key] = cleaned[key] = flat[key].upper()
        instance = self.instance if self.instance.pk else None
        _apply(self, customer_errors(flat, instance=instance))
        return cleaned


class SubscriptionCreateForm(forms.ModelForm):
    """Subscribing from the admin goes through subscription_create, like the API."""

    plan = forms.ModelChoiceField(queryset=Plan.objects.live().filter(parent__isnull=True))
    customer = forms.ModelChoiceField(queryset=Customer.objects.live())

    class Meta:
        model = Subscription
        fields = ["customer", "plan", "external_id", "name", "billing_time", "subscription_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["subscription_at"].required = False
        self.fields["subscription_at"].help_text = "Empty = now. A future date stays pending."


class ChangePlanForm(forms.Form):
    plan = forms.ModelChoiceField(
        queryset=Plan.objects.live().filter(parent__isnull=True),
        help_text="An equal or higher yearly price is an upgrade (now); lower is a downgrade "
        "(at the end of the current period).",
    )


class TerminateForm(forms.Form):
    """Lago's termination choices; the unused-days one only for a base fee paid in advance."""

    on_termination_invoice = forms.ChoiceField(
        label="Closing invoice",
        choices=[("generate", "issue it"), ("skip", "none")],
        help_text="Bill the base fee in arrears and the usage not invoiced yet, or nothing.",
    )
    on_termination_credit_note = forms.ChoiceField(
        label="Unused days paid in advance",
        choices=Subscription.OnTerminationCreditNote.choices,
        help_text="A credit note for the days after today that the advance fee paid for.",
    )

    def __init__(self, *args, subscription: Subscription, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["on_termination_invoice"].initial = subscription.on_termination_invoice
        credit_note = self.fields["on_termination_credit_note"]
        credit_note.initial = subscription.on_termination_credit_note or "credit"
        if not subscription.plan.pay_in_advance:
            del self.fields["on_termination_credit_note"]
