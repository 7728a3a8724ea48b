"""Usage alerts: create (one or a batch, all or nothing), update, delete, and the one write
that triggers an alert (alert_record_value), with the alert.triggered webhook.

What the watched value is and when it is read belongs to whoever can read it: subscription
usage in usage/alerts.py (a higher layer), wallet balances in customers/alerts/wallets.py.
Both call alert_record_value, which locks the alert, works out the thresholds crossed since the
last evaluation and writes one AlertCrossing per (alert, value, period): the unique constraint
makes a rerun, a concurrent run or a second batch crossing the same threshold trigger nothing.
"""

from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from core.errors import NotFound, ValidationFailed
from core.locks import lock_one
from core.validation import Errors, check_code, parse_decimal
from customers.alerts.thresholds import Threshold, crossed
from customers.models import (
    AlertCrossing,
    AlertFlag,
    Subscription,
    TriggeredAlert,
    UsageAlert,
    UsageAlertThreshold,
    Wallet,
)
from plans.selectors import metric_get

Type = UsageAlert.AlertType
SUBSCRIPTION_TYPES = (
    Type.CURRENT_USAGE_AMOUNT,
    Type.BM_CURRENT_USAGE_AMOUNT,
    Type.BM_CURRENT_USAGE_UNITS,
    Type.LIFETIME_USAGE_AMOUNT,
)
CURRENT_USAGE_TYPES = SUBSCRIPTION_TYPES[:3]
METRIC_TYPES = (Type.BM_CURRENT_USAGE_AMOUNT, Type.BM_CURRENT_USAGE_UNITS)
WALLET_TYPES = (
    Type.WALLET_BALANCE_AMOUNT,
    Type.WALLET_CREDITS_BALANCE,
    Type.WALLET_ONGOING_BALANCE_AMOUNT,
    Type.WALLET_CREDITS_ONGOING_BALANCE,
)
ONGOING_TYPES = (Type.WALLET_ONGOING_BALANCE_AMOUNT, Type.WALLET_CREDITS_ONGOING_BALANCE)
MAX_THRESHOLDS = 20  # Lago's AlertThreshold::SOFT_LIMIT
MAX_VALUE = Decimal(10) ** 25  # numeric(30, 5)
VALUE_STEP = Decimal("0.00001")


def live_alerts():
    return UsageAlert.objects.filter(deleted_at__isnull=True)


# --- validation ------------------------------------------------------------------------------


def _thresholds(raw, errors: Errors) -> list[Threshold]:
    """Lago's checks, in its order: present, at most 20, no duplicate (value, recurring),
    values present and numeric, recurring ones positive. Not as Lago: a negative value (the
    spec's pattern has no sign) or one finer than 5 decimals is refused (value_is_invalid);
    two recurring thresholds are refused (Lago's unique index answers a 500)."""
    if not isinstance(raw, list) or not raw:
        errors.add("thresholds", "value_is_mandatory")
        return []
    if len(raw) > MAX_THRESHOLDS:
        errors.add("thresholds", "too_many_thresholds")
        return []
    if not all(isinstance(item, dict) for item in raw):
        errors.add("thresholds", "value_is_invalid")
        return []
    if any(item.get("value") is None for item in raw):
        errors.add("thresholds:value", "value_is_mandatory")
        return []
    parsed = []
    for item in raw:
        value = parse_decimal(item.get("value"))
        recurring = item.get("recurring", False)
        code = item.get("code")
        if recurring is None:
            recurring = False
        if value is None or value < 0 or abs(value) >= MAX_VALUE or _too_fine(value):
            errors.add("thresholds:value", "value_is_invalid")
            return []
        if not isinstance(recurring, bool):
            errors.add("thresholds:recurring", "value_is_invalid")
            return []
        if code is not None and (not isinstance(code, str) or len(code) > 255):
            errors.add("thresholds:code", "value_is_invalid")
            return []
        if recurring and value <= 0:
            errors.add("thresholds:value", "recurring_value_is_negative")
            return []
        parsed.append(Threshold(code, value, recurring))
    if len({(t.value, t.recurring) for t in parsed}) != len(parsed):
        errors.add("thresholds", "duplicate_threshold_values")
        return []
    if sum(t.recurring for t in parsed) > 1:
        errors.add("thresholds", "multiple_recurring_thresholds")
        return []
    return parsed


def _too_fine(value: Decimal) -> bool:
    return value != value.quantize(VALUE_STEP) if value.as_tuple().exponent < -5 else False


