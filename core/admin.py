"""Admin for API keys (raw key shown once, revoke action) and heartbeats; site branding."""

from django.contrib import admin, messages
from django.utils.html import format_html

from core import roles
from core.admin_base import ReadOnlyModelAdmin
from core.admin_forms import ConfirmedChangeForm
from core.exports import Exportable
from core.models import ApiKey, AuditEntry, BulkJob, FxRate, Heartbeat, Organization
from core.services import api_key_create, api_key_revoke


class ApiKeyForm(ConfirmedChangeForm):
    confirmation = "I understand: this key gives full access to the billing API."

    class Meta:
        model = ApiKey
        fields = ["name"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Creating a key is a billing admin's act (core.roles), confirmed explicitly."""

    list_display = ["name", "prefix", "status", "created_at", "created_by", "last_used_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix"]
    readonly_fields = ["prefix", "created_at", "created_by", "last_used_at", "revoked_at"]
    fields = ["name", *readonly_fields]
    actions = ["revoke_keys"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ApiKeyForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        return ["name", "confirm"] if obj is None else self.fields

    @admin.display(description="status")
    def status(self, obj: ApiKey) -> str:
        return "active" if obj.is_active else "revoked"

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # revoke instead: the row stays as a record of the key

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=["name"])
            return
        _, raw_key = api_key_create(
            name=obj.name, created_by=request.user.get_username(), instance=obj
        )
        self.message_user(
            request,
            format_html(
                "API key created. Copy it now, it is not shown again: <code>{}</code>", raw_key
            ),
            messages.WARNING,
        )

    @admin.action(description="Revoke selected API keys", permissions=["change"])
    def revoke_keys(self, request, queryset):
        for key in queryset:
            api_key_revoke(key=key)
            self.log_change(request, key, "Revoked")
        self.message_user(request, f"Revoked {queryset.count()} key(s).", messages.SUCCESS)


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ["name", "last_seen_at", "runs"]
    readonly_fields = ["name", "last_seen_at", "runs"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    """The seller profile: one row (also settable with `manage.py organization`)."""

    list_display = ["name", "country", "default_currency", "timezone", "invoice_prefix"]
    readonly_fields = ["created_at", "updated_at"]

    def has_add_permission(self, request) -> bool:
        return not Organization.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(FxRate)
class FxRateAdmin(admin.ModelAdmin):
    list_display = ["date", "base", "quote", "rate", "source"]
    list_filter = ["base", "quote", "source"]
    search_fields = ["base", "quote"]
    date_hierarchy = "date"


@admin.register(AuditEntry)
class AuditEntryAdmin(Exportable, ReadOnlyModelAdmin):
    export_fields = [
        "id",
        "at",
        "actor",
        "source",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "changes",
        "reason",
    ]
    """Read-only: the trail is written by the services, never edited."""

    list_display = ["at", "actor", "action", "object_type", "object_repr"]
    list_filter = ["source", "action", "object_type"]
    search_fields = ["actor", "object_id", "object_repr", "reason"]
    date_hierarchy = "at"
    readonly_fields = [f.name for f in AuditEntry._meta.fields]

    def has_export_permission(self, request) -> bool:
        return request.user.has_perm(roles.EXPORT_AUDIT)


@admin.register(BulkJob)
class BulkJobAdmin(ReadOnlyModelAdmin):
    """Progress of long actions; the page reloads itself every 2 seconds while one runs."""

    list_display = ["__str__", "status", "progress", "failed", "created_by", "created_at"]
    list_filter = ["kind", "status"]
    readonly_fields = [
        "kind",
        "target_id",
        "status",
        "progress",
        "total",
        "done",
        "failed",
        "errors",
        "created_by",
        "created_at",
        "finished_at",
    ]
    fields = readonly_fields
    change_form_template = "admin/core/bulkjob/change_form.html"

    @admin.display(description="progress")
    def progress(self, job: BulkJob) -> str:
        return f"{job.done + job.failed} / {job.total} ({job.percent} %)"

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.has_perm(roles.BULK_ACTIONS) or super().has_view_permission(
            request, obj
        )
