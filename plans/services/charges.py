"""One charge or one charge filter at a time (Lago's /plans/{code}/charges and .../filters),
with the same rules as a plan's nested `charges` (plans.py: `charge_errors`, `save_charge`).

`cascade` is Lago's `cascade_updates` towards the plan's overrides (the hidden child plans of
subscriptions with `plan_overrides`), kept simple:
- create: the new charge (or filter) is copied into every live override;
- update: an override's charge takes the new `properties` only if its own still equal the
  parent's old ones and its charge model is the new one (it was not overridden); its filters
  likewise, filter by filter (matched by their values). Nothing else cascades (Lago: "in
  cascade mode it is allowed only to change properties");
- delete: the overrides' copies are deleted too.
Without `cascade` the overrides keep what they had. Overridden plans are locked like their
parent: one plan row lock, taken first.
"""

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import ValidationFailed
from core.locks import lock_one
from core.validation import Errors
from plans.charge_properties import validate_properties
from plans.models import (
    BillableMetric,
    Charge,
    ChargeFilter,
    ChargePrice,
    Plan,
    PlanPrice,
    UsageThreshold,
)
from plans.services.changes import catalog_changed_on_commit
from plans.services.plans import (
    CHARGE_FIELDS,
    charge_errors,
    charge_filter_errors,
    filter_key,
    plan_override_create,
    resolve_metrics,
    save_charge,
    unique_charge_code,
)

OVERRIDABLE_FIELDS = ("invoice_display_name", "min_amount_cents", "properties", "tax_codes")


def charge_as_data(charge: Charge) -> dict:
    """A stored charge as the input dict the validators take (filters included)."""
    return {
        "code": charge.code,
        "billable_metric_id": str(charge.billable_metric.lago_id),
        "properties": charge.properties,
        "filters": [filter_as_data(f) for f in charge.filters.live()],
        **{field: getattr(charge, field) for field in CHARGE_FIELDS},
    }


def filter_as_data(charge_filter: ChargeFilter) -> dict:
    return {
        "values": charge_filter.values,
        "properties": charge_filter.properties,
        "invoice_display_name": charge_filter.invoice_display_name,
    }


def _lock_plan(plan: Plan) -> Plan:
    return lock_one(Plan, plan.parent_id or plan.pk)


def _live_overrides(plan: Plan):
    return Plan.objects.live().filter(parent=plan)


def _code_taken(plan: Plan, code: str, exclude: Charge | None = None) -> bool:
    rows = plan.charges.live().filter(code=code)
    if exclude is not None:
        rows = rows.exclude(pk=exclude.pk)
    return rows.exists()


def _save(charge: Charge, data: dict, metric: BillableMetric) -> Charge:
    try:
        with transaction.atomic():
            return save_charge(charge, data, metric)
    except IntegrityError as exc:  # the per-plan unique code, taken concurrently
        raise ValidationFailed({"code": ["value_already_exist"]}) from exc


# --- charges ---------------------------------------------------------------------------------


@transaction.atomic
def charge_create(*, plan: Plan, data: dict, cascade: bool = False) -> Charge:
    """Add one charge to a catalog plan (Lago's POST /plans/{code}/charges)."""
    catalog_changed_on_commit()
    _lock_plan(plan)
    if not isinstance(data.get("filters", []), list):
        raise ValidationFailed({"filters": ["invalid_format"]})
    metric = resolve_metrics([data]).get(str(data.get("billable_metric_id")))
    errors = charge_errors(data, metric)
    code = data.get("code")
    if isinstance(code, str) and code and _code_taken(plan, code):
        errors.add("code", "value_already_exist")
    if errors:
        raise ValidationFailed(errors)
    taken = set(plan.charges.live().values_list("code", flat=True))
    charge = Charge(plan=plan, code=code or unique_charge_code(plan, metric.code, taken))
    _save(charge, data, metric)
    if cascade:
        for child in _live_overrides(plan):
            copy = Charge(plan=child, code=charge.code, parent=charge)
            _save(copy, charge_as_data(charge), metric)
    return charge


