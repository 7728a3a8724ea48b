"""Plan services: create/update/delete a plan with its charges, charge filters, minimum
commitment and usage thresholds; per-subscription overrides as hidden child plans."""

import uuid
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from core.bulk import bulk_job_start
from core.errors import ValidationFailed
from core.locks import lock_one
from core.models import BulkJob
from core.validation import Errors, check_choice, check_code, check_currency, parse_decimal
from plans import aggregation_types
from plans.charge_models import REGISTRY
from plans.charge_properties import properties_or_default, validate_properties
from plans.models import (
    BillableMetric,
    Charge,
    ChargeFilter,
    ChargeModel,
    ChargePrice,
    Commitment,
    Interval,
    Plan,
    PlanPrice,
    UsageThreshold,
)
from plans.services.changes import catalog_changed_on_commit
from plans.services.fixed_charges import (
    fixed_charges_copy,
    fixed_charges_errors,
    fixed_charges_sync,
)

ALL_FILTER_VALUES = "__ALL_FILTER_VALUES__"
IN_ADVANCE_AGGREGATIONS = aggregation_types.IN_ADVANCE  # count, sum, unique count
PLAN_FIELDS = (
    "name",
    "code",
    "description",
    "invoice_display_name",
    "interval",
    "amount_cents",
    "amount_currency",
    "pay_in_advance",
    "trial_period",
    "bill_charges_monthly",
    "tax_codes",
    "metadata",
)
LOCKED_WITH_SUBSCRIPTIONS = ("interval", "pay_in_advance", "amount_currency")
CHARGE_FIELDS = (
    "charge_model",
    "pay_in_advance",
    "invoiceable",
    "prorated",
    "min_amount_cents",
    "invoice_display_name",
    "tax_codes",
)


# --- validation ------------------------------------------------------------------------------


def _known_values(allowed: dict[str, set], key: str, wanted) -> bool:
    """A filter may use a metric's keys with its values, or "any value" of a key."""
    if key not in allowed or not isinstance(wanted, list) or not wanted:
        return False
    return all(value == ALL_FILTER_VALUES or value in allowed[key] for value in wanted)


def charge_filter_errors(filters, metric: BillableMetric | None, charge_model: str) -> Errors:
    errors = Errors()
    if not isinstance(filters, list):
        errors.add("filters", "invalid_format")
        return errors
    allowed = {f.key: set(f.values) for f in metric.filters.all()} if metric else {}
    for index, item in enumerate(filters):
        values = item.get("values") if isinstance(item, dict) else None
        if not isinstance(values, dict) or not values:
            errors.add(f"filters.{index}.values", "invalid_format")
            continue
        if not all(_known_values(allowed, key, wanted) for key, wanted in values.items()):
            errors.add(f"filters.{index}.values", "invalid_filter_values")
        _, property_errors = validate_properties(charge_model, item.get("properties") or {})
        errors.merge(property_errors, prefix=f"filters.{index}.properties.")
    return errors


def charge_errors(data: dict, metric: BillableMetric | None) -> Errors:
    """Rules of one charge (Lago's charge validators), given its resolved metric."""
    errors = Errors()
    model = data.get("charge_model")
    errors.add("charge_model", check_choice(model, ChargeModel.values))
    if metric is None:
        errors.add("billable_metric_id", "metric_not_found")
    if errors:
        return errors
    properties = properties_or_default(model, data.get("properties"))
    _, property_errors = validate_properties(model, properties)
    errors.merge(property_errors, prefix="properties.")
    aggregation = metric.aggregation_type
    spec = REGISTRY[model]
    if data.get("pay_in_advance") and (
        aggregation not in IN_ADVANCE_AGGREGATIONS or not spec.pay_in_advance
    ):
        errors.add("pay_in_advance", "invalid_aggregation_type_or_charge_model")
    if data.get("invoiceable") is False and not data.get("pay_in_advance"):
        errors.add("invoiceable", "only_with_pay_in_advance")
    if data.get("prorated"):
        prorates = spec.prorated_in_advance if data.get("pay_in_advance") else spec.prorated
        kind = aggregation_types.REGISTRY.get(aggregation)
        weighted = kind is not None and kind.time_weighted  # already weighted by time
        if not metric.recurring or not prorates or weighted:
            errors.add("prorated", "invalid_billable_metric_or_charge_model")
    minimum = data.get("min_amount_cents") or 0
    if isinstance(minimum, bool) or not isinstance(minimum, int) or minimum < 0:
        errors.add("min_amount_cents", "value_is_invalid")
    elif minimum and data.get("pay_in_advance"):
        errors.add("min_amount_cents", "not_compatible_with_pay_in_advance")
    if aggregation not in spec.aggregations:
        errors.add("charge_model", "not_compatible_with_aggregation_type")
    if "filters" in data:
        errors.merge(charge_filter_errors(data["filters"], metric, model))
    if data.get("code") is not None:
        errors.add("code", check_code(data["code"]))
    return errors


