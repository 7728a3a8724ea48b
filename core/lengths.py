"""Text lengths checked against the columns before any row is written.

PostgreSQL refuses a value longer than its varchar column with `value too long` (a 500 after
part of a request may have been written); SQLite stores it silently. Every service writes
through Model.save(), so one pre_save check covers them all: a string longer than its
CharField's max_length raises ValidationFailed {field: ["value_is_too_long"]} (Lago's code),
which the service's transaction and the API turn into a 422 with nothing written."""

from django.db import models
from django.db.models.signals import pre_save

from core.errors import ValidationFailed

# Apps whose rows services write from API input (Django's and third-party apps validate
# through their own forms).
PROJECT_APPS = frozenset(
    {"core", "plans", "taxes", "webhooks", "customers", "usage", "invoices", "payments", "portal"}
)


def too_long_fields(instance: models.Model) -> dict[str, list[str]]:
    """{field name: ["value_is_too_long"]} for each string over its column's max_length."""
    errors = {}
    for field in instance._meta.concrete_fields:
        if not isinstance(field, models.CharField) or not field.max_length:
            continue
        value = getattr(instance, field.attname)
        if isinstance(value, str) and len(value) > field.max_length:
            errors[field.name] = ["value_is_too_long"]
    return errors


def _check_lengths(sender, instance, raw=False, **kwargs) -> None:
    if raw or sender._meta.app_label not in PROJECT_APPS:
        return
    errors = too_long_fields(instance)
    if errors:
        raise ValidationFailed(errors)


def connect() -> None:
    pre_save.connect(_check_lengths, dispatch_uid="core-check-lengths")
