"""Fixed charges (Lago 1.51): an add-on in a plan, priced on `units` by standard, graduated or
volume, billed each base period. One at a time (/plans/{code}/fixed_charges) or as a plan's
nested `fixed_charges` list (plan create/update). `cascade` reaches the plan's overrides as for
charges (plans/services/charges.py): created and deleted in each; on update an override
follows `properties` and `units` only where it still had the parent's old ones.

Billed each base period, in advance or in arrears (invoices/services/fees.py); Lago's rules:
no volume in advance, no prorated graduated in advance."""

import uuid
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import NotFound, ValidationFailed
from core.locks import lock_one
from core.validation import Errors, check_choice, check_code, parse_decimal
from plans.charge_properties import validate_properties
from plans.models import AddOn, FixedCharge, FixedChargeModel, Plan
from plans.services.changes import catalog_changed_on_commit

FIELDS = ("charge_model", "pay_in_advance", "prorated", "invoice_display_name", "tax_codes")
MAX_UNITS = Decimal(10) ** 20


def _add_on(data: dict) -> AddOn | None:
    rows = AddOn.objects.live()
    if data.get("add_on_id"):
        try:
            lago_id = uuid.UUID(str(data["add_on_id"]))
        except ValueError:
            return None
        return rows.filter(lago_id=lago_id).first()
    if isinstance(data.get("add_on_code"), str):
        return rows.filter(code=data["add_on_code"]).first()
    return None


def _units(value) -> Decimal | None:
    units = parse_decimal(value)
    if units is None or units < 0 or units >= MAX_UNITS:
        return None
    return units


def fixed_charge_errors(data: dict, add_on: AddOn | None) -> Errors:
    """Rules of one fixed charge (Lago's FixedCharge validations)."""
    errors = Errors()
    if add_on is None:
        errors.add("add_on", "add_on_not_found")
    model = data.get("charge_model")
    errors.add("charge_model", check_choice(model, FixedChargeModel.values))
    if model in FixedChargeModel.values:
        _, property_errors = validate_properties(model, data.get("properties") or {})
        errors.merge(property_errors, prefix="properties.")
    if _units(data.get("units", "0")) is None:
        errors.add("units", "value_is_invalid")
    for flag in ("pay_in_advance", "prorated"):
        if data.get(flag) is not None and not isinstance(data.get(flag), bool):
            errors.add(flag, "value_is_invalid")
    if data.get("pay_in_advance") and model == FixedChargeModel.VOLUME:
        errors.add("pay_in_advance", "invalid_charge_model")
    advance_graduated = data.get("pay_in_advance") and model == FixedChargeModel.GRADUATED
    if data.get("prorated") and advance_graduated:
        errors.add("prorated", "invalid_charge_model")
    if data.get("code") is not None:
        errors.add("code", check_code(data["code"]))
    if not isinstance(data.get("tax_codes") or [], list):
        errors.add("tax_codes", "invalid_format")
    return errors


def _save(row: FixedCharge, data: dict, add_on: AddOn) -> FixedCharge:
    row.add_on = add_on
    for field in FIELDS:
        if data.get(field) is not None:
            setattr(row, field, data[field])
    row.invoice_display_name = row.invoice_display_name or ""
    if "units" in data or row.pk is None:
        row.units = _units(data.get("units", "0"))
    if "properties" in data or row.pk is None:
        row.properties, _ = validate_properties(row.charge_model, data.get("properties") or {})
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError as exc:
        raise ValidationFailed({"code": ["value_already_exist"]}) from exc
    return row


def _unique_code(plan: Plan, wanted: str, taken: set[str]) -> str:
    code, suffix = wanted, 2
    while code in taken:
        code, suffix = f"{wanted}_{suffix}", suffix + 1
    taken.add(code)
    return code


def fixed_charge_as_data(row: FixedCharge) -> dict:
    return {
        "code": row.code,
        "add_on_id": str(row.add_on.lago_id),
        "properties": row.properties,
        "units": row.units,
        **{field: getattr(row, field) for field in FIELDS},
    }


def _lock_plan(plan: Plan) -> Plan:
    return lock_one(Plan, plan.parent_id or plan.pk)


# --- nested in plan create / update / override ----------------------------------------------------


def fixed_charges_errors(items) -> tuple[Errors, list[AddOn | None]]:
    errors, add_ons = Errors(), []
    if not isinstance(items, list):
        errors.add("fixed_charges", "invalid_format")
        return errors, add_ons
    codes = set()
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            errors.add(f"fixed_charges.{index}", "invalid_format")
            add_ons.append(None)
            continue
        add_on = _add_on(item)
        add_ons.append(add_on)
        errors.merge(fixed_charge_errors(item, add_on), prefix=f"fixed_charges.{index}.")
        code = item.get("code")
        if isinstance(code, str) and code in codes:
            errors.add(f"fixed_charges.{index}.code", "value_already_exist")
        codes.add(code)
    return errors, add_ons