def plan_errors(data: dict, instance: Plan | None) -> Errors:
    """Rules of a plan's own fields (not its charges)."""
    errors = Errors()
    errors.add("name", None if data.get("name") else "value_is_mandatory")
    errors.add("code", check_code(data.get("code")))
    errors.add("interval", check_choice(data.get("interval"), Interval.values))
    errors.add("amount_currency", check_currency(data.get("amount_currency")))
    amount = data.get("amount_cents")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
        errors.add("amount_cents", "value_is_invalid")
    trial = parse_decimal(data.get("trial_period", 0))
    if trial is None or trial < 0:
        errors.add("trial_period", "value_is_invalid")
    if not isinstance(data.get("tax_codes", []), list):
        errors.add("tax_codes", "invalid_format")
    if not isinstance(data.get("metadata", {}), dict):
        errors.add("metadata", "invalid_format")
    taken = Plan.objects.live().filter(parent__isnull=True, code=data.get("code"))
    if instance is not None:
        taken = taken.exclude(pk=instance.pk)
        if instance.subscriptions.exists():
            for field in LOCKED_WITH_SUBSCRIPTIONS:
                if data.get(field) != getattr(instance, field):
                    errors.add(field, "cannot_change_when_plan_has_subscriptions")
    if data.get("code") and taken.exists():
        errors.add("code", "value_already_exist")
    return errors


def _commitment_errors(commitment) -> Errors:
    errors = Errors()
    if commitment in (None, {}):
        return errors
    amount = commitment.get("amount_cents") if isinstance(commitment, dict) else None
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
        errors.add("minimum_commitment.amount_cents", "value_is_invalid")
    return errors


def _threshold_errors(thresholds) -> Errors:
    errors = Errors()
    if not isinstance(thresholds, list):
        errors.add("usage_thresholds", "invalid_format")
        return errors
    for index, item in enumerate(thresholds):
        amount = item.get("amount_cents") if isinstance(item, dict) else None
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            errors.add(f"usage_thresholds.{index}.amount_cents", "value_is_invalid")
    if sum(1 for item in thresholds if isinstance(item, dict) and item.get("recurring")) > 1:
        errors.add("usage_thresholds", "multiple_recurring_thresholds")
    return errors


def resolve_metrics(charges) -> dict[str, BillableMetric]:
    """The metrics the charges name; charges of the wrong type are left to _charges_errors."""
    charges = [c for c in charges if isinstance(c, dict)] if isinstance(charges, list) else []
    ids = {str(c.get("billable_metric_id")) for c in charges if c.get("billable_metric_id")}
    valid = [value for value in ids if _is_uuid(value)]
    metrics = BillableMetric.objects.live().filter(lago_id__in=valid).prefetch_related("filters")
    return {str(metric.lago_id): metric for metric in metrics}


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _charges_errors(charges, metrics: dict[str, BillableMetric]) -> Errors:
    errors = Errors()
    if not isinstance(charges, list):
        errors.add("charges", "invalid_format")
        return errors
    for index, charge in enumerate(charges):
        if not isinstance(charge, dict):
            errors.add(f"charges.{index}", "invalid_format")
            continue
        metric = metrics.get(str(charge.get("billable_metric_id")))
        errors.merge(charge_errors(charge, metric), prefix=f"charges.{index}.")
    return errors


# --- writes ----------------------------------------------------------------------------------


