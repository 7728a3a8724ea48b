"""Customer and subscription admin, with terminate and change-plan buttons; wallets with
balances, top-up and terminate."""

import uuid
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import DecimalField, ExpressionWrapper, F
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template import engines
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from core import display
from core.admin_base import ReadOnlyModelAdmin
from core.bulk_admin import bulk_action
from core.errors import BillingError, ValidationFailed
from core.models import BulkJob
from customers import (
    admin_alerts,  # noqa: F401  (usage alerts and triggered alerts)
    admin_coupons,  # noqa: F401  (the coupon admin's "Apply to a customer" page)
)
from customers.entitlements import subscription_entitlements
from customers.forms import ChangePlanForm, CustomerForm, SubscriptionCreateForm, TerminateForm
from customers.models import (
    CREDIT_DIGITS,
    Customer,
    CustomerMetadata,
    RecurringTransactionRule,
    Subscription,
    Wallet,
    WalletTransaction,
)
from customers.services import subscription_create, subscription_terminate
from customers.wallets import (
    money_cents,
    wallet_balances,
    wallet_create,
    wallet_credits,
    wallet_terminate,
    wallet_top_up,
    wallet_update,
    wallets_with_credits,
)


def buttons_html(buttons: list[tuple[str, str]]) -> str:
    """Admin action buttons, one link each, separated by a space."""
    return format_html_join(" ", '<a class="button" href="{}">{}</a>', buttons)


class CustomerMetadataInline(admin.TabularInline):
    model = CustomerMetadata
    extra = 0
    fields = ["key", "value", "display_in_invoice"]


