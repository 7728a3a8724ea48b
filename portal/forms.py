"""Portal forms: labels translated, errors from the services' reason codes."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.utils.translation import gettext_lazy as _

from portal.models import PortalAccount
from portal.services import BILLING_FIELDS

REASONS = {
    "invalid_format": _("This is not a valid value."),
    "invalid_vat_number": _("This VAT number is not valid for the country."),
    "value_is_invalid": _("This is not a valid value."),
    "value_is_out_of_range": _("This amount is out of the allowed range."),
    "value_is_mandatory": _("This field is required."),
    "country_code_invalid": _("Use a two-letter country code, e.g. FR."),
}


def add_reasons(form: forms.Form, errors: dict, rename: dict | None = None) -> None:
    """Put a service's {field: [reason codes]} on the form's fields."""
    for key, codes in errors.items():
        name = (rename or {}).get(key, key)
        target = name if name in form.fields else None
        for code in codes:
            form.add_error(target, REASONS.get(code, _("This value was refused (%s).") % code))


class LoginForm(AuthenticationForm):
    """E-mail and password; only portal users get in (the same message for anyone else)."""

    username = forms.EmailField(
        label=_("E-mail"), widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    error_messages = {
        "invalid_login": _("Wrong e-mail or password."),
        "inactive": _("This login is disabled."),
    }

    def clean_username(self):
        return self.cleaned_data["username"].strip().lower()

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if not PortalAccount.objects.filter(user=user).exists():
            raise self.get_invalid_login_error()


class OtpForm(forms.Form):
    code = forms.CharField(
        label=_("Code from your authenticator app"),
        max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class PortalPasswordResetForm(PasswordResetForm):
    """Reset e-mails go to portal users only (staff reset theirs elsewhere)."""

    def get_users(self, email):
        return [
            user
            for user in super().get_users(email)
            if PortalAccount.objects.filter(user=user).exists()
        ]


class BillingDetailsForm(forms.Form):
    email = forms.CharField(label=_("Billing e-mail"), max_length=1024, required=False)
    legal_name = forms.CharField(label=_("Legal name"), max_length=255, required=False)
    tax_identification_number = forms.CharField(
        label=_("Tax ID (VAT number)"), max_length=255, required=False
    )
    address_line1 = forms.CharField(label=_("Address"), max_length=255, required=False)
    address_line2 = forms.CharField(label=_("Address (line 2)"), max_length=255, required=False)
    city = forms.CharField(label=_("City"), max_length=255, required=False)
    zipcode = forms.CharField(label=_("Postal code"), max_length=64, required=False)
    state = forms.CharField(label=_("State or region"), max_length=255, required=False)
    country = forms.CharField(label=_("Country (two letters)"), max_length=2, required=False)

    @classmethod
    def for_customer(cls, customer):
        return cls(initial={key: getattr(customer, key) for key in BILLING_FIELDS})


class TopUpForm(forms.Form):
    credits = forms.DecimalField(
        label=_("Credits to buy"), min_value=0, max_digits=30, decimal_places=5
    )
