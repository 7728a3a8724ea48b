"""Admin pages of the back-office that are not a model's: global search and a customer's
personal data (export, erasure). Mounted on the admin site by BackofficeConfig.ready(); each
takes the site first, like the dashboard and the simulator."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from backoffice.customer_overview import customer_overview
from backoffice.personal_data import customer_data_export, customer_personal_data_erase
from backoffice.search import global_search
from core import roles
from core.auditing import because
from core.errors import BillingError
from customers.models import Customer


def search_view(site, request):
    q = request.GET.get("q", "")
    context = {
        **site.each_context(request),
        "title": f"Search: {q}" if q else "Search",
        "q": q,
        "results": global_search(q, request.user),
    }
    return TemplateResponse(request, "admin/global_search.html", context)


def _personal_data_customer(request, pk: int) -> Customer:
    if not request.user.has_perm(roles.CUSTOMER_DATA):
        raise PermissionDenied
    return get_object_or_404(Customer, pk=pk)


def gdpr_export_view(site, request, pk: int):
    """Everything held about the customer, as a ZIP (JSON files and invoice PDFs)."""
    customer = _personal_data_customer(request, pk)
    with because(f"personal data export by {request.user.get_username()}"):
        site.get_model_admin(Customer).log_change(request, customer, "Personal data exported")
    response = HttpResponse(customer_data_export(customer=customer), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="customer-{customer.external_id}.zip"'
    return response


def gdpr_erase_view(site, request, pk: int):
    """Confirmation page, then the erasure (audited); invoices stay as issued."""
    customer = _personal_data_customer(request, pk)
    model_admin = site.get_model_admin(Customer)
    back = reverse("admin:customers_customer_change", args=[pk])
    if request.method != "POST":
        context = {
            **site.each_context(request),
            "opts": Customer._meta,
            "original": customer,
            "title": f"Erase the personal data of {customer}?",
            "consequence": "Name, contact and address are replaced, metadata and portal"
            " logins deleted; invoices and credit notes stay as issued. This cannot be undone.",
            "back": back,
        }
        return TemplateResponse(request, "admin/confirm.html", context)
    try:
        customer_personal_data_erase(customer=customer)
    except BillingError as exc:
        model_admin.message_user(request, f"Not erased: {exc}", messages.ERROR)
    else:
        model_admin.log_change(request, customer, "Personal data erased")
        model_admin.message_user(request, "Personal data erased.", messages.SUCCESS)
    return redirect(back)


def customer_overview_view(site, request, pk: int):
    """The customer's page: where they stand, with the actions where they belong."""
    customer = get_object_or_404(Customer, pk=pk)
    if not site.get_model_admin(Customer).has_view_permission(request, customer):
        raise PermissionDenied
    context = {
        **site.each_context(request),
        "opts": Customer._meta,
        "original": customer,
        "title": f"{customer.display_name} ({customer.external_id})",
        "overview": customer_overview(customer, timezone.now()),
        "can_change": request.user.has_perm("customers.change_subscription"),
        "can_credit": request.user.has_perm("invoices.add_creditnote"),
        "can_retry": request.user.has_perm(roles.RETRY_PAYMENT),
    }
    return TemplateResponse(request, "admin/customers/customer/overview.html", context)