def _check_text(data: dict, name: str, errors: Errors, *, required: bool) -> None:
    value = data.get(name)
    if value in (None, ""):
        if required:
            errors.add(name, "value_is_mandatory")
        return
    if not isinstance(value, str) or len(value) > 255:
        errors.add(name, "value_is_invalid")


def _metric(data: dict, alert_type: str, errors: Errors, *, partial: bool = False):
    """The billable metric of a metric alert (404 when its code names none)."""
    code = data.get("billable_metric_code")
    if alert_type in METRIC_TYPES:
        if code in (None, ""):
            if not partial:
                errors.add("billable_metric", "value_is_mandatory")
            return None
        if not isinstance(code, str):
            errors.add("billable_metric_code", "value_is_invalid")
            return None
        return metric_get(code=code)
    if code not in (None, ""):
        errors.add("billable_metric", "value_must_be_blank")
    return None


# --- create, update, delete -----------------------------------------------------------------


def _target(alertable) -> dict:
    if isinstance(alertable, Wallet):
        return {"wallet": alertable, "subscription_external_id": None}
    return {"wallet": None, "subscription_external_id": alertable.external_id}


def _uniqueness(alertable, code: str, alert_type: str, metric, exclude=None) -> Errors:
    errors = Errors()
    rows = live_alerts().filter(**_target(alertable))
    if exclude is not None:
        rows = rows.exclude(pk=exclude.pk)
    if rows.filter(code=code).exists():
        errors.add("code", "value_already_exist")
    elif rows.filter(alert_type=alert_type, billable_metric=metric).exists():
        errors.add("base", "alert_already_exists")
    return errors


def _create(alertable, data, now: datetime) -> UsageAlert:
    if not isinstance(data, dict):
        raise ValidationFailed({"alert": ["value_is_invalid"]})
    errors = Errors()
    alert_type = data.get("alert_type")
    allowed = WALLET_TYPES if isinstance(alertable, Wallet) else SUBSCRIPTION_TYPES
    if alert_type in (None, ""):
        errors.add("alert_type", "value_is_mandatory")
    elif alert_type not in allowed:
        errors.add("alert_type", "invalid_type")
    if errors:
        raise ValidationFailed(errors)
    errors.add("code", check_code(data.get("code")))
    _check_text(data, "name", errors, required=False)
    thresholds = _thresholds(data.get("thresholds"), errors)
    metric = _metric(data, alert_type, errors)
    if errors:
        raise ValidationFailed(errors)
    errors = _uniqueness(alertable, data["code"], alert_type, metric)
    if errors:
        raise ValidationFailed(errors)
    decreasing = alert_type in WALLET_TYPES
    alert = UsageAlert.objects.create(
        alert_type=alert_type,
        code=data["code"],
        name=data.get("name") or "",
        direction="decreasing" if decreasing else "increasing",
        billable_metric=metric,
        **_target(alertable),
    )
    _write_thresholds(alert, thresholds)
    return alert


def _write_thresholds(alert: UsageAlert, thresholds: list[Threshold]) -> None:
    UsageAlertThreshold.objects.bulk_create(
        UsageAlertThreshold(alert=alert, code=t.code or "", value=t.value, recurring=t.recurring)
        for t in thresholds
    )


def _after_write(alerts: list[UsageAlert], alertable) -> None:
    """A new or changed alert is evaluated by the next run (Lago does the same): the
    subscription or wallet is flagged. A wallet alert starts from the balance it watches now
    (Lago: previous_value of a decreasing alert), set by customers/alerts/wallets.py."""
    if isinstance(alertable, Wallet):
        from customers.alerts.wallets import wallet_alerts_start

        wallet_alerts_start(alerts=[a for a in alerts if a.last_processed_at is None])
        alerts_flag_wallets([alertable.pk])
    else:
        alerts_flag_subscriptions({alertable.external_id})


def alert_create(*, alertable: Subscription | Wallet, data: dict) -> UsageAlert:
    """One alert ({"alert": {...}}); Lago's validation codes, nothing written on error."""
    now = timezone.now()
    try:
        with transaction.atomic():
            alert = _create(alertable, data, now)
    except IntegrityError as exc:  # a concurrent create with the same code or type
        raise ValidationFailed({"code": ["value_already_exist"]}) from exc
    _after_write([alert], alertable)
    return alert