class SubscriptionInline(admin.TabularInline):
    model = Subscription
    fk_name = "customer"
    extra = 0
    show_change_link = True
    fields = ["external_id", "plan", "status", "billing_time", "started_at", "terminated_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    form = CustomerForm
    list_display = ["external_id", "name", "email", "country", "currency", "created_at", "overview"]
    list_filter = ["customer_type", "currency", "country", "payment_provider"]
    search_fields = ["external_id", "name", "legal_name", "email", "tax_identification_number"]
    date_hierarchy = "created_at"
    readonly_fields = ["lago_id", "created_at", "updated_at", "deleted_at"]
    inlines = [CustomerMetadataInline, SubscriptionInline]
    fieldsets = [
        (None, {"fields": ["external_id", "name", ("firstname", "lastname"), "customer_type"]}),
        ("Contact", {"fields": ["email", "phone", "url"]}),
        (
            "Legal and address",
            {
                "fields": [
                    "legal_name",
                    "legal_number",
                    "tax_identification_number",
                    "address_line1",
                    "address_line2",
                    ("city", "state", "zipcode", "country"),
                ]
            },
        ),
        (
            "Shipping address (when it differs)",
            {
                "classes": ["collapse"],
                "fields": [
                    "shipping_address",
                    ("shipping_address_line1", "shipping_address_line2"),
                    ("shipping_city", "shipping_state", "shipping_zipcode", "shipping_country"),
                ],
            },
        ),
        (
            "Billing",
            {
                "fields": [
                    ("currency", "timezone"),
                    ("net_payment_term", "invoice_grace_period"),
                    "finalize_zero_amount_invoice",
                    "document_locale",
                    ("payment_provider", "provider_customer_id", "sync_with_provider"),
                    "tax_codes",
                ]
            },
        ),
        (
            "Record",
            {"fields": ["lago_id", "created_at", "updated_at", "deleted_at", "customer_actions"]},
        ),
    ]
    readonly_fields = [*readonly_fields, "customer_actions"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # customers are soft-deleted through the API; invoices must keep them

    @admin.display(description="")
    def overview(self, customer: Customer) -> str:
        """The customer's page (usage, owed, credits, actions), mounted by the back-office."""
        url = reverse("admin:customers_customer_overview", args=[customer.pk])
        return format_html('<a href="{}">Overview</a>', url)

    @admin.display(description="actions")
    def customer_actions(self, customer: Customer) -> str:
        if customer.pk is None:
            return "—"
        return buttons_html(self.action_buttons(customer))

    def action_buttons(self, customer: Customer) -> list[tuple[str, str]]:
        """(url, label) of the buttons on a customer's page; higher apps extend this list
        (invoices/admin_customers.py adds the one-off invoice)."""
        return [
            (
                reverse("admin:customers_customer_gdpr_export", args=[customer.pk]),
                "Export personal data (ZIP)",
            ),
            (
                reverse("admin:customers_customer_gdpr_erase", args=[customer.pk]),
                "Erase personal data",
            ),
        ]


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = [
        "external_id",
        "customer",
        "plan",
        "status",
        "billing_time",
        "started_at",
        "terminated_at",
    ]
    list_filter = ["status", "billing_time", "plan"]
    search_fields = ["external_id", "customer__external_id", "customer__name", "plan__code"]
    list_select_related = ["customer", "plan"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "lago_id",
        "external_id",
        "customer",
        "plan",
        "status",
        "billing_time",
        "subscription_at",
        "started_at",
        "terminated_at",
        "canceled_at",
        "trial_ended_at",
        "previous_subscription",
        "charges_billed",
        "entitlements",
        "lifecycle_actions",
        "created_at",
    ]
    fields = ["name", "ending_at", *readonly_fields]

    @admin.display(description="charges billed")
    def charges_billed(self, obj: Subscription) -> str:
        """The charges this subscription is billed with; on an override plan, what differs
        from the catalog plan's charge (API: PUT /subscriptions/{id}/charges/{code})."""
        rows = []
        for charge in obj.plan.charges.live().select_related("parent", "billable_metric"):
            parent = charge.parent
            changed = [
                field
                for field in ("properties", "min_amount_cents", "invoice_display_name", "tax_codes")
                if parent is not None and getattr(charge, field) != getattr(parent, field)
            ]
            rows.append(
                (
                    charge.code,
                    charge.charge_model,
                    charge.properties,
                    charge.min_amount_cents,
                    f"overridden: {', '.join(changed)}" if changed else "as the plan",
                )
            )
        if not rows:
            return "—"
        body = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            rows,
        )
        head = format_html_join(
            "", "<th>{}</th>", [(t,) for t in ("code", "model", "properties", "minimum", "")]
        )
        return format_html("<table><tr>{}</tr>{}</table>", head, body)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = SubscriptionCreateForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return list(SubscriptionCreateForm.Meta.fields)
        return self.fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=["name", "ending_at", "updated_at"])
            return
        data = {
            "external_customer_id": form.cleaned_data["customer"].external_id,
            "plan_code": form.cleaned_data["plan"].code,
            "external_id": form.cleaned_data["external_id"],
            "name": form.cleaned_data.get("name") or "",
            "billing_time": form.cleaned_data["billing_time"],
            "subscription_at": form.cleaned_data.get("subscription_at"),
        }
        created = subscription_create(data=data)
        obj.pk, obj.lago_id = created.pk, created.lago_id

    def add_view(self, request, form_url="", extra_context=None):
        try:
            return super().add_view(request, form_url, extra_context)
        except ValidationFailed as exc:
            self.message_user(request, f"Not created: {exc.errors}", messages.ERROR)
            return redirect(request.get_full_path())

    actions = [
        bulk_action(
            BulkJob.Kind.BILL_NOW,
            "Bill now what is due",
            "The period close runs at once for the selected subscriptions (what beat would do"
            " at the next run); anything not due yet is left alone.",
        )
    ]

    @admin.display(description="entitlements")
    def entitlements(self, obj: Subscription) -> str:
        """The plan's features merged with this subscription's overrides (written through the
        API: PATCH /subscriptions/{external_id}/entitlements)."""
        lines = []
        for entitlement in subscription_entitlements(obj):
            values = ", ".join(
                f"{p.privilege.code} = {p.value}"
                + (" (override)" if p.override_value is not None else "")
                for p in entitlement.privileges
            )
            lines.append(f"{entitlement.feature.code}: {values or '—'}")
        return "; ".join(lines) or "—"

    @admin.display(description="actions")
    def lifecycle_actions(self, obj: Subscription) -> str:
        if obj.status != Subscription.Status.ACTIVE:
            return "—"
        return buttons_html(self.action_buttons(obj))

    def action_buttons(self, obj: Subscription) -> list[tuple[str, str]]:
        """(url, label) of an active subscription's buttons; higher apps extend this list
        (invoices/admin_customers.py adds the invoice preview)."""
        return [
            (reverse("admin:customers_subscription_terminate", args=[obj.pk]), "Terminate"),
            (reverse("admin:customers_subscription_change_plan", args=[obj.pk]), "Change plan"),
        ]

    def get_urls(self):
        urls = [
            path(
                "<int:pk>/terminate/",
                self.admin_site.admin_view(self.terminate_view),
                name="customers_subscription_terminate",
            ),
            path(
                "<int:pk>/change-plan/",
                self.admin_site.admin_view(self.change_plan_view),
                name="customers_subscription_change_plan",
            ),
        ]
        return urls + super().get_urls()

    def subscription_for_action(self, request, pk: int) -> Subscription:
        subscription = get_object_or_404(Subscription.objects.select_related("plan"), pk=pk)
        if not self.has_change_permission(request, subscription):
            raise PermissionDenied
        return subscription

    def render_action_page(self, request, template: str, subscription: Subscription, **context):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": subscription,
            "title": context.pop("title"),
            **context,
        }
        return TemplateResponse(request, template, context)

    def terminate_view(self, request, pk: int):
        """Confirmation page, then subscription_terminate."""
        subscription = self.subscription_for_action(request, pk)
        form = TerminateForm(request.POST or None, subscription=subscription)
        if request.method == "POST" and form.is_valid():
            try:
                subscription_terminate(subscription=subscription, options=form.cleaned_data)
            except BillingError as exc:
                self.message_user(request, f"Not terminated: {exc}", messages.ERROR)
            else:
                self.log_change(request, subscription, "Terminated")
                self.message_user(request, f"Terminated {subscription}.", messages.SUCCESS)
            return redirect(reverse("admin:customers_subscription_change", args=[pk]))
        return self.render_action_page(
            request,
            "admin/customers/subscription/terminate.html",
            subscription,
            title=f"Terminate {subscription.external_id}?",
            form=form,
        )

    def change_plan_view(self, request, pk: int):
        """Pick a plan; an upgrade starts now, a downgrade at the end of the period."""
        subscription = self.subscription_for_action(request, pk)
        form = ChangePlanForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = {
                "external_customer_id": subscription.customer.external_id,
                "external_id": subscription.external_id,
                "plan_code": form.cleaned_data["plan"].code,
            }
            try:
                successor = subscription_create(data=data)
            except BillingError as exc:
                self.message_user(request, f"Plan not changed: {exc}", messages.ERROR)
                return redirect(reverse("admin:customers_subscription_change", args=[pk]))
            self.log_change(request, subscription, f"Plan change to {data['plan_code']}")
            self.message_user(
                request,
                f"{subscription.external_id}: {successor.plan.code} is {successor.status}.",
                messages.SUCCESS,
            )
            return redirect(reverse("admin:customers_subscription_change", args=[successor.pk]))
        return self.render_action_page(
            request,
            "admin/customers/subscription/change_plan.html",
            subscription,
            title=f"Change the plan of {subscription.external_id}",
            form=form,
        )