def _normalise_plan(data: dict) -> dict:
    data = dict(data)
    for field in ("description", "invoice_display_name"):
        if field in data and data[field] is None:
            data[field] = ""
    if isinstance(data.get("amount_currency"), str):
        data["amount_currency"] = data["amount_currency"].upper()
    if data.get("interval") not in (Interval.YEARLY, Interval.SEMIANNUAL):
        data["bill_charges_monthly"] = False
    if data.get("trial_period") is not None:
        data["trial_period"] = parse_decimal(data["trial_period"])
    return data


def _save_plan(plan: Plan, data: dict) -> Plan:
    for field in PLAN_FIELDS:
        if field in data and data[field] is not None:
            setattr(plan, field, data[field])
    try:
        with transaction.atomic():
            plan.save()
    except IntegrityError as exc:
        raise ValidationFailed({"code": ["value_already_exist"]}) from exc
    return plan


def unique_charge_code(plan: Plan, wanted: str, taken: set[str]) -> str:
    code, suffix = wanted, 2
    while code in taken:
        code, suffix = f"{wanted}_{suffix}", suffix + 1
    taken.add(code)
    return code


def _sync_filters(charge: Charge, filters: list[dict]) -> None:
    """Replace the charge's filters with `filters` (matched by their value sets)."""
    existing = {filter_key(f.values): f for f in charge.filters.live()}
    kept = set()
    for item in filters:
        key = filter_key(item["values"])
        row = existing.get(key) or ChargeFilter(charge=charge, values=item["values"])
        row.invoice_display_name = item.get("invoice_display_name") or ""
        row.properties, _ = validate_properties(charge.charge_model, item.get("properties") or {})
        row.save()
        kept.add(key)
    stale = [f.pk for key, f in existing.items() if key not in kept]
    ChargeFilter.objects.filter(pk__in=stale).update(deleted_at=timezone.now())


def filter_key(values: dict) -> tuple:
    return tuple(sorted((k, tuple(sorted(v))) for k, v in values.items()))


def save_charge(charge: Charge, data: dict, metric: BillableMetric) -> Charge:
    charge.billable_metric = metric
    for field in CHARGE_FIELDS:
        if field in data and data[field] is not None:
            setattr(charge, field, data[field])
    if "properties" in data or charge.pk is None:
        properties = properties_or_default(charge.charge_model, data.get("properties"))
        charge.properties, _ = validate_properties(charge.charge_model, properties)
    charge.save()
    if "filters" in data:
        _sync_filters(charge, data["filters"])
    return charge


def _sync_charges(plan: Plan, charges: list[dict], metrics: dict[str, BillableMetric]) -> None:
    """Make the plan's live charges exactly `charges`: update by id or code, add, soft-delete."""
    live = {str(c.lago_id): c for c in plan.charges.live()}
    by_code = {c.code: c for c in live.values()}
    kept: set[int] = set()
    taken = set(by_code)
    for data in charges:
        charge = live.get(str(data.get("id"))) or by_code.get(data.get("code") or "")
        metric = metrics[str(data["billable_metric_id"])]
        if charge is None:
            charge = Charge(plan=plan)
            charge.code = unique_charge_code(plan, data.get("code") or metric.code, taken)
        save_charge(charge, data, metric)
        kept.add(charge.pk)
    stale = [c.pk for c in live.values() if c.pk not in kept]
    Charge.objects.filter(pk__in=stale).update(deleted_at=timezone.now())


def _sync_commitment(plan: Plan, commitment: dict | None) -> None:
    if not commitment:
        Commitment.objects.filter(plan=plan).delete()
        return
    Commitment.objects.update_or_create(
        plan=plan,
        defaults={
            "amount_cents": commitment["amount_cents"],
            "invoice_display_name": commitment.get("invoice_display_name") or "",
            "tax_codes": commitment.get("tax_codes") or [],
        },
    )


