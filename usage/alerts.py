"""Usage alerts on subscriptions: the values they watch, read from the current usage report
(aggregated in SQL, usage/reports.py), and the evaluation of the flagged subscriptions.

Ingestion only flags (customers.alerts.services.alerts_flag_subscriptions: one indexed read,
one INSERT … ON CONFLICT DO NOTHING) and schedules the debounced task; the task
(usage.process_alerts, also on beat every minute) claims the flags and evaluates each
subscription once, its current usage priced once for all its alerts. Each crossed threshold is
recorded once per (alert, value, period) by customers.alerts.services.alert_record_value.
A subscription's new usage also moves its customer's ongoing wallet balances: their wallet
alerts are evaluated in the same run."""

import logging
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from core import hooks
from customers.alerts.services import (
    CURRENT_USAGE_TYPES,
    alert_flags_claim,
    alert_record_value,
    alerts_flag_subscriptions,
    live_alerts,
)
from customers.alerts.wallets import wallets_evaluate_alerts, wallets_evaluate_flagged
from customers.models import Subscription, TriggeredAlert, UsageAlert
from usage.reports import UsageReport, charges_period_bounds, current_usage, subscription_usage

logger = logging.getLogger("usage.alerts")
Type = UsageAlert.AlertType
DEBOUNCE_KEY = "usage-alerts-run"
BATCH = 500  # flags per run; a full batch enqueues the next run at once


def alerts_after_ingest(external_subscription_ids: set[str]) -> None:
    """Flag the subscriptions with alerts and, after commit, schedule one evaluation run at
    most every ALERTS_PROCESS_DELAY_SECONDS. A run lost on the way leaves its flags: the beat
    (every minute) takes them."""
    if not alerts_flag_subscriptions(external_subscription_ids):
        return
    transaction.on_commit(schedule_alerts_run)


def schedule_alerts_run() -> None:
    from usage.tasks import process_alerts  # tasks import this module

    delay = settings.ALERTS_PROCESS_DELAY_SECONDS
    if delay and not cache.add(DEBOUNCE_KEY, 1, timeout=delay):
        return  # a run is due within `delay` seconds and will see these flags
    process_alerts.apply_async(countdown=delay)


# --- values ----------------------------------------------------------------------------------


def _metric_value(report: UsageReport, alert: UsageAlert) -> Decimal | int | None:
    """Lago's billable metric alerts: the largest amount (or units) among the charges of that
    metric (None when the plan has no such charge: the alert is not evaluated)."""
    charges = [c for c in report.charges if c.charge.billable_metric_id == alert.billable_metric_id]
    if not charges:
        return None
    if alert.alert_type == Type.BM_CURRENT_USAGE_AMOUNT:
        return max(c.amount_cents for c in charges)
    return max(c.units for c in charges)


def lifetime_usage_cents(subscription: Subscription, now: datetime) -> int:
    """Lago's lifetime usage, as progressive billing counts it: in-arrears usage invoiced at
    earlier period ends (answered by invoicing through the `usage.invoiced_usage` hook) plus
    the current period's."""
    lower, upper = charges_period_bounds(subscription, now)
    lower = max(lower, subscription.started_at or lower)
    invoiced = sum(hooks.run("usage.invoiced_usage", subscription=subscription, before=lower))
    period = subscription_usage(subscription, lower, upper, billable_only=True).amount_cents
    return invoiced + period


def subscription_evaluate_alerts(
    *, external_subscription_id: str, now: datetime | None = None
) -> list[TriggeredAlert]:
    """Evaluate the live alerts of the active subscription with this external id, then its
    customer's wallet alerts (their ongoing balance moved with the usage)."""
    now = now or timezone.now()
    subscription = (
        Subscription.objects.filter(
            external_id=external_subscription_id, status=Subscription.Status.ACTIVE
        )
        .select_related("customer", "plan")
        .first()
    )
    if subscription is None or subscription.started_at is None:
        return []
    alerts = list(
        live_alerts()
        .filter(subscription_external_id=external_subscription_id)
        .select_related("billable_metric")
        .prefetch_related("thresholds")
    )
    triggered = []
    report = None
    period_start = charges_period_bounds(subscription, now)[0]
    for alert in alerts:
        if alert.alert_type in CURRENT_USAGE_TYPES:
            report = report or current_usage(subscription, now)
            if alert.alert_type == Type.CURRENT_USAGE_AMOUNT:
                value = report.amount_cents
            else:
                value = _metric_value(report, alert)
            start = period_start
        else:
            value, start = lifetime_usage_cents(subscription, now), subscription.started_at
        if value is None:
            continue
        result = alert_record_value(
            alert=alert, value=value, period_start=start, subscription=subscription, now=now
        )
        if result is not None:
            triggered.append(result)
    triggered += wallets_evaluate_alerts(customer=subscription.customer, now=now)
    return triggered


def alerts_process_flagged(*, now: datetime | None = None, limit: int = BATCH) -> tuple[int, list]:
    """Claim up to `limit` flags and evaluate them, each subscription or wallet on its own: one
    that fails is logged and flagged again, the others go on. (flags claimed, triggered)."""
    from customers.alerts.services import alerts_flag_wallets

    now = now or timezone.now()
    subscriptions, wallets = alert_flags_claim(limit=limit)
    triggered = []
    for external_id in subscriptions:
        try:
            triggered += subscription_evaluate_alerts(external_subscription_id=external_id, now=now)
        except Exception:
            logger.exception("alerts of subscription %s failed", external_id)
            alerts_flag_subscriptions({external_id})
    try:
        triggered += wallets_evaluate_flagged(wallets, now=now)
    except Exception:
        logger.exception("wallet alerts failed")
        alerts_flag_wallets(wallets)
    return len(subscriptions) + len(wallets), triggered