# --- wallets ---------------------------------------------------------------------------------

TOP_UP_PAGE = """{% extends "admin/base_site.html" %}
{% block content %}
<h1>{{ title }}</h1>
<p>Balance now: <strong>{{ credits }} credits</strong> ({{ money }}). Granted credits land at once;
   paid credits are invoiced and land when that invoice is paid.</p>
<form method="post">{% csrf_token %}
  {{ form.as_p }}
  <input type="submit" value="Top up">
  <a href="{{ back }}" class="button cancel-link">Cancel</a>
</form>
{% endblock %}
"""


class WalletCreateForm(forms.ModelForm):
    """Creating a wallet from the admin goes through wallet_create, like the API."""

    customer = forms.ModelChoiceField(queryset=Customer.objects.live())
    paid_credits = forms.DecimalField(min_value=0, decimal_places=5, required=False)
    granted_credits = forms.DecimalField(min_value=0, decimal_places=5, required=False)

    class Meta:
        model = Wallet
        fields = ["customer", "name", "code", "currency", "rate_amount", "priority"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].required = False
        self.fields["code"].help_text = "Empty = made from the name."
        self.fields["currency"].required = False
        self.fields["currency"].help_text = "Empty = the customer's currency."


class TopUpForm(forms.Form):
    """The idempotency key is made when the form is shown: a double submit adds credits once."""

    paid_credits = forms.DecimalField(min_value=0, decimal_places=5, required=False)
    granted_credits = forms.DecimalField(min_value=0, decimal_places=5, required=False)
    voided_credits = forms.DecimalField(min_value=0, decimal_places=5, required=False)
    name = forms.CharField(max_length=255, required=False)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=255)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["idempotency_key"].initial = f"admin-{uuid.uuid4()}"


