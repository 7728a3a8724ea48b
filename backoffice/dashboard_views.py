"""The finance dashboard in the admin: one page of charts (server-drawn SVG) with their
tables, for a date range and a currency, and a CSV of each figure."""

import csv
from datetime import date, timedelta

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from backoffice import dashboard
from core import roles
from core.charts import bar_chart, stacked_chart
from core.money import from_minor_units
from core.selectors import organization_get


def _default_range() -> tuple[date, date]:
    """About the last six months, from a month's first day to today."""
    today = timezone.now().date()
    return (today.replace(day=1) - timedelta(days=150)).replace(day=1), today


class DashboardForm(forms.Form):
    start = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    currency = forms.ChoiceField()

    def __init__(self, data, currencies: list[str]):
        start, end = _default_range()
        initial = {"start": start, "end": end, "currency": currencies[0]}
        super().__init__({**initial, **{k: v for k, v in data.items() if v}})
        self.fields["currency"].choices = [(c, c) for c in currencies]

    def range(self) -> tuple[date, date, str]:
        """The chosen range (two years at most) and currency; the defaults if invalid."""
        if not self.is_valid():
            return (*_default_range(), self.fields["currency"].choices[0][0])
        data = self.cleaned_data
        start, end = sorted([data["start"], data["end"]])
        return start, min(end, start + timedelta(days=730)), data["currency"]


def _currencies() -> list[str]:
    from invoices.models import Invoice

    base = organization_get().default_currency
    used = set(Invoice.objects.values_list("currency", flat=True).distinct()[:50])
    return [base, *sorted(used - {base})]


def _figures(start: date, end: date, currency: str) -> dict:
    today = timezone.now().date()
    return {
        "mrr": dashboard.cached("mrr", dashboard.mrr_by_month, start, end, currency),
        "revenue": dashboard.cached("revenue", dashboard.revenue_by_month, start, end, currency),
        "usage": dashboard.cached(
            "usage", dashboard.usage_by_day, max(start, end - timedelta(days=30)), end
        ),
        "top_usage": dashboard.cached("top_usage", dashboard.top_customers_by_usage, start, end),
        "top_revenue": dashboard.cached(
            "top_revenue", dashboard.top_customers_by_revenue, start, end, currency
        ),
        "margin_metric": dashboard.cached("margin_m", dashboard.gross_margin, start, end, currency),
        "margin_customer": dashboard.cached(
            "margin_c", dashboard.gross_margin, start, end, currency, "customer"
        ),
        "receivables": dashboard.cached("receivables", dashboard.receivables, today, currency),
        "ingestion": dashboard.ingestion_health(timezone.now(), start, end),
    }


def _charts(figures: dict, currency: str) -> dict:
    mrr, revenue = figures["mrr"], figures["revenue"]
    receivables = figures["receivables"]
    return {
        "mrr": bar_chart(
            [(m.month.strftime("%b %Y"), from_minor_units(m.mrr_cents, currency)) for m in mrr]
        ),
        "revenue": stacked_chart(
            [m.month.strftime("%b %Y") for m in revenue],
            [
                [from_minor_units(getattr(m, f"{kind}_cents"), currency) for m in revenue]
                for kind in ("base", "usage", "one_off")
            ],
        ),
        "usage": {code: bar_chart(points) for code, points in figures["usage"].items()},
        "receivables": bar_chart(
            [
                (name, from_minor_units(cents, currency))
                for name, cents in receivables.buckets.items()
            ]
        ),
        "ingestion": bar_chart(
            [(moment.strftime("%H:%M"), n) for moment, n in figures["ingestion"].per_minute]
        ),
    }


def dashboard_view(site, request):
    if not request.user.has_perm(roles.DASHBOARD):
        raise PermissionDenied
    form = DashboardForm(request.GET, _currencies())
    start, end, currency = form.range()
    figures = _figures(start, end, currency)
    context = {
        **site.each_context(request),
        "title": "Finance dashboard",
        "form": form,
        "start": start,
        "end": end,
        "currency": currency,
        "figures": figures,
        "charts": _charts(figures, currency),
        "query": request.GET.urlencode(),
    }
    return TemplateResponse(request, "admin/dashboard.html", context)


# --- CSV ----------------------------------------------------------------------------------------


def _rows(name: str, figures: dict, currency: str) -> list[list]:
    cur = currency

    def amount(cents):
        return str(from_minor_units(cents, cur))

    if name == "mrr":
        return [
            ["month", f"mrr_{cur}", "new", "expansion", "contraction", "churn", "customers"]
        ] + [
            [
                m.month.isoformat(),
                amount(m.mrr_cents),
                amount(m.movement.new),
                amount(m.movement.expansion),
                amount(m.movement.contraction),
                amount(m.movement.churn),
                m.customers,
            ]
            for m in figures["mrr"]
        ]
    if name == "revenue":
        return [
            ["month", f"base_{cur}", f"usage_{cur}", f"one_off_{cur}", f"total_{cur}", "base_share"]
        ] + [
            [
                m.month.isoformat(),
                amount(m.base_cents),
                amount(m.usage_cents),
                amount(m.one_off_cents),
                amount(m.total_cents),
                f"{m.base_share:.4f}",
            ]
            for m in figures["revenue"]
        ]
    if name == "usage":
        return [["metric", "day", "events"]] + [
            [code, day.isoformat(), str(value)]
            for code, points in figures["usage"].items()
            for day, value in points
        ]
    if name in ("top_usage", "top_revenue"):
        unit = "events" if name == "top_usage" else f"revenue_{cur}"
        return [["customer", "name", unit]] + [
            [f.external_id, f.name, f.value if name == "top_usage" else amount(f.value)]
            for f in figures[name]
        ]
    if name in ("margin_metric", "margin_customer"):
        key = "metric" if name == "margin_metric" else "customer"
        return [[key, f"revenue_{cur}", f"cost_{cur}", f"margin_{cur}", "margin_share"]] + [
            [
                m.key,
                amount(m.revenue_cents),
                amount(m.cost_cents),
                amount(m.margin_cents),
                f"{m.margin_share:.4f}",
            ]
            for m in figures[name]
        ]
    if name == "receivables":
        r = figures["receivables"]
        return [["age_days", f"amount_{cur}", "invoices"]] + [
            [bucket, amount(r.buckets[bucket]), r.invoices[bucket]] for bucket in r.buckets
        ]
    if name == "ingestion":
        i = figures["ingestion"]
        return [["minute", "events"]] + [[m.isoformat(), str(n)] for m, n in i.per_minute]
    raise Http404


def dashboard_csv_view(site, request, name: str):
    if not request.user.has_perm(roles.DASHBOARD):
        raise PermissionDenied
    start, end, currency = DashboardForm(request.GET, _currencies()).range()
    rows = _rows(name, _figures(start, end, currency), currency)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}-{start}-{end}.csv"'
    csv.writer(response).writerows(rows)
    return response
