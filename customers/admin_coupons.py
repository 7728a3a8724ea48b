"""The coupon admin's "Apply to a customer" page (admin:plans_coupon_apply, under the coupon's
own admin URL). Applying a coupon picks and locks a customer (customers/applied_coupons.py),
which the catalog may not import, so this module extends the catalog's CouponAdmin with the page
and registers the extended admin in its place."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template import engines
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from core.errors import BillingError, ValidationFailed
from customers.applied_coupons import applied_coupon_create
from customers.models import Customer
from plans.admin import CouponAdmin as CatalogCouponAdmin
from plans.admin import coupon_terms
from plans.forms import apply_errors
from plans.models import AppliedCoupon, Coupon, CouponFrequency

APPLY_TEMPLATE = """{% extends "admin/base_site.html" %}
{% block content %}
<h1>{{ title }}</h1>
<p>{{ summary }}</p>
<p>Leave the overrides empty to use the coupon's own terms.</p>
<form method="post" id="apply-coupon">{% csrf_token %}
  {{ form.as_p }}
  <input type="submit" value="Apply the coupon">
  <a href="{{ back }}" class="button cancel-link">Cancel</a>
</form>
{% endblock %}
"""


class CouponApplyForm(forms.Form):
    customer = forms.ModelChoiceField(queryset=Customer.objects.none())
    amount_cents = forms.IntegerField(required=False, min_value=1, help_text="Minor units.")
    amount_currency = forms.CharField(required=False, max_length=3)
    percentage_rate = forms.DecimalField(required=False, max_digits=9, decimal_places=6)
    frequency = forms.ChoiceField(
        required=False, choices=[("", "(the coupon's)"), *CouponFrequency.choices]
    )
    frequency_duration = forms.IntegerField(required=False, min_value=1)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = Customer.objects.live().order_by("external_id")

    def overrides(self) -> dict:
        return {
            key: value
            for key, value in self.cleaned_data.items()
            if key != "customer" and value not in (None, "")
        }


class CouponAdmin(CatalogCouponAdmin):
    """The catalog's coupon admin plus the "Apply to a customer" link and page."""

    readonly_fields = ["lago_id", "apply_link", "created_at", "terminated_at", "deleted_at"]

    @admin.display(description="apply")
    def apply_link(self, coupon: Coupon) -> str:
        if coupon.pk is None or coupon.terminated_at:
            return "—"
        url = reverse("admin:plans_coupon_apply", args=[coupon.pk])
        return format_html('<a class="button" href="{}">Apply to a customer</a>', url)

    def get_urls(self):
        apply = path(
            "<int:pk>/apply/",
            self.admin_site.admin_view(self.apply_view),
            name="plans_coupon_apply",
        )
        return [apply, *super().get_urls()]

    def apply_view(self, request, pk: int):
        """Pick a customer and optional overrides; applied_coupon_create does the rest."""
        coupon = get_object_or_404(Coupon.objects.live(), pk=pk)
        if not self.has_change_permission(request, coupon):
            raise PermissionDenied
        back = reverse("admin:plans_coupon_change", args=[pk])
        form = CouponApplyForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            applied = self._apply(request, coupon, form)
            if applied is not None:
                return redirect(reverse("admin:plans_appliedcoupon_change", args=[applied.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": coupon,
            "title": f"Apply {coupon} to a customer",
            "summary": f"Terms: {coupon_terms(coupon, coupon.coupon_type)}.",
            "form": form,
            "back": back,
        }
        template = engines["django"].from_string(APPLY_TEMPLATE)
        return TemplateResponse(request, template, context)

    def _apply(self, request, coupon: Coupon, form: CouponApplyForm) -> AppliedCoupon | None:
        customer = form.cleaned_data["customer"]
        data = {
            "external_customer_id": customer.external_id,
            "coupon_code": coupon.code,
            **form.overrides(),
        }
        try:
            applied = applied_coupon_create(data=data)
        except ValidationFailed as exc:
            apply_errors(form, exc.errors)
            return None
        except BillingError as exc:
            form.add_error(None, str(exc))
            return None
        self.log_change(request, coupon, f"Applied to {customer.external_id}")
        self.message_user(request, f"{coupon.code} applied to {customer}.", messages.SUCCESS)
        return applied


admin.site.unregister(Coupon)
admin.site.register(Coupon, CouponAdmin)
