"""Admin form for webhook endpoints, validated by the services' rules."""

from django import forms

from webhooks.models import WebhookEndpoint
from webhooks.selectors import MAX_ENDPOINTS, endpoint_limit_reached
from webhooks.services import KNOWN_TYPES, webhook_endpoint_errors


class WebhookEndpointForm(forms.ModelForm):
    webhook_url = forms.URLField(max_length=1024, assume_scheme="https")
    event_types = forms.MultipleChoiceField(
        choices=[(name, name) for name in KNOWN_TYPES],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked = every event type.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["name", "webhook_url", "signature_algo", "event_types", "is_active"]

    def clean(self):
        """The API's rules (URL, types, limit), so the admin cannot store what the API refuses."""
        cleaned = super().clean()
        instance = self.instance if self.instance.pk else None
        data = {key: value for key, value in cleaned.items() if value is not None}
        for field, codes in webhook_endpoint_errors(data, instance=instance).items():
            if not self.has_error(field):  # the field's own error says it already
                self.add_error(field if field in self.fields else None, ", ".join(codes))
        if instance is None and endpoint_limit_reached():
            raise forms.ValidationError(f"At most {MAX_ENDPOINTS} webhook endpoints are allowed.")
        return cleaned
