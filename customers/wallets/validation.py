"""Validation of wallet bodies (Lago's field names and reason codes): create and update fields,
recurring rules, credits and metadata. Raises or collects core.validation.Errors; writes nothing.
"""

from datetime import UTC, datetime
from decimal import Decimal

from django.utils import timezone
from django.utils.text import slugify

from core.errors import ValidationFailed
from core.validation import Errors, check_code, check_currency, parse_decimal, parse_moment
from customers.models import CREDIT_DIGITS, Customer, RecurringTransactionRule, Wallet
from customers.wallets.ledger import ZERO
from plans.models import BillableMetric

Rule = RecurringTransactionRule
FEE_TYPES = ("subscription", "charge", "commitment")


def _fits(number: Decimal, places: int, max_digits: int = 30) -> bool:
    """At most `places` decimals and max_digits digits in all (what the column stores)."""
    if not number.is_finite() or abs(number.adjusted()) > max_digits:
        return False  # 1e1000000 or 1e-20000: normalize() would overflow
    exponent = number.normalize().as_tuple().exponent
    return -exponent <= places and abs(number) < Decimal(10) ** (max_digits - places)


def parse_credits(value) -> Decimal | None:
    """Credits ≥ 0 with at most 5 decimals, else None."""
    number = parse_decimal(value)
    if number is None or number < 0 or not _fits(number, CREDIT_DIGITS["decimal_places"]):
        return None
    return number


def _credits_field(data: dict, key: str, errors: Errors, code: str = "value_is_invalid"):
    if data.get(key) in (None, ""):
        return ZERO
    number = parse_credits(data[key])
    if number is None:
        errors.add(key, code)
    return number or ZERO


def _time_field(data: dict, key: str, errors: Errors) -> datetime | None:
    value = data.get(key)
    if value in (None, ""):
        return None
    parsed = value if isinstance(value, datetime) else parse_moment(value)
    if parsed is None:
        errors.add(key, "invalid_format")
        return None
    return parsed if timezone.is_aware(parsed) else parsed.replace(tzinfo=UTC)


def _bool_field(data: dict, key: str, errors: Errors, fields: dict) -> None:
    if key in data:
        if isinstance(data[key], bool):
            fields[key] = data[key]
        else:
            errors.add(key, "value_is_invalid")


def _cents_field(data: dict, key: str, errors: Errors, fields: dict) -> None:
    if key in data:
        value = data[key]
        if value is None:
            fields[key] = None
        elif isinstance(value, bool) or not isinstance(value, int) or value < 0:
            errors.add(key, "value_is_invalid")
        else:
            fields[key] = value


def metadata_list(value, key: str, errors: Errors) -> list:
    """Lago's transaction metadata: [{"key": ..., "value": ...}]."""
    if value is None:
        return []
    valid = isinstance(value, list) and all(
        isinstance(item, dict) and isinstance(item.get("key"), str) for item in value
    )
    if not valid:
        errors.add(key, "invalid_format")
        return []
    return [{"key": item["key"], "value": str(item.get("value") or "")} for item in value]


# --- wallet fields ---------------------------------------------------------------------------


def _applies_to(value, errors: Errors, fields: dict) -> None:
    if not isinstance(value, dict):
        errors.add("applies_to", "invalid_format")
        return
    types = value.get("fee_types") or []
    codes = value.get("billable_metric_codes") or []
    if not isinstance(types, list) or not all(t in FEE_TYPES for t in _texts(types)):
        errors.add("applies_to.fee_types", "value_is_invalid")
        types = None
    if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
        errors.add("applies_to.billable_metric_codes", "value_is_invalid")
        codes = None
    elif BillableMetric.objects.live().filter(code__in=codes).count() != len(set(codes)):
        errors.add("applies_to.billable_metric_codes", "billable_metric_not_found")
    fields["applies_to_fee_types"] = sorted(set(types)) if isinstance(types, list) else []
    fields["applies_to_billable_metric_codes"] = (
        sorted(set(codes)) if isinstance(codes, list) else []
    )


