"""The customer and subscription admin pages' invoicing parts: the one-off invoice and the
next-invoice preview. Customers cannot import invoicing (a higher layer), so invoicing extends
the admin classes customers registered: `extend_customer_admin()` (from InvoicesConfig.ready)
re-registers each model with a subclass of whatever admin is registered now, so another app
extending the same page the same way keeps its part. URLs and their names are unchanged."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from customers.models import Customer, Subscription
from invoices.one_off import OneOffInvoiceForm
from invoices.services import subscription_preview


class CustomerInvoicingAdmin:
    """Mixed in before the registered CustomerAdmin: the one-off invoice page and button."""

    def action_buttons(self, customer: Customer) -> list[tuple[str, str]]:
        url = reverse("admin:customers_customer_one_off", args=[customer.pk])
        return [(url, "Issue a one-off invoice"), *super().action_buttons(customer)]

    def get_urls(self):
        view = self.admin_site.admin_view(self.one_off_view)
        url = path("<int:pk>/one-off-invoice/", view, name="customers_customer_one_off")
        return [url, *super().get_urls()]

    def one_off_view(self, request, pk: int):
        """An add-on sold once (e.g. a GPU-hour pack): issued and finalized at once."""
        customer = get_object_or_404(Customer, pk=pk)
        if not self.has_change_permission(request, customer):
            raise PermissionDenied
        form = OneOffInvoiceForm(request.POST or None, customer=customer)
        if request.method == "POST" and form.is_valid():
            invoice = form.save()
            if invoice is not None:
                self.log_change(request, customer, f"One-off invoice {invoice.number}")
                self.message_user(request, f"Invoice {invoice.number} issued.", messages.SUCCESS)
                return redirect(reverse("admin:invoices_invoice_change", args=[invoice.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": customer,
            "title": f"One-off invoice for {customer}",
            "form": form,
        }
        return TemplateResponse(request, "admin/customers/customer/one_off.html", context)


class SubscriptionInvoicingAdmin:
    """Mixed in before the registered SubscriptionAdmin: the next-invoice preview."""

    def action_buttons(self, obj: Subscription) -> list[tuple[str, str]]:
        url = reverse("admin:customers_subscription_preview", args=[obj.pk])
        return [*super().action_buttons(obj), (url, "Preview next invoice")]

    def get_urls(self):
        view = self.admin_site.admin_view(self.preview_view)
        url = path("<int:pk>/preview/", view, name="customers_subscription_preview")
        return [url, *super().get_urls()]

    def preview_view(self, request, pk: int):
        """The next invoice as it would be now: a dry run, nothing saved."""
        subscription = self.subscription_for_action(request, pk)
        plan = subscription_preview(subscription=subscription)
        return self.render_action_page(
            request,
            "admin/customers/subscription/preview.html",
            subscription,
            title=f"Next invoice of {subscription.external_id} (preview)",
            plan=plan,
            currency=subscription.plan.amount_currency,
        )


def extend_registered_admin(model, mixin, site=None) -> None:
    """Re-register `model` with `mixin` placed before the admin class registered now."""
    site = site or admin.site
    current = type(site.get_model_admin(model))
    if issubclass(current, mixin):
        return  # ready() ran twice
    site.unregister(model)
    site.register(model, type(current.__name__, (mixin, current), {}))


def extend_customer_admin() -> None:
    """Called from InvoicesConfig.ready(), after the admin autodiscovery registered them."""
    extend_registered_admin(Customer, CustomerInvoicingAdmin)
    extend_registered_admin(Subscription, SubscriptionInvoicingAdmin)
