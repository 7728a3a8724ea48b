"""GET /api/v1/analytics/*: Lago's analytics, computed by the finance dashboard's selectors
(`backoffice.dashboard`), so the API and the dashboard give the same numbers.

Not as Lago (docs/api.md): one currency per answer (`currency`, else the organization's
default; other currencies converted with the FX table as the dashboard does), `months`
defaults to 12 (Lago: since the organization was created), months without data are listed
with 0, and the figures are the dashboard's (revenue = fees before taxes, MRR = active base
fees per month)."""

from datetime import date

from django.utils import timezone
from drf_spectacular.utils import extend_schema_view
from rest_framework.decorators import action
from rest_framework.response import Response

from backoffice import dashboard
from backoffice.schemas import ANALYTICS_VIEWS
from core.api.viewsets import LagoViewSet
from core.errors import ValidationFailed
from core.selectors import organization_get
from core.validation import check_currency

MAX_MONTHS = 120
DEFAULT_MONTHS = 12


def _month(day: date) -> str:
    return f"{day:%Y-%m-01}T00:00:00.000Z"


def _currency(params) -> str:
    raw = params.get("currency")
    if not raw:
        return str(organization_get().default_currency)
    if check_currency(raw.upper()):
        raise ValidationFailed({"currency": ["value_is_invalid"]})
    return raw.upper()


def _months(params) -> int:
    raw = params.get("months")
    if raw in (None, ""):
        return DEFAULT_MONTHS
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 3 and 1 <= int(raw) <= MAX_MONTHS):
        raise ValidationFailed({"months": ["value_is_invalid"]})
    return int(raw)


def month_range(today: date, months: int) -> tuple[date, date]:
    """The first day of the month `months - 1` months before today's, and today's month end."""
    index = today.year * 12 + today.month - 1 - (months - 1)
    start = date(index // 12, index % 12 + 1, 1)
    return start, dashboard.month_ends(today, today)[0]


def _customer(params) -> str | None:
    return params.get("external_customer_id") or None


@extend_schema_view(**ANALYTICS_VIEWS)
class AnalyticsViewSet(LagoViewSet):
    """Lago's analytics: gross revenue, invoiced usage, MRR, overdue balance, invoice
    collection, per month."""

    lago_root, lago_plural = "analytic", "analytics"

    def _window(self, request) -> tuple[date, date, date, str]:
        today = timezone.now().date()
        start, end = month_range(today, _months(request.query_params))
        return today, start, end, _currency(request.query_params)

    @action(detail=False, methods=["get"])
    def gross_revenue(self, request):
        _, start, end, currency = self._window(request)
        months = dashboard.revenue_by_month(start, end, currency, _customer(request.query_params))
        rows = [
            {
                "month": _month(m.month),
                "amount_cents": m.total_cents,
                "currency": currency,
                "invoices_count": m.invoices_count,
            }
            for m in months
        ]
        return Response({"gross_revenues": rows})

    @action(detail=False, methods=["get"])
    def invoiced_usage(self, request):
        _, start, end, currency = self._window(request)
        rows = [
            {
                "month": _month(m.month),
                "code": m.code,
                "amount_cents": m.amount_cents,
                "currency": currency,
            }
            for m in dashboard.usage_revenue_by_month(start, end, currency)
        ]
        return Response({"invoiced_usages": rows})

    @action(detail=False, methods=["get"])
    def mrr(self, request):
        _, start, end, currency = self._window(request)
        rows = [
            {"month": _month(m.month), "amount_cents": m.mrr_cents, "currency": currency}
            for m in dashboard.mrr_by_month(start, end, currency)
        ]
        return Response({"mrrs": rows})

    @action(detail=False, methods=["get"])
    def overdue_balance(self, request):
        today, start, _, currency = self._window(request)
        found = {
            m.month: m
            for m in dashboard.overdue_by_month(today, currency, _customer(request.query_params))
        }
        rows = []
        for day in dashboard.month_ends(start, today):
            month = found.get(day.replace(day=1))
            rows.append(
                {
                    "month": _month(day),
                    "amount_cents": month.amount_cents if month else 0,
                    "currency": currency,
                    "lago_invoice_ids": month.lago_invoice_ids if month else [],
                }
            )
        return Response({"overdue_balances": rows})

    @action(detail=False, methods=["get"])
    def invoice_collection(self, request):
        _, start, end, currency = self._window(request)
        rows = [
            {
                "month": _month(m.month),
                "payment_status": m.payment_status,
                "invoices_count": m.invoices_count,
                "amount_cents": m.amount_cents,
                "currency": currency,
            }
            for m in dashboard.invoice_collection_by_month(start, end, currency)
        ]
        return Response({"invoice_collections": rows})