def _sync_thresholds(plan: Plan, thresholds: list[dict]) -> None:
    live = {str(t.lago_id): t for t in plan.usage_thresholds.all()}
    kept = []
    plan.usage_thresholds.filter(recurring=True).exclude(
        lago_id__in=[t.get("id") for t in thresholds if t.get("recurring") and t.get("id")]
    ).delete()  # free the one-recurring slot before re-adding
    for data in thresholds:
        row = live.get(str(data.get("id"))) or UsageThreshold(plan=plan)
        row.amount_cents = data["amount_cents"]
        row.recurring = bool(data.get("recurring"))
        row.threshold_display_name = data.get("threshold_display_name") or ""
        row.save()
        kept.append(row.pk)
    plan.usage_thresholds.exclude(pk__in=kept).delete()


def _prices_errors(prices, plan_currency, charges_by_code: dict) -> Errors:
    """Our extension: prices in other currencies, [{currency, amount_cents,
    charges: [{charge_code, properties}]}] (properties in the charge's own model)."""
    errors = Errors()
    if not isinstance(prices, list):
        errors.add("prices", "invalid_format")
        return errors
    seen = set()
    for index, price in enumerate(prices):
        currency = price.get("currency") if isinstance(price, dict) else None
        if check_currency(currency) or currency in seen or currency == plan_currency:
            errors.add(f"prices.{index}.currency", "value_is_invalid")
            continue
        seen.add(currency)
        amount = price.get("amount_cents")
        if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
            errors.add(f"prices.{index}.amount_cents", "value_is_invalid")
        for position, item in enumerate(price.get("charges") or []):
            model = charges_by_code.get(item.get("charge_code") if isinstance(item, dict) else None)
            if model is None:
                errors.add(f"prices.{index}.charges.{position}.charge_code", "charge_not_found")
                continue
            _, property_errors = validate_properties(model, item.get("properties"))
            errors.merge(property_errors, prefix=f"prices.{index}.charges.{position}.properties.")
    return errors


def _sync_prices(plan: Plan, prices: list[dict]) -> None:
    """Replace the plan's prices in other currencies (and its charges' prices)."""
    plan.prices.all().delete()
    ChargePrice.objects.filter(charge__plan=plan).delete()
    charges = {c.code: c for c in plan.charges.live()}
    for price in prices:
        PlanPrice.objects.create(
            plan=plan, currency=price["currency"].upper(), amount_cents=price["amount_cents"]
        )
        for item in price.get("charges") or []:
            charge = charges[item["charge_code"]]
            properties, _ = validate_properties(charge.charge_model, item.get("properties"))
            ChargePrice.objects.create(
                charge=charge, currency=price["currency"].upper(), properties=properties
            )


STORED_WHEN_OMITTED = ("pay_in_advance", "invoiceable", "prorated")


def _as_saved(charges, plan: Plan | None) -> list:
    """The charges as they will be saved: a charge matched by id or code keeps the stored
    flags the update leaves out (so `prorated` is checked against a new model, as Lago does)."""
    if plan is None or not isinstance(charges, list):
        return charges
    live = {str(c.lago_id): c for c in plan.charges.live()}
    by_code = {c.code: c for c in live.values()}
    saved = []
    for data in charges:
        stored = None
        if isinstance(data, dict):
            code = data.get("code")
            stored = live.get(str(data.get("id"))) or by_code.get(
                code if isinstance(code, str) else ""
            )
        if stored is None:
            saved.append(data)
            continue
        kept = {f: getattr(stored, f) for f in STORED_WHEN_OMITTED if data.get(f) is None}
        saved.append({**data, **kept})
    return saved


def _validate_all(data: dict, instance: Plan | None) -> dict[str, BillableMetric]:
    errors = plan_errors(data, instance)
    metrics = resolve_metrics(data.get("charges") or [])
    if "charges" in data:
        errors.merge(_charges_errors(_as_saved(data["charges"], instance), metrics))
    if "minimum_commitment" in data:
        errors.merge(_commitment_errors(data["minimum_commitment"]))
    if "usage_thresholds" in data:
        errors.merge(_threshold_errors(data["usage_thresholds"]))
    if "fixed_charges" in data:
        errors.merge(fixed_charges_errors(data["fixed_charges"])[0])
    if "prices" in data:
        errors.merge(
            _prices_errors(
                data["prices"], data.get("amount_currency"), _charge_models(data, instance, metrics)
            )
        )
    if errors:
        raise ValidationFailed(errors)
    return metrics


