"""API key lifecycle: create (raw key returned once), revoke, touch on use."""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.locks import lock_one
from core.models import ApiKey, Heartbeat

KEY_PREFIX = "blk_"


def api_key_digest(raw_key: str) -> str:
    """SHA-256 of a key. Keys carry 256 random bits, so a fast hash is safe against guessing."""
    return hashlib.sha256(raw_key.encode()).hexdigest()


@transaction.atomic
def api_key_create(*, name: str, created_by: str = "", instance: ApiKey | None = None):
    """Create a key and return (ApiKey, raw_key). The raw key is never stored or logged."""
    raw_key = KEY_PREFIX + secrets.token_urlsafe(32)
    key = instance or ApiKey()
    key.name = name
    key.created_by = created_by or key.created_by
    key.prefix = raw_key[:12]
    key.digest = api_key_digest(raw_key)
    key.save()
    return key, raw_key


@transaction.atomic
def api_key_revoke(*, key: ApiKey) -> ApiKey:
    """Revoke a key for good; later requests with it get 401."""
    key = lock_one(ApiKey, key.pk)
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
    return key


def api_key_touch(*, key: ApiKey) -> None:
    """Record last use, at most once a minute per key so the hot path does not write per request."""
    now = timezone.now()
    resolution = timedelta(seconds=settings.API_KEY_LAST_USED_RESOLUTION_SECONDS)
    if key.last_used_at and now - key.last_used_at < resolution:
        return
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    key.last_used_at = now


def heartbeat_record(*, name: str) -> Heartbeat:
    """Upsert the heartbeat row for `name` with the current time."""
    with transaction.atomic():
        beat, _ = Heartbeat.objects.select_for_update().get_or_create(
            name=name, defaults={"last_seen_at": timezone.now()}
        )
        beat.last_seen_at = timezone.now()
        beat.runs += 1
        beat.save(update_fields=["last_seen_at", "runs"])
    return beat


ORGANIZATION_CHECKS = {
    "country": "check_country",
    "default_currency": "check_currency",
    "timezone": "check_timezone",
    "document_locale": "check_locale",
}


@transaction.atomic
def organization_update(*, data: dict):
    """Change the seller's profile (validated like customers: country, currency, zone)."""
    from core import validation
    from core.errors import ValidationFailed
    from core.selectors import organization_get

    organization = organization_get()
    errors = validation.Errors()
    for field, check in ORGANIZATION_CHECKS.items():
        if data.get(field):
            errors.add(field, getattr(validation, check)(data[field]))
    states = data.get("us_tax_states")
    if states is not None and not all(isinstance(s, str) and len(s) == 2 for s in states):
        errors.add("us_tax_states", "value_is_invalid")
    if errors:
        raise ValidationFailed(errors)
    for field, value in data.items():
        if field in ("country", "default_currency") and isinstance(value, str):
            value = value.upper()
        setattr(organization, field, value)
    organization.save()
    return organization


# Lago's PUT /organizations fields: text fields (null clears) and their lengths.
ORGANIZATION_TEXT = {
    "address_line1": 255,
    "address_line2": 255,
    "state": 255,
    "zipcode": 64,
    "city": 255,
    "legal_name": 255,
    "legal_number": 255,
    "tax_identification_number": 255,
}
EMAIL_SETTINGS = ("invoice.finalized",)  # the documents this system e-mails
LAGO_EMAIL_SETTINGS = ("invoice.finalized", "credit_note.created")


def _org_text(data: dict, errors, fields: dict) -> None:
    for name, limit in ORGANIZATION_TEXT.items():
        if name not in data:
            continue
        value = data[name]
        if value is not None and not isinstance(value, str):
            errors.add(name, "invalid_format")
        elif value is not None and len(value) > limit:
            errors.add(name, "value_is_too_long")
        else:
            fields[name] = value or ""