def alerts_create_batch(*, alertable: Subscription | Wallet, items) -> list[UsageAlert]:
    """Several alerts atomically: any invalid one and none is created; errors by index."""
    if not isinstance(items, list) or not items:
        raise ValidationFailed({"alerts": ["no_alerts"]})
    if len(items) > MAX_THRESHOLDS * 5:
        raise ValidationFailed({"alerts": ["too_many_alerts"]})
    now, created, errors = timezone.now(), [], {}
    try:
        with transaction.atomic():
            for index, data in enumerate(items):
                try:
                    with transaction.atomic():
                        created.append(_create(alertable, data, now))
                except ValidationFailed as exc:
                    errors[str(index)] = exc.errors
                except IntegrityError:
                    errors[str(index)] = {"code": ["value_already_exist"]}
            if errors:
                raise ValidationFailed(errors)
    except IntegrityError as exc:
        raise ValidationFailed({"code": ["value_already_exist"]}) from exc
    _after_write(created, alertable)
    return created


def alert_update(*, alert: UsageAlert, data: dict, alertable) -> UsageAlert:
    """Code, name, the billable metric (metric alerts) and the thresholds (replaced when
    given); the type and target never change."""
    if not isinstance(data, dict):
        raise ValidationFailed({"alert": ["value_is_invalid"]})
    errors = Errors()
    if "code" in data:
        errors.add("code", check_code(data.get("code")))
    if "name" in data:
        _check_text(data, "name", errors, required=False)
    thresholds = None
    if data.get("thresholds") not in (None, []):
        thresholds = _thresholds(data.get("thresholds"), errors)
    metric = _metric(data, alert.alert_type, errors, partial=True)
    if errors:
        raise ValidationFailed(errors)
    code = data.get("code", alert.code)
    uniqueness = _uniqueness(
        alertable, code, alert.alert_type, metric or alert.billable_metric, exclude=alert
    )
    if uniqueness:
        raise ValidationFailed(uniqueness)
    try:
        with transaction.atomic():
            alert = lock_one(UsageAlert, alert.pk)
            alert.code = code
            if "name" in data:
                alert.name = data.get("name") or ""
            if metric is not None:
                alert.billable_metric = metric
            alert.save()
            if thresholds is not None:
                alert.thresholds.all().delete()
                _write_thresholds(alert, thresholds)
    except IntegrityError as exc:
        raise ValidationFailed({"code": ["value_already_exist"]}) from exc
    _after_write([alert], alertable)
    return alert


@transaction.atomic
def alert_delete(*, alert: UsageAlert) -> UsageAlert:
    """Lago discards the alert (its triggered alerts stay listed) and drops its thresholds;
    the response still shows them, as read before the delete."""
    thresholds = list(alert.thresholds.all())
    alert.deleted_at = timezone.now()
    alert.save(update_fields=["deleted_at", "updated_at"])
    alert.thresholds.all().delete()
    alert.shown_thresholds = thresholds
    return alert


@transaction.atomic
def alerts_delete_all(*, alertable) -> int:
    rows = live_alerts().filter(**_target(alertable))
    UsageAlertThreshold.objects.filter(alert__in=rows).delete()
    return rows.update(deleted_at=timezone.now())


def alert_get(*, alertable, code: str) -> UsageAlert:
    alert = (
        live_alerts()
        .filter(code=code, **_target(alertable))
        .select_related("billable_metric", "wallet")
        .first()
    )
    if alert is None:
        raise NotFound("alert")
    return alert


def alerts_of(alertable):
    return (
        live_alerts()
        .filter(**_target(alertable))
        .select_related("billable_metric", "wallet")
        .prefetch_related("thresholds", "billable_metric__filters")
        .order_by("created_at", "id")
    )


# --- flags: what the evaluation task looks at -------------------------------------------------


def alerts_flag_subscriptions(external_ids: set[str]) -> int:
    """Flag the subscriptions (external ids) whose new usage an alert watches: their own
    alerts, or an ongoing-balance alert of their customer's wallets. One indexed read, and
    one INSERT … ON CONFLICT DO NOTHING when any is watched: cheap enough for ingestion."""
    if not external_ids:
        return 0
    own = live_alerts().filter(subscription_external_id__in=external_ids)
    ongoing = live_alerts().filter(
        alert_type__in=ONGOING_TYPES, wallet__customer=OuterRef("customer_id")
    )
    watched = set(
        Subscription.objects.filter(external_id__in=external_ids)
        .filter(
            Q(external_id__in=own.values("subscription_external_id"))
            | Q(Exists(ongoing), status=Subscription.Status.ACTIVE)
        )
        .order_by()
        .values_list("external_id", flat=True)
        .distinct()
    )
    if watched:
        AlertFlag.objects.bulk_create(
            [AlertFlag(external_subscription_id=e) for e in sorted(watched)],
            ignore_conflicts=True,
        )
    return len(watched)


