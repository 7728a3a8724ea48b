"""Admin for webhook endpoints (derived secret shown read-only) and the delivery log."""

import json

from django.contrib import admin, messages
from django.shortcuts import redirect
from django.utils.html import format_html

from core.errors import BillingError
from webhooks.forms import WebhookEndpointForm
from webhooks.keys import public_key_pem
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.services import (
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_update,
    webhook_retry,
)
from webhooks.signing import endpoint_secret


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ["__str__", "webhook_url", "signature_algo", "subscribed", "is_active"]
    list_filter = ["is_active", "signature_algo"]
    search_fields = ["name", "webhook_url"]
    readonly_fields = ["lago_id", "signing_secret", "jwt_public_key", "created_at", "updated_at"]
    fields = [
        "name",
        "webhook_url",
        "signature_algo",
        "event_types",
        "is_active",
        *readonly_fields,
    ]

    @admin.display(description="event types")
    def subscribed(self, obj: WebhookEndpoint) -> str:
        return ", ".join(obj.event_types) if obj.event_types else "all"

    @admin.display(description="signing secret")
    def signing_secret(self, obj: WebhookEndpoint) -> str:
        """Derived from the server key, never stored: receivers verify X-Lago-Signature with it."""
        if obj is None or obj.pk is None:
            return "shown once the endpoint is saved"
        return format_html("<code>{}</code>", endpoint_secret(obj))

    @admin.display(description="jwt public key")
    def jwt_public_key(self, obj: WebhookEndpoint) -> str:
        """What a "jwt" receiver verifies with (also GET /api/v1/webhooks/json_public_key)."""
        if obj is None or obj.signature_algo != WebhookEndpoint.SignatureAlgo.JWT:
            return "used by jwt endpoints only"
        return format_html("<pre>{}</pre>", public_key_pem().decode("ascii"))

    def save_model(self, request, obj, form, change):
        data = {field: form.cleaned_data.get(field) for field in form.Meta.fields}
        if change:
            webhook_endpoint_update(endpoint=obj, data=data)
            return
        created = webhook_endpoint_create(data=data)
        obj.pk, obj.lago_id = created.pk, created.lago_id

    def get_deleted_objects(self, objs, request):
        """An endpoint's delivery log goes with it, though deliveries are not deletable alone."""
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        perms_needed.discard(WebhookDelivery._meta.verbose_name)
        return deleted, counts, perms_needed, protected

    def delete_model(self, request, obj):
        webhook_endpoint_delete(endpoint=obj)

    def delete_queryset(self, request, queryset):
        for endpoint in queryset:
            webhook_endpoint_delete(endpoint=endpoint)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except BillingError as exc:  # a concurrent change broke a rule after the form's check
            self.message_user(request, f"Not saved: {exc}", messages.ERROR)
            return redirect(request.get_full_path())


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "webhook_type",
        "endpoint",
        "status",
        "attempts",
        "last_response_code",
        "created_at",
    ]
    list_filter = ["status", "webhook_type"]
    search_fields = ["webhook_type", "endpoint__name", "endpoint__webhook_url"]
    list_select_related = ["endpoint"]
    date_hierarchy = "created_at"
    actions = ["retry_deliveries"]
    fields = [
        "lago_id",
        "endpoint",
        "webhook_type",
        "object_type",
        "status",
        "attempts",
        "last_response_code",
        "last_error",
        "next_attempt_at",
        "delivered_at",
        "created_at",
        "updated_at",
        "body",
    ]
    readonly_fields = fields

    @admin.display(description="payload")
    def body(self, obj: WebhookDelivery) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.payload, indent=2, sort_keys=True))

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # a log: only the retry action changes it

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_retry_permission(self, request) -> bool:
        return request.user.has_perm("webhooks.change_webhookdelivery")

    @admin.action(description="Retry selected deliveries", permissions=["retry"])
    def retry_deliveries(self, request, queryset):
        retried, skipped = 0, 0
        for delivery in queryset:
            try:
                webhook_retry(delivery=delivery)
            except BillingError:
                skipped += 1
                continue
            retried += 1
            self.log_change(request, delivery, "Retried")
        self.message_user(request, f"Retrying {retried} delivery(ies).", messages.SUCCESS)
        if skipped:
            self.message_user(request, f"Skipped {skipped} already delivered.", messages.WARNING)
