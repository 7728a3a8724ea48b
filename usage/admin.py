"""Events in the admin: read-only, filterable, with unmatched events one click away."""

from django.contrib import admin
from django.core.paginator import Paginator
from django.utils.functional import cached_property

from core.exports import Exportable
from usage.models import Event
from usage.selectors import readable_events


class EstimatedCountPaginator(Paginator):
    """The events table can hold billions of rows: never COUNT(*) it for the page links."""

    @cached_property
    def count(self) -> int:
        return 1_000_000_000


@admin.register(Event)
class EventAdmin(Exportable, admin.ModelAdmin):
    export_fields = [
        "transaction_id",
        "external_subscription_id",
        "code",
        "timestamp",
        "properties",
        "error_code",
    ]
    list_display = [
        "transaction_id",
        "external_subscription_id",
        "code",
        "timestamp",
        "value",
        "error_code",
        "already_billed",
        "created_at",
    ]
    list_filter = ["error_code", "already_billed", "code"]
    search_fields = ["=transaction_id", "=external_subscription_id"]
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    list_per_page = 50
    ordering = ["-created_at"]
    readonly_fields = [field.name for field in Event._meta.fields]

    def get_queryset(self, request):
        return readable_events()  # a 1 BC timestamp stored long ago cannot be read back

    def has_add_permission(self, request) -> bool:
        return False  # events arrive through the API or import_events

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # append-only
