"""Customer and subscription admin, with terminate and change-plan buttons."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from core.errors import BillingError, ValidationFailed
from customers.forms import ChangePlanForm, CustomerForm, SubscriptionCreateForm
from customers.models import Customer, CustomerMetadata, Subscription
from customers.services import subscription_create, subscription_terminate


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
    list_display = ["external_id", "name", "email", "country", "currency", "created_at"]
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
                    "shipping_address",
                ]
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
        ("Record", {"fields": ["lago_id", "created_at", "updated_at", "deleted_at"]}),
    ]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # customers are soft-deleted through the API; invoices must keep them


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
        "lifecycle_actions",
        "created_at",
    ]
    fields = ["name", "ending_at", *readonly_fields]

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

    actions = ["bill_now"]

    @admin.display(description="actions")
    def lifecycle_actions(self, obj: Subscription) -> str:
        if obj.status != Subscription.Status.ACTIVE:
            return "—"
        return format_html(
            '<a class="button" href="{}">Terminate</a> <a class="button" href="{}">Change plan</a>'
            ' <a class="button" href="{}">Preview next invoice</a>',
            reverse("admin:customers_subscription_terminate", args=[obj.pk]),
            reverse("admin:customers_subscription_change_plan", args=[obj.pk]),
            reverse("admin:customers_subscription_preview", args=[obj.pk]),
        )

    @admin.action(description="Bill now what is due", permissions=["change"])
    def bill_now(self, request, queryset):
        """Runs the period close for the selected subscriptions at once (what beat would do)."""
        from invoices.services import subscription_bill_due, subscription_schedule

        created = 0
        for subscription in queryset:
            subscription_schedule(subscription=subscription)
            created += len(subscription_bill_due(subscription_id=subscription.pk))
        self.message_user(request, f"{created} invoice(s) created.", messages.SUCCESS)

    def preview_view(self, request, pk: int):
        """The next invoice as it would be now: a dry run, nothing saved."""
        from invoices.services import subscription_preview

        subscription = self._get_for_action(request, pk)
        plan = subscription_preview(subscription=subscription)
        return self._render(
            request,
            "admin/customers/subscription/preview.html",
            subscription,
            title=f"Next invoice of {subscription.external_id} (preview)",
            plan=plan,
            currency=subscription.plan.amount_currency,
        )

    def get_urls(self):
        urls = [
            path(
                "<int:pk>/terminate/",
                self.admin_site.admin_view(self.terminate_view),
                name="customers_subscription_terminate",
            ),
            path(
                "<int:pk>/preview/",
                self.admin_site.admin_view(self.preview_view),
                name="customers_subscription_preview",
            ),
            path(
                "<int:pk>/change-plan/",
                self.admin_site.admin_view(self.change_plan_view),
                name="customers_subscription_change_plan",
            ),
        ]
        return urls + super().get_urls()

    def _get_for_action(self, request, pk: int) -> Subscription:
        subscription = get_object_or_404(Subscription.objects.select_related("plan"), pk=pk)
        if not self.has_change_permission(request, subscription):
            raise PermissionDenied
        return subscription

    def _render(self, request, template: str, subscription: Subscription, **context):
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
        subscription = self._get_for_action(request, pk)
        if request.method == "POST":
            try:
                subscription_terminate(subscription=subscription)
            except BillingError as exc:
                self.message_user(request, f"Not terminated: {exc}", messages.ERROR)
            else:
                self.log_change(request, subscription, "Terminated")
                self.message_user(request, f"Terminated {subscription}.", messages.SUCCESS)
            return redirect(reverse("admin:customers_subscription_change", args=[pk]))
        return self._render(
            request,
            "admin/customers/subscription/terminate.html",
            subscription,
            title=f"Terminate {subscription.external_id}?",
        )

    def change_plan_view(self, request, pk: int):
        """Pick a plan; an upgrade starts now, a downgrade at the end of the period."""
        subscription = self._get_for_action(request, pk)
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
        return self._render(
            request,
            "admin/customers/subscription/change_plan.html",
            subscription,
            title=f"Change the plan of {subscription.external_id}",
            form=form,
        )