def _texts(values: list) -> list:
    """The items, with anything that is not text (a list, an object) as None: never in a set."""
    return [value if isinstance(value, str) else None for value in values]


def _priority(value, errors: Errors, fields: dict) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 50:
        errors.add("priority", "value_is_invalid")
    else:
        fields["priority"] = value


def metadata_dict(value, errors: Errors, fields: dict) -> None:
    valid = isinstance(value, dict) and all(
        isinstance(v, str | None | int | float) for v in value.values()
    )
    if not valid:
        errors.add("metadata", "invalid_format")
    else:
        fields["metadata"] = {str(k): None if v is None else str(v) for k, v in value.items()}


def common_fields(data: dict, errors: Errors, now: datetime) -> dict:
    """The fields create and update share; only those sent are returned."""
    fields: dict = {}
    if "name" in data:
        if not isinstance(data["name"], str) or len(data["name"]) > 255:
            errors.add("name", "value_is_invalid")
        else:
            fields["name"] = data["name"]
    if "code" in data:
        errors.add("code", check_code(data["code"]))
        fields["code"] = data["code"]
    if "priority" in data:
        _priority(data["priority"], errors, fields)
    if "expiration_at" in data:
        expiration = _time_field(data, "expiration_at", errors)
        if expiration is not None and expiration <= now:
            errors.add("expiration_at", "invalid_date")
        fields["expiration_at"] = expiration
    if "applies_to" in data:
        _applies_to(data["applies_to"], errors, fields)
    if "metadata" in data:
        metadata_dict(data["metadata"], errors, fields)
    _bool_field(data, "invoice_requires_successful_payment", errors, fields)
    for key in ("paid_top_up_min_amount_cents", "paid_top_up_max_amount_cents"):
        _cents_field(data, key, errors, fields)
    return fields


def check_limits(wallet: Wallet, errors: Errors) -> None:
    low, high = wallet.paid_top_up_min_amount_cents, wallet.paid_top_up_max_amount_cents
    if low is not None and high is not None and low > high:
        errors.add("paid_top_up_min_amount_cents", "value_is_invalid")


def code_taken(wallet: Wallet, code: str) -> bool:
    others = Wallet.objects.filter(
        customer_id=wallet.customer_id, code=code, status=Wallet.Status.ACTIVE
    )
    return others.exclude(pk=wallet.pk).exists()


def default_code(wallet: Wallet) -> str:
    """A code from the name (`prepaid_credits`), suffixed _2, _3… when taken."""
    base = slugify(wallet.name).replace("-", "_")[:240] or "wallet"
    code, n = base, 1
    while code_taken(wallet, code):
        n += 1
        code = f"{base}_{n}"
    return code


# --- recurring rules fields ------------------------------------------------------------------


def _rule_fields(raw, prefix: str, errors: Errors) -> dict:
    """One rule of `recurring_transaction_rules`, as model fields (errors under prefix.field)."""
    if not isinstance(raw, dict):
        errors.add(prefix, "invalid_format")
        return {}
    raw = {key: value for key, value in raw.items() if value is not None}
    local = Errors()
    fields = {
        "trigger": raw.get("trigger"),
        "interval": raw.get("interval") or "",
        "method": raw.get("method") or Rule.Method.FIXED,
        "paid_credits": _credits_field(raw, "paid_credits", local),
        "granted_credits": _credits_field(raw, "granted_credits", local),
        "threshold_credits": _optional_credits(raw, "threshold_credits", local),
        "target_ongoing_balance": _optional_credits(raw, "target_ongoing_balance", local),
        "started_at": _time_field(raw, "started_at", local),
        "expiration_at": _time_field(raw, "expiration_at", local),
        "transaction_name": str(raw.get("transaction_name") or "")[:255],
        "transaction_metadata": metadata_list(
            raw.get("transaction_metadata"), "transaction_metadata", local
        ),
    }
    for key in ("ignore_paid_top_up_limits", "grants_target_top_up"):
        _bool_field(raw, key, local, fields)
    _check_rule(fields, local)
    errors.merge(local, prefix=f"{prefix}.")
    if raw.get("lago_id"):
        fields["lago_id"] = raw["lago_id"]
    return fields


