"""Events in the admin: read-only, filterable, with unmatched events one click away."""

from datetime import UTC

from django.contrib import admin
from django.core.paginator import Paginator
from django.utils.dateparse import parse_datetime
from django.utils.functional import cached_property

from core import display
from core.exports import Exportable
from usage.models import Event
from usage.selectors import readable_events


class EstimatedCountPaginator(Paginator):
    """The events table can hold billions of rows: never COUNT(*) it for the page links."""

    @cached_property
    def count(self) -> int:
        return 1_000_000_000


class SubscriptionFilter(admin.SimpleListFilter):
    """Events of one subscription (the invoice page's drill-down links here). No list of every
    subscription: the table is too large to ask; the value comes from a link or the search."""

    title, parameter_name = "subscription", "external_subscription_id"

    def lookups(self, request, model_admin):
        value = self.value()
        return [(value, value)] if value else []

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(external_subscription_id=self.value())
        return queryset


class TimestampRangeFilter(admin.DateFieldListFilter):
    """Django's ranges of the event's timestamp, plus the one a link asked for (a fee's period,
    [from, to))."""

    def choices(self, changelist):
        choices = list(super().choices(changelist))
        since = self.date_params.get(self.lookup_kwarg_since)
        until = self.date_params.get(self.lookup_kwarg_until)
        if (since or until) and not any(choice["selected"] for choice in choices):
            choices.append(
                {
                    "selected": True,
                    "query_string": changelist.get_query_string(),
                    "display": f"{_moment(since)} → {_moment(until)}",
                }
            )
        return choices


def _moment(text: str | None) -> str:
    moment = parse_datetime(text or "")
    if moment is None:
        return text or "…"
    return f"{moment.astimezone(UTC) if moment.tzinfo else moment:%Y-%m-%d %H:%M} UTC"


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
        "quantity",
        "error_code",
        "already_billed",
        "created_at",
    ]
    list_filter = [
        SubscriptionFilter,
        "code",
        ("timestamp", TimestampRangeFilter),
        "error_code",
        "already_billed",
    ]
    search_fields = ["=transaction_id", "=external_subscription_id"]
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    list_per_page = 50
    ordering = ["-created_at"]
    readonly_fields = [field.name for field in Event._meta.fields]

    @admin.display(description="value", ordering="value")
    def quantity(self, event: Event) -> str:
        """The value without the 12 stored decimals (7000, not 7000.000000000000)."""
        return display.units(event.value)

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        """One subscription's events (a drill-down from an invoice's fee) are counted for
        real: the (subscription, code, timestamp) index serves it. The whole table is not."""
        if request.GET.get("external_subscription_id"):
            return Paginator(queryset, per_page, orphans, allow_empty_first_page)
        return super().get_paginator(request, queryset, per_page, orphans, allow_empty_first_page)

    def get_queryset(self, request):
        return readable_events()  # a 1 BC timestamp stored long ago cannot be read back

    def has_add_permission(self, request) -> bool:
        return False  # events arrive through the API or import_events

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # append-only