@transaction.atomic
def charge_update(*, charge: Charge, data: dict, cascade: bool = False) -> Charge:
    """Change one charge of a catalog plan (Lago's PUT): omitted fields keep their value, a
    `filters` list replaces the filters (matched by values), `billable_metric_id` may change."""
    catalog_changed_on_commit()
    _lock_plan(charge.plan)
    charge = Charge.objects.select_related("billable_metric").get(pk=charge.pk)
    before = charge_as_data(charge)
    given = {key: value for key, value in data.items() if value is not None}
    merged = {**before, **given}
    if "filters" not in given:
        merged.pop("filters")
    metric = resolve_metrics([merged]).get(str(merged.get("billable_metric_id")))
    errors = charge_errors(merged, metric)
    if isinstance(given.get("code"), str) and _code_taken(charge.plan, given["code"], charge):
        errors.add("code", "value_already_exist")
    if errors:
        raise ValidationFailed(errors)
    charge.code = merged["code"]
    _save(charge, merged, metric)
    if cascade:
        for child in Charge.objects.live().filter(parent=charge, plan__deleted_at__isnull=True):
            _cascade_update(child, before, charge)
    return charge


def _cascade_update(child: Charge, before: dict, charge: Charge) -> None:
    """Lago's cascade: only what the override did not change itself follows the parent."""
    if child.charge_model != charge.charge_model:
        return
    if child.properties == before["properties"]:
        child.properties = charge.properties
        child.save(update_fields=["properties", "updated_at"])
    old = {filter_key(f["values"]): f for f in before["filters"]}
    new = {filter_key(f.values): f for f in charge.filters.live()}
    mine = {filter_key(f.values): f for f in child.filters.live()}
    now = timezone.now()
    for key, row in mine.items():
        parent_old = old.get(key)
        if parent_old is None or row.properties != parent_old["properties"]:
            continue  # the override's own filter, or one it changed: kept
        if key in new:
            row.properties = new[key].properties
            row.save(update_fields=["properties"])
        else:
            ChargeFilter.objects.filter(pk=row.pk).update(deleted_at=now)
    for key, row in new.items():
        if key not in old and key not in mine:
            ChargeFilter.objects.create(
                charge=child,
                values=row.values,
                properties=row.properties,
                invoice_display_name=row.invoice_display_name,
            )


@transaction.atomic
def charge_delete(*, charge: Charge, cascade: bool = False) -> Charge:
    """Soft-delete one charge and its filters (Lago's DELETE); usage already billed stays."""
    catalog_changed_on_commit()
    _lock_plan(charge.plan)
    now = timezone.now()
    rows = [charge.pk]
    if cascade:
        rows += list(Charge.objects.live().filter(parent=charge).values_list("pk", flat=True))
    Charge.objects.filter(pk__in=rows, deleted_at__isnull=True).update(deleted_at=now)
    ChargeFilter.objects.filter(charge__in=rows, deleted_at__isnull=True).update(deleted_at=now)
    charge.refresh_from_db()
    return charge


@transaction.atomic
def charge_override_update(*, charge: Charge, data: dict) -> Charge:
    """Change what a subscription may override of one charge of its own (override) plan:
    invoice_display_name, min_amount_cents, properties, tax_codes, filters (Lago's
    `ChargeOverridableInput`). Flags, model and metric stay the parent's."""
    if charge.plan.parent_id is None:
        raise ValueError("only the charges of an override plan are overridden")
    catalog_changed_on_commit()
    _lock_plan(charge.plan)
    charge = Charge.objects.select_related("billable_metric").get(pk=charge.pk)
    stored = charge_as_data(charge)
    given = {k: v for k, v in data.items() if k in (*OVERRIDABLE_FIELDS, "filters")}
    given = {k: v for k, v in given.items() if v is not None}
    merged = {**stored, **given}
    if "filters" not in given:
        merged.pop("filters")
    errors = charge_errors(merged, charge.billable_metric)
    if "tax_codes" in given and not isinstance(given["tax_codes"], list):
        errors.add("tax_codes", "invalid_format")
    if errors:
        raise ValidationFailed(errors)
    return _save(charge, given, charge.billable_metric)


# --- charge filters --------------------------------------------------------------------------


def _filter_errors(charge: Charge, data: dict) -> Errors:
    """One filter's rules (the nested `filters` rules of a charge), fields without a prefix."""
    errors = Errors()
    if not data.get("values"):
        errors.add("values", "value_is_mandatory")
        return errors
    found = charge_filter_errors([data], charge.billable_metric, charge.charge_model)
    errors.merge({field.removeprefix("filters.0."): codes for field, codes in found.items()})
    return errors