class WalletTransactionInline(admin.TabularInline):
    """Transactions are append-only: shown, never edited or removed."""

    model = WalletTransaction
    extra = 0
    can_delete = False
    show_change_link = False
    ordering = ["-created_at", "-id"]
    fields = [
        "created_at",
        "transaction_type",
        "transaction_status",
        "status",
        "source",
        "credit_amount",
        "amount",
        "invoice",
        "name",
        "settled_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class RecurringRuleInline(admin.TabularInline):
    model = RecurringTransactionRule
    extra = 0
    can_delete = False
    fields = [
        "trigger",
        "interval",
        "threshold_credits",
        "method",
        "paid_credits",
        "granted_credits",
        "target_ongoing_balance",
        "started_at",
        "expiration_at",
        "last_run_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Wallet)
class WalletAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "customer",
        "status",
        "priority",
        "credits",
        "balance",
        "consumed",
        "expiration_at",
        "created_at",
    ]
    list_filter = ["status", "currency"]
    search_fields = ["customer__external_id", "customer__name", "name", "code", "=lago_id"]
    list_select_related = ["customer"]
    date_hierarchy = "created_at"
    inlines = [RecurringRuleInline, WalletTransactionInline]
    actions = ["terminate_wallets"]
    editable = [
        "name",
        "code",
        "priority",
        "expiration_at",
        "invoice_requires_successful_payment",
        "paid_top_up_min_amount_cents",
        "paid_top_up_max_amount_cents",
    ]
    readonly_fields = [
        "lago_id",
        "customer",
        "status",
        "currency",
        "rate_amount",
        "balances",
        "applies_to_fee_types",
        "applies_to_billable_metric_codes",
        "metadata",
        "depleted_notified_at",
        "created_at",
        "terminated_at",
        "wallet_actions",
    ]
    fields = [*editable, *readonly_fields]

    def get_queryset(self, request):
        """Balances summed in SQL for the whole page (no query per row)."""
        rows = wallets_with_credits(super().get_queryset(request))
        return rows.annotate(
            credits_balance=ExpressionWrapper(
                F("credits_in") - F("credits_out"), output_field=DecimalField(**CREDIT_DIGITS)
            )
        )

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # terminate instead: the transactions must stay

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = WalletCreateForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return [*WalletCreateForm.Meta.fields, "paid_credits", "granted_credits"]
        return self.fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    @admin.display(description="credits", ordering="credits_balance")
    def credits(self, wallet: Wallet) -> Decimal:
        return wallet.credits_balance

    @admin.display(description="balance")
    def balance(self, wallet: Wallet) -> str:
        return display.money(money_cents(wallet.credits_balance, wallet), wallet.currency)

    @admin.display(description="consumed credits")
    def consumed(self, wallet: Wallet) -> Decimal:
        return wallet.credits_consumed

    @admin.display(description="balances")
    def balances(self, wallet: Wallet) -> str:
        """The detail page also shows the ongoing balance (current usage priced)."""
        if wallet.pk is None:
            return "—"
        b = wallet_balances(wallet)
        return format_html(
            "{} credits = {}; ongoing: {} credits = {} (usage not yet paid: {})",
            b.credits_balance,
            display.money(b.balance_cents, wallet.currency),
            b.credits_ongoing_balance,
            display.money(b.ongoing_balance_cents, wallet.currency),
            display.money(b.ongoing_usage_balance_cents, wallet.currency),
        )

    @admin.display(description="actions")
    def wallet_actions(self, wallet: Wallet) -> str:
        if wallet.pk is None or wallet.status != Wallet.Status.ACTIVE:
            return "—"
        return format_html(
            '<a class="button" href="{}">Top up</a>',
            reverse("admin:customers_wallet_top_up", args=[wallet.pk]),
        )

    def save_model(self, request, obj, form, change):
        if change:
            data = {f: form.cleaned_data[f] for f in form.changed_data if f in self.editable}
            wallet_update(wallet=obj, data=data)
            return
        data = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
        data["external_customer_id"] = data.pop("customer").external_id
        created = wallet_create(data=data)
        obj.pk, obj.lago_id = created.pk, created.lago_id

    def add_view(self, request, form_url="", extra_context=None):
        try:
            return super().add_view(request, form_url, extra_context)
        except ValidationFailed as exc:
            self.message_user(request, f"Not created: {exc.errors}", messages.ERROR)
            return redirect(request.get_full_path())

    def change_view(self, request, object_id, form_url="", extra_context=None):
        try:
            return super().change_view(request, object_id, form_url, extra_context)
        except ValidationFailed as exc:
            self.message_user(request, f"Not saved: {exc.errors}", messages.ERROR)
            return redirect(request.get_full_path())

    @admin.action(description="Terminate (void the remaining credits)", permissions=["change"])
    def terminate_wallets(self, request, queryset):
        count = 0
        for wallet in queryset.filter(status=Wallet.Status.ACTIVE):
            wallet_terminate(wallet=wallet)
            self.log_change(request, wallet, "Terminated")
            count += 1
        self.message_user(request, f"{count} wallet(s) terminated.", messages.SUCCESS)

    def get_urls(self):
        urls = [
            path(
                "<int:pk>/top-up/",
                self.admin_site.admin_view(self.top_up_view),
                name="customers_wallet_top_up",
            )
        ]
        return urls + super().get_urls()

    def top_up_view(self, request, pk: int):
        """Form, then wallet_top_up with the form's idempotency key."""
        wallet = get_object_or_404(Wallet.objects.select_related("customer"), pk=pk)
        if not self.has_change_permission(request, wallet):
            raise PermissionDenied
        back = reverse("admin:customers_wallet_change", args=[pk])
        form = TopUpForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                rows = wallet_top_up(wallet=wallet, **_top_up_arguments(form.cleaned_data))
            except BillingError as exc:
                self.message_user(request, f"Not topped up: {exc}", messages.ERROR)
            else:
                self.log_change(request, wallet, f"Top-up ({len(rows)} transaction(s))")
                self.message_user(request, f"Top-up recorded: {len(rows)} transaction(s).")
                return redirect(back)
        credits, _ = wallet_credits(wallet)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": wallet,
            "title": f"Top up {wallet}",
            "form": form,
            "back": back,
            "credits": credits,
            "money": display.money(money_cents(credits, wallet), wallet.currency),
        }
        page = engines["django"].from_string(TOP_UP_PAGE)
        return HttpResponse(page.render(context, request))


def _top_up_arguments(cleaned: dict) -> dict:
    return {
        "paid_credits": cleaned.get("paid_credits") or 0,
        "granted_credits": cleaned.get("granted_credits") or 0,
        "voided_credits": cleaned.get("voided_credits") or 0,
        "name": cleaned.get("name") or "",
        "idempotency_key": cleaned["idempotency_key"],
    }


@admin.register(WalletTransaction)
class WalletTransactionAdmin(ReadOnlyModelAdmin):
    """Read-only ledger: transactions are append-only."""

    list_display = [
        "created_at",
        "wallet",
        "transaction_type",
        "transaction_status",
        "status",
        "source",
        "credit_amount",
        "amount",
        "invoice",
    ]
    list_filter = ["status", "transaction_type", "transaction_status", "source"]
    search_fields = ["wallet__customer__external_id", "wallet__code", "=lago_id"]
    list_select_related = ["wallet__customer", "invoice"]
    date_hierarchy = "created_at"