def _org_days(value, name: str, errors, fields: dict, field: str | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 36500:
        errors.add(name, "value_is_invalid")
    else:
        fields[field or name] = value


def _org_choices(data: dict, errors, fields: dict) -> None:
    """Fields checked like the customers' (country, currency, zone, locale) and the rest."""
    from core import validation

    for name in ("country", "default_currency", "timezone"):
        if name in data:
            value = data[name]
            if name == "country" and value is None:
                fields[name] = ""
                continue
            check = getattr(validation, ORGANIZATION_CHECKS[name])
            code = check(value) if isinstance(value, str) else "value_is_invalid"
            errors.add(name, code)
            fields[name] = value.upper() if name != "timezone" and not code else value
    if "email" in data:
        email = data["email"]
        code = validation.check_emails(email) if isinstance(email, str) and email else None
        errors.add("email", code if email is None or isinstance(email, str) else "invalid_format")
        fields["email"] = email or ""
    if "net_payment_term" in data:
        _org_days(data["net_payment_term"], "net_payment_term", errors, fields)
    if "finalize_zero_amount_invoice" in data:
        value = data["finalize_zero_amount_invoice"]
        if not isinstance(value, bool):
            errors.add("finalize_zero_amount_invoice", "value_is_invalid")
        fields["finalize_zero_amount_invoice"] = value


def _org_documents(data: dict, errors, fields: dict) -> None:
    """Numbering, prefix, e-mails and the billing configuration."""
    from core import validation

    if data.get("document_numbering") not in (None, "per_organization"):
        errors.add("document_numbering", "value_is_invalid")  # one monthly sequence here
    if "document_number_prefix" in data:
        prefix = data["document_number_prefix"]
        if (
            not isinstance(prefix, str)
            or not 1 <= len(prefix) <= 10
            or validation.check_code(prefix)
        ):
            errors.add("document_number_prefix", "value_is_invalid")
        else:
            fields["invoice_prefix"] = prefix.upper()
    settings = data.get("email_settings")
    if settings is not None and (
        not isinstance(settings, list) or any(s not in LAGO_EMAIL_SETTINGS for s in settings)
    ):
        errors.add("email_settings", "value_is_invalid")
    config = data.get("billing_configuration")
    if config is None:
        return
    if not isinstance(config, dict):
        errors.add("billing_configuration", "invalid_format")
        return
    if "invoice_grace_period" in config:
        _org_days(
            config["invoice_grace_period"],
            "billing_configuration.invoice_grace_period",
            errors,
            fields,
            "invoice_grace_period",
        )
    if "document_locale" in config:
        locale = config["document_locale"]
        code = validation.check_locale(locale) if isinstance(locale, str) else "value_is_invalid"
        errors.add("billing_configuration.document_locale", code)
        fields["document_locale"] = locale
    if "invoice_footer" in config:
        footer = config["invoice_footer"]
        if footer is not None and (not isinstance(footer, str) or len(footer) > 600):
            errors.add("billing_configuration.invoice_footer", "value_is_invalid")
        fields["invoice_footer"] = footer or ""


def organization_api_fields(data: dict) -> dict:
    """Lago's PUT /organizations body (without its root) as Organization fields: every field
    checked first, so a bad one changes nothing (ValidationFailed naming each)."""
    from core.errors import ValidationFailed
    from core.validation import Errors

    errors, fields = Errors(), {}
    _org_text(data, errors, fields)
    _org_choices(data, errors, fields)
    _org_documents(data, errors, fields)
    if errors:
        raise ValidationFailed(errors)
    return fields


# --- API request log (Lago's API logs) ---------------------------------------------------------


def _bounded(text: str, limit: int) -> str:
    """Cut to `limit` characters (with a marker saying so), then secrets redacted: the patterns
    run on the bounded text only, and a secret cut at the edge is still matched by its key
    name or prefix (what follows the cut is not stored at all)."""
    from core.redaction import redact

    if len(text) > limit:
        text = text[:limit] + f"…[truncated, {len(text)} characters]"
    return redact(text)


def api_log_record(
    *,
    api_key_prefix: str,
    client: str,
    http_method: str,
    http_status: int,
    request_origin: str,
    request_path: str,
    request_body: str,
    request_response: str,
) -> None:
    """One row per write request, bodies redacted (core.redaction) and truncated to
    API_LOG_MAX_BODY_CHARS. Only what the caller passes is stored: never headers."""
    from core.models import ApiLog

    limit = settings.API_LOG_MAX_BODY_CHARS
    version = request_path.split("/")[2] if request_path.startswith("/api/v") else ""
    ApiLog.objects.create(
        api_key_prefix=api_key_prefix[:16],
        client=client[:255],
        http_method=http_method.lower()[:8],
        http_status=http_status,
        request_origin=request_origin[:255],
        request_path=request_path[:1000],
        request_body=_bounded(request_body, limit),
        request_response=_bounded(request_response, limit),
        api_version=version[:8],
        logged_at=timezone.now(),
    )


def api_logs_purge(*, now=None) -> int:
    """Delete API logs older than API_LOG_RETENTION_DAYS; how many went."""
    from core.models import ApiLog

    cutoff = (now or timezone.now()) - timedelta(days=settings.API_LOG_RETENTION_DAYS)
    deleted, _ = ApiLog.objects.filter(logged_at__lt=cutoff).delete()
    return deleted
