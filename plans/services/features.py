"""Features and their privileges (Lago's entitlement features), and the entitlements a plan
grants: create, update, delete, each in one transaction; nothing is half-written.

Lago's rules and reason codes (Entitlement::Feature*Service, PlanEntitlementsUpdateService):
codes are required and unique (a feature's code per organization, a privilege's per feature),
names at most 255 characters, descriptions 600; a privilege's value type is one of integer,
string (the default), boolean, select, and only a select privilege has a config (its non-empty
select_options). Privilege errors are reported as `privilege.<field>`, a value that does not
fit its privilege as `<privilege code>_privilege_value`."""

from django.db import IntegrityError, transaction

from core import hooks
from core.errors import NotFound, ValidationFailed
from core.locks import lock_one
from core.validation import Errors, check_code
from plans import privileges as rules
from plans.models import Feature, Privilege
from plans.serializers import feature_json

NAME_MAX, DESCRIPTION_MAX = 255, 600


# --- features ----------------------------------------------------------------------------------


def _announce(webhook_type: str, feature: Feature) -> None:
    """The feature.* webhooks (Lago's), through the hook the webhooks app receives."""
    feature = Feature.objects.prefetch_related("privileges").get(pk=feature.pk)
    hooks.run("feature.changed", webhook_type=webhook_type, feature=feature_json(feature))


def _text_error(value, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        return "value_is_invalid"
    return "value_is_too_long" if len(value) > limit else None


def _stripped(code):
    return code.strip() if isinstance(code, str) else code


def _privileges_payload(raw) -> list[dict]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        raise ValidationFailed({"privileges": ["invalid_format"]})
    codes = [_stripped(item.get("code")) for item in raw]
    if len(set(map(str, codes))) != len(codes):
        raise ValidationFailed({"privilege.code": ["value_is_duplicated"]})
    return raw


def _new_privilege_errors(item: dict) -> tuple[dict, Errors]:
    """A privilege to create, cleaned, and its errors (`privilege.` prefixed)."""
    errors = Errors()
    code = _stripped(item.get("code"))
    errors.add("privilege.code", check_code(code))
    errors.add("privilege.name", _text_error(item.get("name"), NAME_MAX))
    value_type = item.get("value_type") or "string"
    if value_type not in rules.VALUE_TYPES:
        errors.add("privilege.value_type", "value_is_invalid")
    config = item.get("config") or {}
    if value_type in rules.VALUE_TYPES and not rules.config_valid(value_type, config):
        errors.add("privilege.config", "invalid_format")
    name = item.get("name") or ""
    fields = {"code": code, "name": name, "value_type": value_type, "config": config}
    return fields, errors


def feature_create(*, data: dict) -> Feature:
    privileges = _privileges_payload(data.get("privileges"))
    code = _stripped(data.get("code"))
    errors = Errors()
    errors.add("code", check_code(code))
    errors.add("name", _text_error(data.get("name"), NAME_MAX))
    errors.add("description", _text_error(data.get("description"), DESCRIPTION_MAX))
    cleaned = []
    for item in privileges:
        fields, item_errors = _new_privilege_errors(item)
        errors.merge(item_errors)
        cleaned.append(fields)
    if errors:
        raise ValidationFailed(errors)
    if Feature.objects.filter(code=code).exists():
        raise ValidationFailed({"code": ["value_already_exist"]})
    try:
        with transaction.atomic():
            feature = Feature.objects.create(
                code=code,
                name=data.get("name") or "",
                description=data.get("description") or "",
            )
            for fields in cleaned:
                Privilege.objects.create(feature=feature, **fields)
            _announce("feature.created", feature)
    except IntegrityError:  # a concurrent create of the same code
        raise ValidationFailed({"code": ["value_already_exist"]}) from None
    return feature


@transaction.atomic
def feature_update(*, feature: Feature, data: dict) -> Feature:
    """Lago's PUT is partial: name and description when sent; each privilege sent is created
    when new, else renamed (when `name` is sent) and given the union of its select options and
    the ones sent. Privileges not sent are kept; a value type never changes."""
    privileges = _privileges_payload(data.get("privileges"))
    feature = lock_one(Feature, feature.pk)
    errors = Errors()
    for field, limit in (("name", NAME_MAX), ("description", DESCRIPTION_MAX)):
        if field in data:
            errors.add(field, _text_error(data[field], limit))
            setattr(feature, field, data[field] or "")
    existing = {p.code: p for p in feature.privileges.all()}
    to_save, to_create = [], []
    for item in privileges:
        privilege = existing.get(_stripped(item.get("code")))
        if privilege is None:
            fields, item_errors = _new_privilege_errors(item)
            errors.merge(item_errors)
            to_create.append(fields)
            continue
        if "name" in item:
            errors.add("privilege.name", _text_error(item["name"], NAME_MAX))
            privilege.name = item["name"] or ""
        config_sent = item.get("config")
        options = config_sent.get("select_options") if isinstance(config_sent, dict) else None
        if options is not None and not isinstance(options, list):
            errors.add("privilege.config", "invalid_format")
        elif options:
            config = dict(privilege.config or {})
            current = list(config.get("select_options") or [])
            config["select_options"] = current + [
                o for i, o in enumerate(options) if o not in current and o not in options[:i]
            ]
            privilege.config = config
            if not rules.config_valid(privilege.value_type, config):
                errors.add("privilege.config", "invalid_format")
        to_save.append(privilege)
    if errors:
        raise ValidationFailed(errors)
    feature.save()
    for privilege in to_save:
        privilege.save()
    for fields in to_create:
        Privilege.objects.create(feature=feature, **fields)
    _announce("feature.updated", feature)
    return feature


@transaction.atomic
def feature_delete(*, feature: Feature) -> dict:
    """Remove the feature from every plan and subscription, then the feature; answers what
    it was (rendered before deletion)."""
    rendered = feature_json(feature)
    Feature.objects.filter(pk=feature.pk).delete()  # cascades to privileges and entitlements
    hooks.run("feature.changed", webhook_type="feature.deleted", feature=rendered)
    return rendered


@transaction.atomic
def privilege_delete(*, feature: Feature, code: str) -> Feature:
    """Remove one privilege from the feature and its value from every plan and subscription."""
    privilege = feature.privileges.filter(code=code).first()
    if privilege is None:
        raise NotFound("privilege")
    privilege.delete()  # cascades to plan and subscription values, and removals
    _announce("feature.updated", feature)
    return feature
