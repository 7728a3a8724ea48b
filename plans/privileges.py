"""Privilege value types (Lago's entitlements): config rules, value validation and casting.

Pure: no ORM. Used by the feature and plan-entitlement services (plans) and by the
subscription overrides (customers). Values are stored as strings, as Lago stores them, and
cast back to their type when rendered."""

VALUE_TYPES = ("integer", "string", "boolean", "select")
BOOLEAN_VALUES = (True, False, "true", "false")


def config_valid(value_type: str, config) -> bool:
    """Lago: a `select` privilege's config is exactly {"select_options": [str, ...]} (not
    empty); every other type has an empty config."""
    if value_type == "select":
        return (
            isinstance(config, dict)
            and list(config) == ["select_options"]
            and isinstance(config["select_options"], list)
            and bool(config["select_options"])
            and all(isinstance(option, str) for option in config["select_options"])
        )
    return config in (None, {}, [], "")


def value_error(value_type: str, config: dict, value) -> str | None:
    """The reason code for a value a privilege of this type cannot take, else None (Lago's
    CreateOrUpdateConcern#validate_value; None itself is `value_is_mandatory`)."""
    if value is None:
        return "value_is_mandatory"
    if value_type == "select":
        options = (config or {}).get("select_options") or []
        ok = isinstance(value, str) and value in options
        return None if ok else "value_not_in_select_options"
    if value_type == "boolean":
        ok = isinstance(value, bool) or (isinstance(value, str) and value in BOOLEAN_VALUES)
        return None if ok else "value_is_invalid"
    if value_type == "integer":
        if isinstance(value, int) and not isinstance(value, bool):
            return None
        if isinstance(value, str) and _integer_text(value):
            return None
        return "value_is_invalid"
    if value_type == "string":
        return None if isinstance(value, str) else "value_is_invalid"
    return "value_is_invalid"


def _integer_text(text: str) -> bool:
    """Ruby's `value.to_i.to_s == value`: an optional minus and digits, no leading zero, no
    plus sign, no spaces."""
    digits = text[1:] if text.startswith("-") else text
    if not digits.isascii() or not digits.isdigit():
        return False
    return str(int(text)) == text


def stored(value) -> str:
    """The text a valid value is stored as (Ruby's to_s: true -> "true", 10 -> "10")."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def cast(value: str | None, value_type: str):
    """A stored value as its type on the wire (Lago's Utils::Entitlement.cast_value)."""
    if value is None:
        return None
    if value_type == "integer":
        try:
            return int(value)
        except ValueError:
            return 0
    if value_type == "boolean":
        return value not in ("false", "0", "f", "F", "FALSE", "off", "OFF", "")
    return value


def same(value_type: str, left, right) -> bool:
    """Two values mean the same for this type (Lago's Utils::Entitlement.same_value?)."""
    return cast(stored(left), value_type) == cast(stored(right), value_type)