def _optional_credits(raw: dict, key: str, errors: Errors) -> Decimal | None:
    return _credits_field(raw, key, errors) if raw.get(key) not in (None, "") else None


def _check_rule(fields: dict, errors: Errors) -> None:
    if fields["trigger"] not in Rule.Trigger.values:
        errors.add("trigger", "value_is_invalid")
    if fields["trigger"] == Rule.Trigger.INTERVAL and fields["interval"] not in Rule.Interval:
        errors.add("interval", "value_is_invalid")
    if fields["trigger"] == Rule.Trigger.THRESHOLD and fields["threshold_credits"] is None:
        errors.add("threshold_credits", "value_is_mandatory")
    if fields["method"] not in Rule.Method.values:
        errors.add("method", "value_is_invalid")
    if fields["method"] == Rule.Method.TARGET and fields["target_ongoing_balance"] is None:
        errors.add("target_ongoing_balance", "value_is_mandatory")


def rules_fields(value, errors: Errors) -> list[dict] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        errors.add("recurring_transaction_rules", "invalid_format")
        return None
    prefix = "recurring_transaction_rules"
    return [_rule_fields(raw, f"{prefix}.{index}", errors) for index, raw in enumerate(value)]


def _create_fields(data: dict, customer: Customer, errors: Errors, now: datetime) -> dict:
    fields = common_fields(data, errors, now)
    fields["currency"] = str(data.get("currency") or customer.currency or "").upper()
    if not fields["currency"]:
        errors.add("currency", "value_is_mandatory")
    else:
        errors.add("currency", check_currency(fields["currency"]))
    rate = parse_decimal(data.get("rate_amount"))
    if data.get("rate_amount") in (None, ""):
        errors.add("rate_amount", "value_is_mandatory")
    elif rate is None or rate <= 0 or not _fits(rate, 10):
        errors.add("rate_amount", "value_is_invalid")
    fields["rate_amount"] = rate
    return fields


def new_wallet(data: dict, customer: Customer, now: datetime) -> tuple[Wallet, list, dict]:
    """Validate a create body: the unsaved wallet, its rules and its first top-up."""
    errors = Errors()
    wallet = Wallet(customer=customer, **_create_fields(data, customer, errors, now))
    rules = rules_fields(data.get("recurring_transaction_rules"), errors) or []
    top_up = {
        "paid_credits": _credits_field(data, "paid_credits", errors, "invalid_paid_credits"),
        "granted_credits": _credits_field(
            data, "granted_credits", errors, "invalid_granted_credits"
        ),
        "metadata": metadata_list(data.get("transaction_metadata"), "transaction_metadata", errors),
        "name": str(data.get("transaction_name") or ""),
        "ignore_paid_top_up_limits": data.get("ignore_paid_top_up_limits_on_creation") is True,
    }
    check_limits(wallet, errors)
    if wallet.code and not errors and code_taken(wallet, wallet.code):
        errors.add("code", "value_already_exist")
    if errors:
        raise ValidationFailed(errors)
    return wallet, rules, top_up


def checked_credits(values: dict) -> dict[str, Decimal]:
    """paid/granted/voided credits as Decimals ≥ 0 (Lago's invalid_<kind>_credits codes)."""
    errors, parsed = Errors(), {}
    for kind, value in values.items():
        parsed[kind] = _credits_field({kind: value}, kind, errors, f"invalid_{kind}")
    if errors:
        raise ValidationFailed(errors)
    return parsed