def alerts_flag_wallets(wallet_ids) -> int:
    """Flag the wallets (ids) that have live alerts (their balance changed)."""
    wallet_ids = set(wallet_ids)
    if not wallet_ids:
        return 0
    watched = set(
        live_alerts().filter(wallet_id__in=wallet_ids).values_list("wallet_id", flat=True)
    )
    if watched:
        AlertFlag.objects.bulk_create(
            [AlertFlag(wallet_id=w) for w in sorted(watched)], ignore_conflicts=True
        )
    return len(watched)


def alert_flags_claim(*, limit: int) -> tuple[list[str], list[int]]:
    """Take up to `limit` flags: each row deleted by exactly one caller is that caller's
    (a concurrent run gets the others). Deleted before any usage is read, so usage that
    arrives meanwhile flags again."""
    subscriptions, wallets = [], []
    rows = AlertFlag.objects.order_by("flagged_at", "id").values_list(
        "pk", "external_subscription_id", "wallet_id"
    )[:limit]
    for pk, external_id, wallet_id in list(rows):
        if AlertFlag.objects.filter(pk=pk).delete()[0]:
            if external_id is not None:
                subscriptions.append(external_id)
            else:
                wallets.append(wallet_id)
    return subscriptions, wallets


# --- triggering ------------------------------------------------------------------------------


def _thresholds_of(alert: UsageAlert) -> list[Threshold]:
    return [Threshold(t.code or None, t.value, t.recurring) for t in alert.thresholds.all()]


def alert_record_value(
    *,
    alert: UsageAlert,
    value: Decimal | int,
    period_start: datetime,
    subscription: Subscription | None = None,
    wallet: Wallet | None = None,
    now: datetime | None = None,
) -> TriggeredAlert | None:
    """Record the value the alert watches, read now; trigger the thresholds crossed since the
    last evaluation that this period has not triggered yet (one TriggeredAlert, one
    AlertCrossing per value, the alert.triggered webhook after commit). An increasing alert
    starts a new period from zero, so each period triggers its thresholds again."""
    now = now or timezone.now()
    value = Decimal(value)
    with transaction.atomic():
        alert = UsageAlert.objects.select_for_update().filter(pk=alert.pk).first()
        if alert is None or alert.deleted_at is not None:
            return None
        increasing = alert.direction == UsageAlert.Direction.INCREASING
        previous = alert.previous_value
        if increasing and alert.period_start != period_start:
            previous = Decimal(0)
        done = set(
            AlertCrossing.objects.filter(alert=alert, period_start=period_start).values_list(
                "value", flat=True
            )
        )
        hits = [
            t
            for t in crossed(_thresholds_of(alert), previous, value, increasing=increasing)
            if t.value not in done
        ]
        triggered = None
        if hits:
            triggered = _trigger(
                alert, hits, previous, value, period_start, subscription, wallet, now
            )
        UsageAlert.objects.filter(pk=alert.pk).update(
            previous_value=value, period_start=period_start, last_processed_at=now
        )
    return triggered


def _trigger(alert, hits, previous, value, period_start, subscription, wallet, now):
    from customers.alerts.serializers import threshold_json

    try:
        with transaction.atomic():
            triggered = TriggeredAlert.objects.create(
                alert=alert,
                subscription=subscription,
                wallet=wallet,
                current_value=value,
                previous_value=previous,
                crossed_thresholds=[threshold_json(t) for t in hits],
                period_start=period_start,
                triggered_at=now,
            )
            AlertCrossing.objects.bulk_create(
                AlertCrossing(
                    alert=alert, triggered_alert=triggered, value=t.value, period_start=period_start
                )
                for t in hits
            )
    except IntegrityError:  # another run recorded these crossings first (backstop)
        return None
    _notify(triggered)
    return triggered


def _notify(triggered: TriggeredAlert) -> None:
    from customers.alerts.serializers import triggered_alert_json
    from webhooks.services import webhook_send

    webhook_send(
        webhook_type="alert.triggered",
        object_type="triggered_alert",
        data=triggered_alert_json(triggered),
    )
