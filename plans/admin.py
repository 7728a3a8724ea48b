"""Catalog admin: metrics with filters, plans with charges inline, charges with filters and a
pricing preview; add-ons; coupons and applied coupons. The coupon's "apply to a customer" page
picks a customer, so customers/admin_coupons.py adds it to CouponAdmin."""

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q, Sum
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from core import display
from plans.addons import ADD_ON_FIELDS, add_on_delete, add_on_errors
from plans.coupons import (
    COUPON_FIELDS,
    EDITABLE_WHEN_APPLIED,
    LIMIT_FIELDS,
    applied_coupon_terminate,
    coupon_delete,
    coupon_errors,
    coupon_normalise,
    coupon_state,
    coupon_terminate,
)
from plans.forms import BillableMetricForm, ChargeFilterForm, ChargeForm, PlanForm, apply_errors
from plans.models import (
    AddOn,
    AppliedCoupon,
    BillableMetric,
    BillableMetricFilter,
    Charge,
    ChargeFilter,
    Commitment,
    Coupon,
    CouponApplication,
    CouponFrequency,
    CouponType,
    Feature,
    Plan,
    PlanEntitlement,
    Privilege,
    UsageThreshold,
)
from plans.selectors import charge_price_preview
from plans.services import plan_delete


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
    list_display = [
        "name",
        "code",
        "aggregation_type",
        "field_name",
        "expression",
        "recurring",
        "unit_cost",
    ]
    list_filter = ["aggregation_type", "recurring", LiveFilter]
    search_fields = ["name", "code", "field_name", "expression"]
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


class ReadOnlyInline:
    """Entitlements are written through the API's services (Lago's rules): shown, not edited."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class PlanEntitlementInline(ReadOnlyInline, admin.TabularInline):
    model = PlanEntitlement
    fields = readonly_fields = ["feature", "privilege_values"]
    verbose_name, verbose_name_plural = "entitlement", "entitlements (features granted)"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("feature")

    @admin.display(description="privileges")
    def privilege_values(self, entitlement: PlanEntitlement) -> str:
        values = entitlement.values.select_related("privilege")
        return ", ".join(f"{v.privilege.code} = {v.value}" for v in values) or "—"


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
    readonly_fields = [
        "lago_id",
        "parent",
        "created_at",
        "pending_deletion",
        "deleted_at",
        "fixed_charges_list",
    ]
    actions = ["delete_plans"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # deletion terminates subscriptions: the action below, as a job

    @admin.display(description="fixed charges")
    def fixed_charges_list(self, plan: Plan) -> str:
        """Read here; written through the API (/plans/{code}/fixed_charges or the plan's
        `fixed_charges`), whose service validates the properties."""
        rows = (
            [
                (f.code, f.add_on.name, f.charge_model, f.properties, f.units, f.pay_in_advance)
                for f in plan.fixed_charges.live().select_related("add_on")
            ]
            if plan.pk
            else []
        )
        if not rows:
            return "—"
        head = format_html_join(
            "",
            "<th>{}</th>",
            [(t,) for t in ("code", "add-on", "model", "properties", "units", "in advance")],
        )
        body = format_html_join("", "<tr>" + "<td>{}</td>" * 6 + "</tr>", rows)
        return format_html("<table><tr>{}</tr>{}</table>", head, body)

    def get_inlines(self, request, obj):
        """The entitlements are shown on an existing plan's page; read-only, they are no part
        of the submitted form (so a save needs no management form for them)."""
        if obj is not None and request.method == "GET":
            return [*self.inlines, PlanEntitlementInline]
        return self.inlines

    @admin.action(description="Delete the plans (terminate and bill their subscriptions)")
    def delete_plans(self, request, queryset):
        """The path of DELETE /plans/{code}: each plan marked, a job per plan does the rest."""
        plans = queryset.filter(deleted_at__isnull=True, parent__isnull=True)
        marked = [plan_delete(plan=p, created_by=request.user.get_username()) for p in plans]
        self.message_user(
            request,
            f"{len(marked)} plan(s) pending deletion; follow their jobs under Bulk jobs.",
            messages.SUCCESS,
        )
        return redirect(reverse("admin:core_bulkjob_changelist") + "?kind=delete_plan")

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
        return display.money(plan.amount_cents, plan.amount_currency)

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
    list_display = ["__str__", "plan", "code", "charge_model", "pay_in_advance", "minimum"]
    list_filter = ["charge_model", "pay_in_advance", LiveFilter]

    @admin.display(description="minimum", ordering="min_amount_cents")
    def minimum(self, charge: Charge) -> str:
        return display.money(charge.min_amount_cents, charge.plan.amount_currency)

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


# --- add-ons and coupons ---------------------------------------------------------------------


def coupon_terms(terms: Coupon | AppliedCoupon, coupon_type: str) -> str:
    """Terms as listed: 25.00 USD, once / 12.5 %, 3 invoices."""
    if coupon_type == CouponType.FIXED_AMOUNT:
        value = display.money(terms.amount_cents, terms.amount_currency)
    else:
        value = display.rate(terms.percentage_rate)
    if terms.frequency == CouponFrequency.RECURRING:
        return f"{value}, {terms.frequency_duration} invoices"
    return f"{value}, {terms.frequency}"


class AddOnForm(forms.ModelForm):
    class Meta:
        model = AddOn
        fields = list(ADD_ON_FIELDS)

    def clean(self):
        cleaned = super().clean()
        cleaned["tax_codes"] = cleaned.get("tax_codes") or []
        if isinstance(cleaned.get("amount_currency"), str):
            cleaned["amount_currency"] = cleaned["amount_currency"].upper()
        instance = self.instance if self.instance.pk else None
        apply_errors(self, add_on_errors(dict(cleaned), instance=instance))
        return cleaned


@admin.register(AddOn)
class AddOnAdmin(admin.ModelAdmin):
    form = AddOnForm
    list_display = ["name", "code", "price", "invoice_display_name", "created_at"]
    list_filter = ["amount_currency", LiveFilter]
    search_fields = ["name", "code", "description"]
    readonly_fields = ["lago_id", "created_at", "updated_at", "deleted_at"]
    actions = ["soft_delete"]

    @admin.display(description="price", ordering="amount_cents")
    def price(self, add_on: AddOn) -> str:
        return display.money(add_on.amount_cents, add_on.amount_currency)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # soft delete (action) keeps the code's history

    @admin.action(description="Delete selected add-ons (their code is free again)")
    def soft_delete(self, request, queryset):
        for add_on in queryset.filter(deleted_at__isnull=True):
            add_on_delete(add_on=add_on)
            self.log_change(request, add_on, "Deleted (soft)")
        self.message_user(request, "Deleted.", messages.SUCCESS)


class CouponForm(forms.ModelForm):
    """Validated by the API's rules (plans.coupons.coupon_errors) on the merged state."""

    class Meta:
        model = Coupon
        fields = [*COUPON_FIELDS, *LIMIT_FIELDS]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "plans" in self.fields:
            self.fields["plans"].queryset = Plan.objects.live().filter(parent__isnull=True)
            self.fields["plans"].help_text = "Limit to these plans, or to metrics, not both."
        if "billable_metrics" in self.fields:
            self.fields["billable_metrics"].queryset = BillableMetric.objects.live()

    def clean(self):
        cleaned = super().clean()
        instance = self.instance if self.instance.pk else None
        state = coupon_state(instance) if instance else {}
        changes = {key: value for key, value in cleaned.items() if key in self.fields}
        for field in LIMIT_FIELDS:
            if field in changes:
                changes[field] = list(changes[field] or [])
        data = coupon_normalise({**state, **changes})
        apply_errors(self, coupon_errors(data, instance=instance), {"applies_to": "plans"})
        cleaned.update({key: data[key] for key in changes if key in data})
        return cleaned