def fixed_charges_sync(plan: Plan, items: list[dict]) -> None:
    """Make the plan's live fixed charges exactly `items` (matched by `id` or `code`)."""
    add_ons = [_add_on(item) for item in items]
    live = {str(row.lago_id): row for row in plan.fixed_charges.live()}
    by_code = {row.code: row for row in live.values()}
    taken, kept = set(by_code), set()
    for data, add_on in zip(items, add_ons, strict=True):
        row = live.get(str(data.get("id"))) or by_code.get(data.get("code") or "")
        if row is None:
            row = FixedCharge(
                plan=plan, code=_unique_code(plan, data.get("code") or add_on.code, taken)
            )
        elif data.get("code"):
            row.code = data["code"]
        _save(row, data, add_on)
        kept.add(row.pk)
    stale = [row.pk for row in live.values() if row.pk not in kept]
    FixedCharge.objects.filter(pk__in=stale).update(deleted_at=timezone.now())


def fixed_charges_copy(parent: Plan, child: Plan) -> None:
    """An override plan's copies of its parent's fixed charges."""
    for row in parent.fixed_charges.live().select_related("add_on"):
        copy = FixedCharge(plan=child, code=row.code, parent=row)
        _save(copy, fixed_charge_as_data(row), row.add_on)


# --- one at a time ---------------------------------------------------------------------------


@transaction.atomic
def fixed_charge_create(*, plan: Plan, data: dict, cascade: bool = False) -> FixedCharge:
    catalog_changed_on_commit()
    _lock_plan(plan)
    add_on = _add_on(data)
    if add_on is None:
        raise NotFound("add_on")
    errors = fixed_charge_errors(data, add_on)
    code = data.get("code")
    if isinstance(code, str) and plan.fixed_charges.live().filter(code=code).exists():
        errors.add("code", "value_already_exist")
    if errors:
        raise ValidationFailed(errors)
    taken = set(plan.fixed_charges.live().values_list("code", flat=True))
    row = FixedCharge(plan=plan, code=code or _unique_code(plan, add_on.code, taken))
    _save(row, data, add_on)
    if cascade:
        for child in Plan.objects.live().filter(parent=plan):
            _save(
                FixedCharge(plan=child, code=row.code, parent=row),
                fixed_charge_as_data(row),
                add_on,
            )
    return row


@transaction.atomic
def fixed_charge_update(
    *, fixed_charge: FixedCharge, data: dict, cascade: bool = False
) -> FixedCharge:
    """Partial update; omitted fields keep their values."""
    catalog_changed_on_commit()
    _lock_plan(fixed_charge.plan)
    row = FixedCharge.objects.select_related("add_on", "plan").get(pk=fixed_charge.pk)
    before = fixed_charge_as_data(row)
    given = {k: v for k, v in data.items() if v is not None or k == "invoice_display_name"}
    merged = {**before, **given}
    add_on = _add_on(merged) if ("add_on_id" in given or "add_on_code" in given) else row.add_on
    if "add_on_code" in given and "add_on_id" not in given:
        add_on = _add_on({"add_on_code": given["add_on_code"]})
    errors = fixed_charge_errors(merged, add_on)
    code = given.get("code")
    if (
        isinstance(code, str)
        and row.plan.fixed_charges.live().filter(code=code).exclude(pk=row.pk).exists()
    ):
        errors.add("code", "value_already_exist")
    if errors:
        raise ValidationFailed(errors)
    if code:
        row.code = code
    _save(row, merged, add_on)
    if cascade:
        for child in FixedCharge.objects.live().filter(parent=row):
            changed = False
            if child.charge_model == row.charge_model and child.properties == before["properties"]:
                child.properties, changed = row.properties, True
            if child.units == before["units"]:
                child.units, changed = row.units, True
            if changed:
                child.save(update_fields=["properties", "units", "updated_at"])
    return row


@transaction.atomic
def fixed_charge_delete(*, fixed_charge: FixedCharge, cascade: bool = False) -> FixedCharge:
    catalog_changed_on_commit()
    _lock_plan(fixed_charge.plan)
    rows = [fixed_charge.pk]
    if cascade:
        rows += list(
            FixedCharge.objects.live().filter(parent=fixed_charge).values_list("pk", flat=True)
        )
    FixedCharge.objects.filter(pk__in=rows, deleted_at__isnull=True).update(
        deleted_at=timezone.now()
    )
    fixed_charge.refresh_from_db()
    return fixed_charge
