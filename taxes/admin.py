"""Taxes and tax rules in the admin (rules editable: a new row with a later effective date
changes the rate for invoices issued from then on)."""

from django.contrib import admin

from core.admin_forms import ConfirmedChangeForm
from taxes.models import Tax, TaxRule


class TaxRuleForm(ConfirmedChangeForm):
    confirmation = "I confirm: invoices issued from its effective date are taxed with this rule."

    class Meta:
        model = TaxRule
        fields = "__all__"


@admin.register(Tax)
class TaxAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "rate", "applied_to_organization"]
    list_filter = ["applied_to_organization"]
    search_fields = ["code", "name"]
    readonly_fields = ["lago_id", "created_at", "updated_at"]


@admin.register(TaxRule)
class TaxRuleAdmin(admin.ModelAdmin):
    """Changing a rule changes what customers are charged: billing admins only (core.roles),
    with an explicit confirmation."""

    form = TaxRuleForm
    list_display = ["country", "region", "kind", "rate", "name", "effective_from"]
    list_filter = ["kind", "country"]
    search_fields = ["country", "region", "name"]
    date_hierarchy = "effective_from"
