"""Writes of taxes: tax objects (Lago's API), the rules table loaded from the data file."""

import csv
from decimal import Decimal
from pathlib import Path

from django.db import IntegrityError, transaction
from django.utils.dateparse import parse_date

from core.errors import ValidationFailed
from core.locks import lock_one
from core.selectors import organization_get
from core.validation import Errors, check_code, parse_decimal
from taxes import vat
from taxes.models import Tax, TaxRule

RULES_FILE = Path(__file__).resolve().parent / "data" / "tax_rules.csv"
TAX_FIELDS = ("name", "code", "rate", "description", "applied_to_organization")


def tax_errors(data: dict, *, instance: Tax | None = None) -> Errors:
    errors = Errors()
    errors.add("code", check_code(data.get("code")))
    errors.add("name", None if data.get("name") else "value_is_mandatory")
    rate = parse_decimal(data.get("rate"))
    if rate is None or rate < 0 or rate > 100:
        errors.add("rate", "value_is_invalid")
    taken = Tax.objects.filter(code=data.get("code"))
    if instance is not None:
        taken = taken.exclude(pk=instance.pk)
    if data.get("code") and taken.exists():
        errors.add("code", "value_already_exist")
    return errors


def _save(tax: Tax, data: dict) -> Tax:
    for field in TAX_FIELDS:
        if field in data and data[field] is not None:
            value = parse_decimal(data[field]) if field == "rate" else data[field]
            setattr(tax, field, value)
    try:
        with transaction.atomic():
            tax.save()
    except IntegrityError as exc:
        raise ValidationFailed({"code": ["value_already_exist"]}) from exc
    return tax


@transaction.atomic
def tax_create(*, data: dict) -> Tax:
    """A tax object; its rate applies to invoices finalized from now on."""
    errors = tax_errors(data)
    if errors:
        raise ValidationFailed(errors)
    return _save(Tax(), data)


@transaction.atomic
def tax_update(*, tax: Tax, data: dict) -> Tax:
    tax = lock_one(Tax, tax.pk)
    merged = {field: getattr(tax, field) for field in TAX_FIELDS} | {
        k: v for k, v in data.items() if v is not None
    }
    errors = tax_errors(merged, instance=tax)
    if errors:
        raise ValidationFailed(errors)
    return _save(tax, merged)


@transaction.atomic
def tax_delete(*, tax: Tax) -> Tax:
    """Issued invoices keep their applied taxes (copied by value), so a tax can go."""
    Tax.objects.filter(pk=tax.pk).delete()
    return tax


@transaction.atomic
def tax_rules_load(*, path: Path = RULES_FILE) -> tuple[int, int]:
    """Upsert the rules of a CSV file (kind,country,region,rate,name,effective_from); returns
    (created, updated). Rules not in the file are kept: history is never lost."""
    created = updated = 0
    with path.open(newline="", encoding="utf-8") as source:
        for row in csv.DictReader(source):
            _, was_created = TaxRule.objects.update_or_create(
                kind=row["kind"],
                country=row["country"].upper(),
                region=(row.get("region") or "").upper(),
                effective_from=parse_date(row["effective_from"]),
                defaults={"rate": Decimal(row["rate"]), "name": row["name"]},
            )
            created, updated = created + was_created, updated + (not was_created)
    return created, updated


def tax_id_verdict(*, customer, online: bool = True) -> bool | None:
    """Whether the customer's EU VAT number is valid: the offline check (python-stdnum), then,
    when the organization enables it and `online`, VIES (a network call, hence a service and
    not the selector; an unavailable VIES never blocks). None: no number, or not an EU country.
    Estimates read on every request (current usage) pass online=False."""
    country = (customer.country or "").upper()
    tax_id = customer.tax_identification_number.strip()
    if not tax_id or not vat.is_eu(country):
        return None
    valid = vat.vat_number_valid(tax_id, country)
    if valid and online and organization_get().vies_check_enabled:
        valid = vat.vies_confirms(tax_id) is not False
    return valid