class CouponStatusFilter(admin.SimpleListFilter):
    title, parameter_name = "status", "status"

    def lookups(self, request, model_admin):
        return [("active", "active"), ("terminated", "terminated")]

    def queryset(self, request, queryset):
        if self.value() in ("active", "terminated"):
            return queryset.filter(terminated_at__isnull=self.value() == "active")
        return queryset


@admin.register(Coupon)
class CouponAdmin(admin.ModelAdmin):
    form = CouponForm
    list_display = [
        "name",
        "code",
        "coupon_type",
        "terms",
        "reusable",
        "expiration_at",
        "customers",
        "status",
    ]
    list_filter = [
        "coupon_type",
        "frequency",
        "reusable",
        "expiration",
        CouponStatusFilter,
        LiveFilter,
    ]
    search_fields = ["name", "code", "description"]
    filter_horizontal = ["plans", "billable_metrics"]
    readonly_fields = ["lago_id", "created_at", "terminated_at", "deleted_at"]
    actions = ["terminate", "delete_and_end"]

    def get_queryset(self, request):
        active = Count("applied_coupons", filter=Q(applied_coupons__status="active"))
        return super().get_queryset(request).annotate(active_customers=active)

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and (obj.terminated_at or obj.applied_coupons.exists()):
            locked = [f for f in CouponForm.Meta.fields if f not in EDITABLE_WHEN_APPLIED]
            return [*self.readonly_fields, *locked]
        return self.readonly_fields

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # customers' applied coupons point to it

    @admin.display(description="terms")
    def terms(self, coupon: Coupon) -> str:
        return coupon_terms(coupon, coupon.coupon_type)

    @admin.display(description="customers (active)", ordering="active_customers")
    def customers(self, coupon: Coupon) -> int:
        return coupon.active_customers

    @admin.display(description="status")
    def status(self, coupon: Coupon) -> str:
        return "terminated" if coupon.terminated_at else "active"

    @admin.action(description="Terminate selected coupons (customers who have them keep them)")
    def terminate(self, request, queryset):
        for coupon in queryset.filter(terminated_at__isnull=True):
            coupon_terminate(coupon=coupon)
            self.log_change(request, coupon, "Terminated")
        self.message_user(request, "Terminated.", messages.SUCCESS)

    @admin.action(description="Delete selected coupons (and end them for every customer)")
    def delete_and_end(self, request, queryset):
        for coupon in queryset.filter(deleted_at__isnull=True):
            coupon_delete(coupon=coupon)
            self.log_change(request, coupon, "Deleted (soft); applied coupons terminated")
        self.message_user(request, "Deleted.", messages.SUCCESS)


