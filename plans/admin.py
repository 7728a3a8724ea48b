"""Catalog admin: metrics with filters, plans with charges inline, charges with filters and a
pricing preview."""

from django.contrib import admin
from django.db.models import Count, Q

from core.money import from_minor_units
from plans.forms import BillableMetricForm, ChargeFilterForm, ChargeForm, PlanForm
from plans.models import (
    BillableMetric,
    BillableMetricFilter,
    Charge,
    ChargeFilter,
    Commitment,
    Plan,
    UsageThreshold,
)
from plans.selectors import charge_price_preview


class LiveFilter(admin.SimpleListFilter):
    title, parameter_name = "deleted", "deleted"

    def lookups(self, request, model_admin):
        return [("no", "live"), ("yes", "deleted")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(deleted_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(deleted_at__isnull=True)
        return queryset


class BillableMetricFilterInline(admin.TabularInline):
    model = BillableMetricFilter
    extra = 0
    fields = ["key", "values"]


@admin.register(BillableMetric)
class BillableMetricAdmin(admin.ModelAdmin):
    form = BillableMetricForm
    list_display = ["name", "code", "aggregation_type", "field_name", "recurring", "unit_cost"]
    list_filter = ["aggregation_type", "recurring", LiveFilter]
    search_fields = ["name", "code", "field_name"]
    inlines = [BillableMetricFilterInline]
    readonly_fields = ["lago_id", "created_at", "deleted_at"]


class ChargeInline(admin.StackedInline):
    model = Charge
    form = ChargeForm
    extra = 0
    show_change_link = True
    fieldsets = [
        (
            None,
            {
                "fields": [
                    ("billable_metric", "code", "charge_model"),
                    ("pay_in_advance", "invoiceable", "prorated"),
                    ("min_amount_cents", "invoice_display_name"),
                ]
            },
        ),
        (
            "Price",
            {
                "description": "Fill the fields of the chosen charge model.",
                "fields": [
                    ("amount", "package_size", "free_units"),
                    ("rate", "fixed_amount"),
                    ("free_units_per_events", "free_units_per_total_aggregation"),
                    ("per_transaction_min_amount", "per_transaction_max_amount"),
                    "ranges",
                    "pricing_group_keys",
                ],
            },
        ),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(deleted_at__isnull=True)


class CommitmentInline(admin.TabularInline):
    model = Commitment
    extra = 0
    fields = ["amount_cents", "invoice_display_name"]


class UsageThresholdInline(admin.TabularInline):
    model = UsageThreshold
    extra = 0
    fields = ["threshold_display_name", "amount_cents", "recurring"]


class OverrideFilter(admin.SimpleListFilter):
    title, parameter_name = "kind", "kind"

    def lookups(self, request, model_admin):
        return [("catalog", "catalog plans"), ("override", "subscription overrides")]

    def queryset(self, request, queryset):
        if self.value() == "catalog":
            return queryset.filter(parent__isnull=True)
        if self.value() == "override":
            return queryset.filter(parent__isnull=False)
        return queryset


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    form = PlanForm
    list_display = [
        "name",
        "code",
        "interval",
        "base_fee",
        "pay_in_advance",
        "charges_count",
        "active_subscriptions",
    ]
    list_filter = ["interval", "amount_currency", "pay_in_advance", OverrideFilter, LiveFilter]
    search_fields = ["name", "code"]
    list_select_related = ["parent"]
    inlines = [ChargeInline, CommitmentInline, UsageThresholdInline]
    readonly_fields = ["lago_id", "parent", "created_at", "deleted_at"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                live_charges=Count(
                    "charges", filter=Q(charges__deleted_at__isnull=True), distinct=True
                ),
                active_subs=Count(
                    "subscriptions", filter=Q(subscriptions__status="active"), distinct=True
                ),
            )
        )

    @admin.display(description="base fee")
    def base_fee(self, plan: Plan) -> str:
        amount = from_minor_units(plan.amount_cents, plan.amount_currency)
        return f"{amount} {plan.amount_currency}"

    @admin.display(description="charges", ordering="live_charges")
    def charges_count(self, plan: Plan) -> int:
        return plan.live_charges

    @admin.display(description="active subscriptions", ordering="active_subs")
    def active_subscriptions(self, plan: Plan) -> int:
        return plan.active_subs


class ChargeFilterInline(admin.StackedInline):
    model = ChargeFilter
    form = ChargeFilterForm
    extra = 0
    fields = [
        "values_text",
        "invoice_display_name",
        ("amount", "package_size", "free_units"),
        ("rate", "fixed_amount"),
        "ranges",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(deleted_at__isnull=True)


@admin.register(Charge)
class ChargeAdmin(admin.ModelAdmin):
    form = ChargeForm
    list_display = ["__str__", "plan", "code", "charge_model", "pay_in_advance", "min_amount_cents"]
    list_filter = ["charge_model", "pay_in_advance", LiveFilter]
    search_fields = ["code", "plan__code", "billable_metric__code"]
    list_select_related = ["plan", "billable_metric"]
    inlines = [ChargeFilterInline]
    fieldsets = ChargeInline.fieldsets
    change_form_template = "admin/plans/charge/change_form.html"

    def has_add_permission(self, request) -> bool:
        return False  # charges are added on their plan's page

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """Adds a read-only pricing preview: "what would N units cost?" (nothing saved)."""
        extra_context = extra_context or {}
        charge = self.get_object(request, object_id)
        raw_units = request.GET.get("preview_units", "")
        if charge is not None and raw_units:
            extra_context["preview"] = charge_price_preview(charge=charge, units=raw_units)
            extra_context["preview_units"] = raw_units
        return super().change_view(request, object_id, form_url, extra_context)