def _charge_models(data: dict, instance: Plan | None, metrics) -> dict[str, str]:
    """charge code -> charge model, of the charges the plan will have."""
    if "charges" in data:  # a charges value of the wrong type is reported by _charges_errors
        charges = data["charges"] if isinstance(data["charges"], list) else []
        return {
            (c.get("code") or metrics[str(c["billable_metric_id"])].code): c.get("charge_model")
            for c in charges
            if isinstance(c, dict)
            and isinstance(c.get("code") or "", str)
            and str(c.get("billable_metric_id")) in metrics
        }
    if instance is None:
        return {}
    return {c.code: c.charge_model for c in instance.charges.live()}


def _write_children(plan: Plan, data: dict, metrics: dict[str, BillableMetric]) -> None:
    if "charges" in data:
        _sync_charges(plan, data["charges"], metrics)
    if "minimum_commitment" in data:
        _sync_commitment(plan, data["minimum_commitment"])
    if "usage_thresholds" in data:
        _sync_thresholds(plan, data["usage_thresholds"])
    if "fixed_charges" in data:
        fixed_charges_sync(plan, data["fixed_charges"])
    if "prices" in data:
        _sync_prices(plan, data["prices"])


@transaction.atomic
def plan_create(*, data: dict) -> Plan:
    """Create a plan with its nested charges, filters, commitment and thresholds."""
    catalog_changed_on_commit()  # ingestion sees the change
    data = _normalise_plan({"trial_period": Decimal(0), "tax_codes": [], **data})
    metrics = _validate_all(data, None)
    plan = _save_plan(Plan(), data)
    _write_children(plan, data, metrics)
    return plan


@transaction.atomic
def plan_update(*, plan: Plan, data: dict) -> Plan:
    """Partial update. A `charges` list replaces the plan's charges (matched by id or code)."""
    catalog_changed_on_commit()  # ingestion sees the change
    plan = lock_one(Plan, plan.pk)
    current = {field: getattr(plan, field) for field in PLAN_FIELDS}
    merged = _normalise_plan({**current, **{k: v for k, v in data.items() if v is not None}})
    for key in ("charges", "minimum_commitment", "usage_thresholds", "fixed_charges", "prices"):
        if key in data:
            merged[key] = data[key]
    metrics = _validate_all(merged, plan)
    _save_plan(plan, merged)
    _write_children(plan, merged, metrics)
    return plan


@transaction.atomic
def plan_delete(*, plan: Plan, created_by: str = "api") -> Plan:
    """Lago's DELETE: mark the plan (and its overrides) pending deletion and start a job that
    terminates or cancels its subscriptions, billing each, then deletes it. The request answers
    at once whatever the number of subscriptions; deleting again while pending is a no-op."""
    plan = lock_one(Plan, plan.pk)
    if plan.pending_deletion or plan.deleted_at:
        return plan
    plan.pending_deletion = True
    plan.save(update_fields=["pending_deletion", "updated_at"])
    plan.overrides.update(pending_deletion=True)
    bulk_job_start(
        kind=BulkJob.Kind.DELETE_PLAN, object_ids=[], target_id=plan.pk, created_by=created_by
    )
    return plan


@transaction.atomic
def plan_soft_delete(*, plan: Plan) -> Plan:
    """The last step of a plan deletion, once no subscription is live: the plan and its
    overrides leave the catalog (their code is free again). Twice changes nothing."""
    catalog_changed_on_commit()  # ingestion sees the change
    plan = lock_one(Plan, plan.pk)
    now = timezone.now()
    Plan.objects.filter(Q(pk=plan.pk) | Q(parent=plan), deleted_at__isnull=True).update(
        deleted_at=now, updated_at=now
    )
    Plan.objects.filter(Q(pk=plan.pk) | Q(parent=plan)).update(pending_deletion=False)
    plan.refresh_from_db()
    return plan