def filter_with_values(
    charge: Charge, values, exclude: ChargeFilter | None = None
) -> ChargeFilter | None:
    """The charge's live filter with exactly these values (in any order), if any."""
    if not isinstance(values, dict):
        return None
    key = filter_key(values)
    for row in charge.filters.live():
        if filter_key(row.values) == key and (exclude is None or row.pk != exclude.pk):
            return row
    return None


def _write_filter(row: ChargeFilter, data: dict) -> ChargeFilter:
    if "values" in data:
        row.values = data["values"]
    if "invoice_display_name" in data:
        row.invoice_display_name = data["invoice_display_name"] or ""
    if "properties" in data or row.pk is None:
        row.properties, _ = validate_properties(
            row.charge.charge_model, data.get("properties") or {}
        )
    row.save()
    return row


@transaction.atomic
def charge_filter_create(*, charge: Charge, data: dict, cascade: bool = False) -> ChargeFilter:
    """Add one filter to a charge; a filter with the same values is refused
    (`values: value_already_exists`, Lago's code for subscriptions)."""
    catalog_changed_on_commit()
    _lock_plan(charge.plan)
    errors = _filter_errors(charge, data)
    if not errors and filter_with_values(charge, data["values"]):
        errors.add("values", "value_already_exists")
    if errors:
        raise ValidationFailed(errors)
    row = _write_filter(ChargeFilter(charge=charge), data)
    if cascade:
        for child in Charge.objects.live().filter(parent=charge, plan__deleted_at__isnull=True):
            if filter_with_values(child, row.values) is None:
                _write_filter(ChargeFilter(charge=child), filter_as_data(row))
    return row


@transaction.atomic
def charge_filter_update(
    *, charge_filter: ChargeFilter, data: dict, cascade: bool = False
) -> ChargeFilter:
    """Change one filter's values, properties or display name (omitted: kept)."""
    catalog_changed_on_commit()
    charge = charge_filter.charge
    _lock_plan(charge.plan)
    given = {k: v for k, v in data.items() if k in ("values", "properties")}
    given = {k: v for k, v in given.items() if v is not None}
    if "invoice_display_name" in data:
        given["invoice_display_name"] = data["invoice_display_name"]
    merged = {**filter_as_data(charge_filter), **given}
    errors = _filter_errors(charge, merged)
    if not errors and filter_with_values(charge, merged["values"], exclude=charge_filter):
        errors.add("values", "value_already_exists")
    if errors:
        raise ValidationFailed(errors)
    before = filter_as_data(charge_filter)
    _write_filter(charge_filter, given)
    if cascade:
        for child in Charge.objects.live().filter(parent=charge, plan__deleted_at__isnull=True):
            row = filter_with_values(child, before["values"])
            if row is not None and row.properties == before["properties"]:
                _write_filter(row, {k: v for k, v in given.items() if k != "invoice_display_name"})
    return charge_filter


@transaction.atomic
def charge_filter_delete(*, charge_filter: ChargeFilter, cascade: bool = False) -> ChargeFilter:
    catalog_changed_on_commit()
    charge = charge_filter.charge
    _lock_plan(charge.plan)
    now = timezone.now()
    rows = [charge_filter.pk]
    if cascade:
        for child in Charge.objects.live().filter(parent=charge):
            row = filter_with_values(child, charge_filter.values)
            if row is not None:
                rows.append(row.pk)
    ChargeFilter.objects.filter(pk__in=rows, deleted_at__isnull=True).update(deleted_at=now)
    charge_filter.refresh_from_db()
    return charge_filter


@transaction.atomic
def plan_override_copy(*, parent: Plan) -> Plan:
    """A hidden child plan identical to `parent` (charges, filters, commitment, usage
    thresholds, prices in other currencies), for a subscription about to override one charge:
    what it is billed does not change until an override does."""
    child = plan_override_create(parent=parent, overrides={})
    for threshold in parent.usage_thresholds.all():
        UsageThreshold.objects.create(
            plan=child,
            amount_cents=threshold.amount_cents,
            recurring=threshold.recurring,
            threshold_display_name=threshold.threshold_display_name,
        )
    for price in parent.prices.all():
        PlanPrice.objects.create(
            plan=child, currency=price.currency, amount_cents=price.amount_cents
        )
    copies = {c.parent_id: c for c in child.charges.live()}
    for price in ChargePrice.objects.filter(charge__plan=parent, charge__deleted_at__isnull=True):
        ChargePrice.objects.create(
            charge=copies[price.charge_id], currency=price.currency, properties=price.properties
        )
    return child