class CouponApplicationInline(admin.TabularInline):
    model = CouponApplication
    extra = 0
    can_delete = False
    fields = ["invoice", "amount_cents", "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AppliedCoupon)
class AppliedCouponAdmin(admin.ModelAdmin):
    list_display = [
        "coupon",
        "customer",
        "status",
        "terms",
        "remaining",
        "used",
        "created_at",
        "terminated_at",
    ]
    list_filter = ["status", "frequency", "coupon"]
    search_fields = ["customer__external_id", "customer__name", "coupon__code", "=lago_id"]
    list_select_related = ["customer", "coupon"]
    inlines = [CouponApplicationInline]
    readonly_fields = [
        "lago_id",
        "coupon",
        "customer",
        "status",
        "terms",
        "remaining",
        "used",
        "amount_cents",
        "amount_currency",
        "percentage_rate",
        "frequency",
        "frequency_duration",
        "amount_cents_remaining",
        "frequency_duration_remaining",
        "created_at",
        "terminated_at",
    ]
    fields = readonly_fields
    actions = ["terminate"]

    def get_queryset(self, request):
        used = Sum("applications__amount_cents")
        return super().get_queryset(request).annotate(used_cents=used)

    def has_add_permission(self, request) -> bool:
        return False  # applied from the coupon's page ("Apply to a customer") or the API

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="terms")
    def terms(self, applied: AppliedCoupon) -> str:
        return coupon_terms(applied, applied.coupon.coupon_type)

    @admin.display(description="remaining")
    def remaining(self, applied: AppliedCoupon) -> str:
        if applied.frequency == CouponFrequency.RECURRING:
            return f"{applied.frequency_duration_remaining} invoice(s)"
        if applied.amount_cents_remaining is not None:
            return display.money(applied.amount_cents_remaining, applied.amount_currency)
        return "forever" if applied.frequency == CouponFrequency.FOREVER else "—"

    @admin.display(description="deducted so far", ordering="used_cents")
    def used(self, applied: AppliedCoupon) -> str:
        currency = applied.amount_currency or applied.customer.currency
        cents = applied.used_cents or 0
        return display.money(cents, currency) if currency else str(cents)

    @admin.action(description="Terminate selected applied coupons", permissions=["change"])
    def terminate(self, request, queryset):
        for applied in queryset.filter(status=AppliedCoupon.Status.ACTIVE):
            applied_coupon_terminate(applied_coupon=applied)
            self.log_change(request, applied, "Terminated")
        self.message_user(request, "Terminated.", messages.SUCCESS)


class PrivilegeInline(ReadOnlyInline, admin.TabularInline):
    model = Privilege
    fields = readonly_fields = ["code", "name", "value_type", "config"]


@admin.register(Feature)
class FeatureAdmin(admin.ModelAdmin):
    """Features and their privileges, with the plans that grant them (written through the
    API: /features, /plans/{code}/entitlements)."""

    list_display = ["code", "name", "privileges_count", "plans_count", "created_at"]
    search_fields = ["code", "name", "description"]
    fields = readonly_fields = ["code", "name", "description", "granted_by", "created_at"]
    inlines = [PrivilegeInline]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_privileges=Count("privileges", distinct=True),
                n_plans=Count("plan_entitlements", distinct=True),
            )
        )

    @admin.display(description="privileges", ordering="n_privileges")
    def privileges_count(self, feature: Feature) -> int:
        return feature.n_privileges

    @admin.display(description="plans", ordering="n_plans")
    def plans_count(self, feature: Feature) -> int:
        return feature.n_plans

    @admin.display(description="granted by plans")
    def granted_by(self, feature: Feature) -> str:
        codes = feature.plan_entitlements.values_list("plan__code", flat=True)
        return ", ".join(sorted(codes)) or "—"
