"""Usage alerts in the admin, for finance staff: the alerts (read-only: they are managed
through the API, whose validation they need) with their thresholds, and every triggered alert
with what it crossed."""

from django.contrib import admin
from django.utils.html import format_html_join

from core.admin_base import ReadOnlyModelAdmin
from customers.models import TriggeredAlert, UsageAlert, UsageAlertThreshold


class ThresholdInline(admin.TabularInline):
    model = UsageAlertThreshold
    extra = 0
    fields = ["code", "value", "recurring"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(UsageAlert)
class UsageAlertAdmin(ReadOnlyModelAdmin):
    list_display = [
        "code",
        "name",
        "alert_type",
        "target",
        "billable_metric",
        "thresholds_list",
        "previous_value",
        "last_processed_at",
        "live",
    ]
    list_filter = ["alert_type", "direction", ("deleted_at", admin.EmptyFieldListFilter)]
    search_fields = ["code", "name", "subscription_external_id", "wallet__code", "=lago_id"]
    list_select_related = ["wallet__customer", "billable_metric"]
    inlines = [ThresholdInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("thresholds")

    @admin.display(description="subscription or wallet")
    def target(self, alert: UsageAlert) -> str:
        if alert.wallet_id:
            return f"wallet {alert.wallet.code} of {alert.wallet.customer.external_id}"
        return f"subscription {alert.subscription_external_id}"

    @admin.display(description="thresholds")
    def thresholds_list(self, alert: UsageAlert) -> str:
        return ", ".join(
            f"{t.value.normalize():f}{' (recurring)' if t.recurring else ''}"
            for t in sorted(alert.thresholds.all(), key=lambda t: (t.recurring, t.value))
        )

    @admin.display(boolean=True, description="live")
    def live(self, alert: UsageAlert) -> bool:
        return alert.deleted_at is None


@admin.register(TriggeredAlert)
class TriggeredAlertAdmin(ReadOnlyModelAdmin):
    list_display = [
        "triggered_at",
        "alert_code",
        "alert_type",
        "customer",
        "target",
        "previous_value",
        "current_value",
        "crossed",
    ]
    list_filter = ["alert__alert_type"]
    search_fields = [
        "alert__code",
        "alert__subscription_external_id",
        "subscription__customer__external_id",
        "wallet__customer__external_id",
        "=lago_id",
    ]
    list_select_related = ["alert", "subscription__customer", "wallet__customer"]
    date_hierarchy = "triggered_at"

    @admin.display(description="alert", ordering="alert__code")
    def alert_code(self, triggered: TriggeredAlert) -> str:
        return triggered.alert.code

    @admin.display(description="type")
    def alert_type(self, triggered: TriggeredAlert) -> str:
        return triggered.alert.alert_type

    @admin.display(description="customer")
    def customer(self, triggered: TriggeredAlert) -> str:
        owner = triggered.subscription or triggered.wallet
        return owner.customer.external_id if owner else ""

    @admin.display(description="subscription or wallet")
    def target(self, triggered: TriggeredAlert) -> str:
        if triggered.wallet_id:
            return f"wallet {triggered.wallet.code}"
        return f"subscription {triggered.alert.subscription_external_id}"

    @admin.display(description="crossed thresholds")
    def crossed(self, triggered: TriggeredAlert) -> str:
        return format_html_join(
            ", ",
            "{}{}",
            (
                (t["value"], " (recurring)" if t["recurring"] else "")
                for t in triggered.crossed_thresholds
            ),
        )
