"""Admin forms for customers and subscriptions, validated by the services' rules."""

from django import forms

from customers.models import Customer, Subscription
from customers.services import (
    BILLING_CONFIGURATION_FIELDS,
    CUSTOMER_FIELDS,
    customer_errors,
)
from plans.models import Plan


def _apply(form: forms.Form, errors: dict) -> None:
    for field, codes in errors.items():
        target = field if field in form.fields else None
        form.add_error(target, f"{field}: {', '.join(codes)}")


class CustomerForm(forms.ModelForm):
    class Meta:
        model = Customer
        fields = ["external_id", *CUSTOMER_FIELDS, *BILLING_CONFIGURATION_FIELDS.values()]

    def clean(self):
        cleaned = super().clean()
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
