"""The pricing simulator page in the admin (billing staff with plans.simulate_pricing)."""

import json

from django import forms
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse

from backoffice.simulator import pricing_simulate
from core import roles
from core.charts import bar_chart
from core.errors import BillingError
from core.money import from_minor_units
from customers.models import Customer
from plans.models import Plan


class SimulatorForm(forms.Form):
    plan = forms.ModelChoiceField(
        queryset=Plan.objects.live().filter(parent__isnull=True).order_by("code"),
        required=False,
        help_text="An existing plan …",
    )
    draft = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "cols": 80}),
        help_text="… or a draft: a plan as Lago's API takes it (JSON), never saved.",
    )
    customers = forms.ModelMultipleChoiceField(
        queryset=Customer.objects.live().order_by("external_id"),
        required=False,
        help_text="None selected: every customer.",
    )
    periods = forms.IntegerField(min_value=1, max_value=12, initial=3)

    def clean_draft(self):
        text = self.cleaned_data["draft"].strip()
        if not text:
            return None
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise forms.ValidationError(f"Not JSON: {exc}") from exc
        if not isinstance(value, dict):
            raise forms.ValidationError("A JSON object, as the plan of POST /api/v1/plans.")
        return value.get("plan", value)

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("plan") and not cleaned.get("draft"):
            raise forms.ValidationError("Pick a plan or give a draft.")
        return cleaned


def simulator_view(site, request):
    if not request.user.has_perm(roles.SIMULATE):
        raise PermissionDenied
    form = SimulatorForm(request.POST or None)
    results, error = None, None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        customers = data["customers"] or Customer.objects.live().order_by("external_id")
        try:
            results = pricing_simulate(
                customers=customers,
                periods=data["periods"],
                plan=data["plan"],
                draft=data["draft"],
            )
        except BillingError as exc:
            error = str(exc)
    context = {
        **site.each_context(request),
        "title": "Pricing simulator",
        "form": form,
        "results": results,
        "error": error,
        "totals": _totals(results or []),
        "chart": bar_chart(
            [
                (r.customer.external_id, from_minor_units(r.difference_cents, r.currency))
                for r in results or []
            ]
        ),
    }
    return TemplateResponse(request, "admin/pricing_simulator.html", context)


def _totals(results) -> dict[str, dict]:
    totals: dict[str, dict] = {}
    for result in results:
        entry = totals.setdefault(result.currency, {"billed": 0, "simulated": 0})
        entry["billed"] += result.billed_cents
        entry["simulated"] += result.simulated_cents
    for entry in totals.values():
        entry["difference"] = entry["simulated"] - entry["billed"]
    return totals
