"""Add-on services and selectors: create, update, soft delete, find; rules shared by API and
admin. An add-on is a priced item billed on one-off invoices (invoices/one_off.py)."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import NotFound, ValidationFailed
from core.locks import lock_one
from core.validation import Errors, check_code, check_currency, check_non_negative_int
from plans.models import AddOn

ADD_ON_FIELDS = (
    "name",
    "code",
    "description",
    "invoice_display_name",
    "amount_cents",
    "amount_currency",
    "tax_codes",
)
TEXT_FIELDS = ("description", "invoice_display_name")


def add_on_get(*, code: str) -> AddOn:
    """A live add-on by code, else 404 add_on_not_found."""
    add_on = AddOn.objects.live().filter(code=code).first()
    if add_on is None:
        raise NotFound("add_on")
    return add_on


def _required(value, check) -> str | None:
    return "value_is_mandatory" if value in (None, "") else check(value)


def _tax_codes_error(value) -> str | None:
    if not isinstance(value, list) or not all(isinstance(code, str) and code for code in value):
        return "invalid_format"
    return None


def add_on_errors(data: dict, *, instance: AddOn | None = None) -> Errors:
    """Every rule an add-on must satisfy, on the merged state (instance + changes)."""
    errors = Errors()
    errors.add("name", None if data.get("name") else "value_is_mandatory")
    errors.add("code", check_code(data.get("code")))
    errors.add("amount_cents", _required(data.get("amount_cents"), check_non_negative_int))
    errors.add("amount_currency", _required(data.get("amount_currency"), check_currency))
    errors.add("tax_codes", _tax_codes_error(data.get("tax_codes", [])))
    for field in TEXT_FIELDS:
        if not isinstance(data.get(field) or "", str):
            errors.add(field, "invalid_format")
    taken = AddOn.objects.live().filter(code=data.get("code"))
    if instance is not None:
        taken = taken.exclude(pk=instance.pk)
    if data.get("code") and taken.exists():
        errors.add("code", "value_already_exist")
    return errors


def _normalise(data: dict) -> dict:
    """Known fields only; null means absent (Lago's clients send null for unset fields)."""
    data = {key: value for key, value in data.items() if key in ADD_ON_FIELDS and value is not None}
    if isinstance(data.get("amount_currency"), str):
        data["amount_currency"] = data["amount_currency"].upper()
    return data


def _save(add_on: AddOn, data: dict) -> AddOn:
    for field, value in data.items():
        setattr(add_on, field, value)
    try:
        with transaction.atomic():
            add_on.save()
    except IntegrityError as exc:  # a concurrent create with the same code
        raise ValidationFailed({"code": ["value_already_exist"]}) from exc
    return add_on


@transaction.atomic
def add_on_create(*, data: dict) -> AddOn:
    """Create an add-on from Lago's fields (name, code, amount_cents, amount_currency, ...)."""
    data = _normalise(data)
    errors = add_on_errors({"tax_codes": [], **data})
    if errors:
        raise ValidationFailed(errors)
    return _save(AddOn(), data)


@transaction.atomic
def add_on_update(*, add_on: AddOn, data: dict) -> AddOn:
    """Partial update; invoices already issued keep their own copy of the price."""
    add_on = lock_one(AddOn, add_on.pk)
    current = {field: getattr(add_on, field) for field in ADD_ON_FIELDS}
    merged = {**current, **_normalise(data)}
    errors = add_on_errors(merged, instance=add_on)
    if errors:
        raise ValidationFailed(errors)
    return _save(add_on, merged)


@transaction.atomic
def add_on_delete(*, add_on: AddOn) -> AddOn:
    """Soft delete: the code is free again; past invoices keep their fees."""
    add_on = lock_one(AddOn, add_on.pk)
    if add_on.deleted_at is None:
        add_on.deleted_at = timezone.now()
        add_on.save(update_fields=["deleted_at", "updated_at"])
    return add_on
