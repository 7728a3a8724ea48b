"""Lago's CustomerUsageResponse shape for a UsageReport."""

from datetime import timedelta

from core.api.formats import decimal_str, iso
from core.errors import ValidationFailed
from core.limits import OUT_OF_RANGE, amount_fits, number_fits
from core.money import round_places
from customers.selectors import customer_timezone
from plans import periods
from usage.reports import ChargeUsage, FeeLine, UsageReport
from usage.taxes import usage_taxes_cents

ONE_SECOND = timedelta(seconds=1)


def _filter_json(lines: list[FeeLine], currency: str) -> list[dict]:
    """One entry per filter (and one for the default price, values null) of a charge."""
    entries: dict = {}
    for line in lines:
        key = line.charge_filter.pk if line.charge_filter else 0
        entry = entries.setdefault(
            key,
            {
                "invoice_display_name": line.charge_filter.invoice_display_name or None
                if line.charge_filter
                else None,
                "values": line.charge_filter.values if line.charge_filter else None,
                "units": 0,
                "total_aggregated_units": 0,
                "amount_cents": 0,
                "events_count": 0,
            },
        )
        entry["units"] += line.units
        entry["total_aggregated_units"] += line.aggregated_units
        entry["amount_cents"] += line.amount_cents
        entry["events_count"] += line.events_count
    for entry in entries.values():
        entry["units"] = decimal_str(entry["units"])
        entry["total_aggregated_units"] = decimal_str(entry["total_aggregated_units"])
    return list(entries.values())


def _grouped_json(charge: ChargeUsage, currency: str) -> list[dict]:
    groups: dict = {}
    for line in charge.lines:
        groups.setdefault(tuple(line.group.items()), []).append(line)
    return [
        {
            "grouped_by": dict(key),
            "amount_cents": sum(line.amount_cents for line in lines),
            "events_count": sum(line.events_count for line in lines),
            "units": decimal_str(sum(line.units for line in lines)),
            "total_aggregated_units": decimal_str(sum(line.aggregated_units for line in lines)),
            "filters": _filter_json(lines, currency) if charge.charge.filters.all() else [],
        }
        for key, lines in groups.items()
    ]


def charge_usage_json(charge: ChargeUsage, currency: str) -> dict:
    metric = charge.charge.billable_metric
    has_filters = any(f.deleted_at is None for f in charge.charge.filters.all())
    has_groups = bool(charge.charge.properties.get("pricing_group_keys"))
    return {
        "units": decimal_str(charge.units),
        "total_aggregated_units": decimal_str(charge.aggregated_units),
        "events_count": charge.events_count,
        "amount_cents": charge.amount_cents,
        "amount_currency": currency,
        "charge": {
            "lago_id": str(charge.charge.lago_id),
            "charge_model": charge.charge.charge_model,
            "invoice_display_name": charge.charge.invoice_display_name or None,
        },
        "billable_metric": {
            "lago_id": str(metric.lago_id),
            "name": metric.name,
            "code": metric.code,
            "aggregation_type": metric.aggregation_type,
        },
        "filters": _filter_json(charge.lines, currency) if has_filters else [],
        "grouped_usage": _grouped_json(charge, currency) if has_groups else [],
    }


def check_in_range(report: UsageReport) -> None:
    """A period whose amount or units exceed what an invoice can hold (core/limits.py; rows
    stored before the range checks) answers 422 rather than a number no client can read."""
    for charge in report.charges:
        if not number_fits(charge.units) or not amount_fits(charge.amount_cents):
            raise ValidationFailed({"amount_cents": [OUT_OF_RANGE]})
    if not amount_fits(report.amount_cents):
        raise ValidationFailed({"amount_cents": [OUT_OF_RANGE]})


def usage_json(report: UsageReport) -> dict:
    """The usage with its taxes, computed as the period's invoice computes them (usage/taxes.py)."""
    check_in_range(report)
    tz = customer_timezone(report.subscription.customer)
    issuing_date = periods.local_date(report.to_datetime, tz)
    taxes_amount_cents = usage_taxes_cents(report, issuing_date)
    return {
        "from_datetime": iso(report.from_datetime),
        "to_datetime": iso(report.to_datetime - ONE_SECOND),
        "issuing_date": issuing_date.isoformat(),
        "lago_invoice_id": None,
        "currency": report.currency,
        "amount_cents": report.amount_cents,
        "taxes_amount_cents": taxes_amount_cents,
        "total_amount_cents": report.amount_cents + taxes_amount_cents,
        "charges_usage": [charge_usage_json(c, report.currency) for c in report.charges],
    }


def projected_units_str(units) -> str:
    """Lago's projected_units: rounded to 2 decimals (half-up), trailing zeros trimmed, at
    least one decimal ("1234.57", "300.0"); the amount is priced on the unrounded units."""
    return decimal_str(round_places(units, 2).normalize())


def projected_usage_json(current: UsageReport, projected: UsageReport) -> dict:
    """Lago's customer_projected_usage: the current usage with, per charge and in total, the
    units and amount projected to the period's end."""
    check_in_range(projected)
    body = usage_json(current)
    body["projected_amount_cents"] = projected.amount_cents
    for entry, charge in zip(body["charges_usage"], projected.charges, strict=True):
        entry["projected_units"] = projected_units_str(charge.units)
        entry["projected_amount_cents"] = charge.amount_cents
    return body