def _override_charges(parent: Plan, overrides: list[dict]) -> list[dict]:
    """The parent's charges as input dicts, with the overridable fields replaced by id."""
    by_id = {str(o.get("id")): o for o in overrides if isinstance(o, dict)}
    unknown = set(by_id) - {str(c.lago_id) for c in parent.charges.live()}
    if unknown:
        raise ValidationFailed({"plan_overrides.charges": ["charge_not_found"]})
    charges = []
    for charge in parent.charges.live().select_related("billable_metric"):
        base = {
            "code": charge.code,
            "billable_metric_id": str(charge.billable_metric.lago_id),
            "properties": charge.properties,
            "filters": [
                {
                    "values": f.values,
                    "properties": f.properties,
                    "invoice_display_name": f.invoice_display_name,
                }
                for f in charge.filters.live()
            ],
            **{field: getattr(charge, field) for field in CHARGE_FIELDS},
            "parent": charge,
        }
        override = by_id.get(str(charge.lago_id), {})
        for field in ("invoice_display_name", "min_amount_cents", "properties", "filters"):
            if override.get(field) is not None:
                base[field] = override[field]
        if override.get("tax_codes") is not None:
            base["tax_codes"] = override["tax_codes"]
        charges.append(base)
    return charges


@transaction.atomic
def plan_override_create(*, parent: Plan, overrides: dict) -> Plan:
    """A hidden child plan for one subscription: the parent with some prices changed.
    The charge model and interval cannot change (Lago)."""
    catalog_changed_on_commit()  # ingestion sees the change
    if not isinstance(overrides, dict):
        raise ValidationFailed({"plan_overrides": ["invalid_format"]})
    if not isinstance(overrides.get("charges") or [], list):
        raise ValidationFailed({"plan_overrides.charges": ["invalid_format"]})
    if parent.parent_id:
        parent = parent.parent
    data = {field: getattr(parent, field) for field in PLAN_FIELDS}
    for field in ("name", "invoice_display_name", "description", "amount_cents", "trial_period"):
        if overrides.get(field) is not None:
            data[field] = overrides[field]
    if overrides.get("amount_currency") is not None:
        data["amount_currency"] = overrides["amount_currency"]
    if overrides.get("tax_codes") is not None:
        data["tax_codes"] = overrides["tax_codes"]
    charges = _override_charges(parent, overrides.get("charges") or [])
    data = _normalise_plan(data)
    errors = plan_errors({**data, "code": parent.code}, parent)
    metrics = resolve_metrics(charges)
    errors.merge(_charges_errors(charges, metrics), prefix="plan_overrides.")
    commitment = overrides.get("minimum_commitment")
    errors.merge(_commitment_errors(commitment), prefix="plan_overrides.")
    if errors:
        raise ValidationFailed(errors)
    child = _save_plan(Plan(parent=parent), {**data, "code": parent.code})
    for charge_data in charges:
        charge = Charge(plan=child, code=charge_data["code"], parent=charge_data["parent"])
        metric = metrics[charge_data["billable_metric_id"]]
        save_charge(charge, charge_data, metric)
    fixed_charges_copy(parent, child)
    parent_commitment = getattr(parent, "minimum_commitment", None)
    if commitment is not None:
        _sync_commitment(child, commitment)
    elif parent_commitment is not None:
        _sync_commitment(child, {"amount_cents": parent_commitment.amount_cents})
    return child


@transaction.atomic
def plan_metadata_set(*, plan: Plan, metadata: dict | None, merge: bool = False) -> Plan:
    """Replace (or merge into) a plan's metadata; None clears it. Values are strings or null."""
    plan = lock_one(Plan, plan.pk)
    metadata = metadata or {}
    if not all(
        isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in metadata.items()
    ):
        raise ValidationFailed({"metadata": ["invalid_format"]})
    plan.metadata = {**plan.metadata, **metadata} if merge else dict(metadata)
    plan.save(update_fields=["metadata", "updated_at"])
    return plan


@transaction.atomic
def plan_metadata_delete_key(*, plan: Plan, key: str) -> Plan:
    """Remove one key from a plan's metadata (Lago's DeleteItemKeyService: an absent key
    changes nothing)."""
    plan = lock_one(Plan, plan.pk)
    if key in plan.metadata:
        plan.metadata = {k: v for k, v in plan.metadata.items() if k != key}
        plan.save(update_fields=["metadata", "updated_at"])
    return plan
