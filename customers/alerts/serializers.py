"""The JSON of alerts and triggered alerts (Lago's V1::UsageMonitoring serializers), for the API
and the alert.triggered webhook alike."""

from decimal import Decimal

from core.api.formats import iso
from core.selectors import organization_get
from customers.alerts.thresholds import Threshold
from customers.models import TriggeredAlert, UsageAlert


def json_number(value) -> int | float | str:
    """A Decimal as a JSON number whose text is its exact digits: an int when whole, else a
    float only when its shortest text is the same decimal (no binary rounding reaches the
    wire); the decimal text otherwise."""
    value = Decimal(value)
    if value == value.to_integral_value():
        return int(value)
    as_float = float(value)
    return as_float if Decimal(repr(as_float)) == value else decimal_text(value)


def decimal_text(value) -> str:
    """Lago's BigDecimal text, shortest: "1000.0", "12.5"."""
    text = format(Decimal(value).normalize(), "f")
    return text if "." in text else f"{text}.0"


def threshold_json(threshold) -> dict:
    """{code, value (Lago's BigDecimal text, "1000.0"), recurring}."""
    if not isinstance(threshold, Threshold):
        threshold = Threshold(threshold.code or None, threshold.value, threshold.recurring)
    return {
        "code": threshold.code,
        "value": decimal_text(threshold.value),
        "recurring": threshold.recurring,
    }


def alert_json(alert: UsageAlert, organization_id: str | None = None) -> dict:
    from plans.api import metric_json

    thresholds = getattr(alert, "shown_thresholds", None)
    if thresholds is None:
        thresholds = alert.thresholds.all()
    wallet = alert.wallet
    return {
        "lago_id": str(alert.lago_id),
        "lago_organization_id": organization_id or str(organization_get().lago_id),
        "subscription_external_id": alert.subscription_external_id,  # deprecated (Lago)
        "external_subscription_id": alert.subscription_external_id,
        "lago_wallet_id": str(wallet.lago_id) if wallet else None,
        "wallet_code": wallet.code if wallet else None,
        "alert_type": alert.alert_type,
        "code": alert.code,
        "name": alert.name or None,
        "direction": alert.direction,
        "previous_value": json_number(alert.previous_value),
        "last_processed_at": iso(alert.last_processed_at),
        "thresholds": [
            threshold_json(t) for t in sorted(thresholds, key=lambda t: (t.recurring, t.value))
        ],
        "created_at": iso(alert.created_at),
        "billable_metric": metric_json(alert.billable_metric) if alert.billable_metric else None,
    }


def triggered_alert_json(triggered: TriggeredAlert) -> dict:
    alert = triggered.alert
    subscription, wallet = triggered.subscription, triggered.wallet
    customer = subscription.customer if subscription else wallet.customer if wallet else None
    external_customer_id = customer.external_id if customer else None
    return {
        "lago_id": str(triggered.lago_id),
        "lago_organization_id": str(organization_get().lago_id),
        "lago_alert_id": str(alert.lago_id),
        "lago_subscription_id": str(subscription.lago_id) if subscription else None,
        "external_subscription_id": alert.subscription_external_id,
        "lago_wallet_id": str(wallet.lago_id) if wallet else None,
        "wallet_code": wallet.code if wallet else None,
        "external_customer_id": external_customer_id,
        "billable_metric_code": alert.billable_metric.code if alert.billable_metric else None,
        "alert_name": alert.name or None,
        "alert_code": alert.code,
        "alert_type": alert.alert_type,
        "current_value": json_number(triggered.current_value),
        "previous_value": json_number(triggered.previous_value),
        "crossed_thresholds": triggered.crossed_thresholds,
        "triggered_at": iso(triggered.triggered_at),
        "subscription_external_id": alert.subscription_external_id,  # deprecated (Lago)
        "customer_external_id": external_customer_id,  # deprecated (Lago)
    }
