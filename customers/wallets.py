"""Wallets and prepaid credits: create, top up, consume on invoices, balances, alerts, expiry and
recurring top-ups.

A wallet's balance is never stored: it is the sum of its settled transactions (inbound -
outbound), computed in SQL. Transactions are append-only; only their status moves
(pending → settled | failed). Every write locks the wallet row first.
"""

import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import IntegrityError, transaction
from django.db.models import DecimalField, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.text import slugify

from core.errors import BillingError, NotFound, ValidationFailed
from core.money import from_minor_units, to_minor_units
from core.validation import Errors, check_code, check_currency, parse_decimal, parse_moment
from customers.models import (
    CREDIT_DIGITS,
    Customer,
    RecurringTransactionRule,
    Subscription,
    Wallet,
    WalletTransaction,
)
from customers.selectors import customer_get, customer_timezone
from invoices.models import Fee, Invoice
from plans import periods
from plans.models import BillableMetric
from usage.reports import current_usage

logger = logging.getLogger(__name__)

Tx = WalletTransaction
Rule = RecurringTransactionRule
ZERO = Decimal(0)
CREDIT_STEP = Decimal(1).scaleb(-CREDIT_DIGITS["decimal_places"])  # 0.00001 credit
FEE_TYPES = ("subscription", "charge", "commitment")
APPLIED_INVOICE_TYPES = (Invoice.InvoiceType.SUBSCRIPTION, Invoice.InvoiceType.PROGRESSIVE_BILLING)
INTERVAL_MONTHS = {"monthly": 1, "quarterly": 3, "semiannual": 6, "yearly": 12}
WALLET_UPDATE_FIELDS = (
    "name",
    "code",
    "priority",
    "expiration_at",
    "applies_to",
    "invoice_requires_successful_payment",
    "paid_top_up_min_amount_cents",
    "paid_top_up_max_amount_cents",
    "metadata",
)


# --- credits and money -----------------------------------------------------------------------


def credits_of(value: Decimal) -> Decimal:
    """Credits kept at the stored precision (5 places). Credits are not money: money is only
    rounded by core.money."""
    return Decimal(value).quantize(CREDIT_STEP, rounding=ROUND_HALF_UP)


def money_cents(credits: Decimal, wallet: Wallet) -> int:
    """What `credits` are worth, in the wallet currency's minor units."""
    return to_minor_units(credits * wallet.rate_amount, wallet.currency)


def money_amount(credits: Decimal, wallet: Wallet) -> Decimal:
    """What `credits` are worth in major units, rounded to the currency's minor unit."""
    return from_minor_units(money_cents(credits, wallet), wallet.currency)


def cents_to_credits(cents: int, wallet: Wallet) -> Decimal:
    return credits_of(from_minor_units(cents, wallet.currency) / wallet.rate_amount)


# --- selectors -------------------------------------------------------------------------------


def credit_sums(prefix: str = "") -> dict:
    """SQL sums of settled credits: `aggregate(**credit_sums())` on transactions, or
    `annotate(**credit_sums("transactions__"))` on wallets (no per-row queries)."""

    def total(**conditions) -> Coalesce:
        where = Q(**{f"{prefix}{key}": value for key, value in conditions.items()})
        return Coalesce(
            Sum(f"{prefix}credit_amount", filter=where & Q(**{f"{prefix}status": "settled"})),
            Value(ZERO),
            output_field=DecimalField(**CREDIT_DIGITS),
        )

    return {
        "credits_in": total(transaction_type="inbound"),
        "credits_out": total(transaction_type="outbound"),
        "credits_consumed": total(transaction_type="outbound", transaction_status="invoiced"),
    }


def wallets_with_credits(queryset):
    """Wallets annotated with credits_in, credits_out and credits_consumed (one query)."""
    return queryset.annotate(**credit_sums("transactions__"))


def wallet_credits(wallet: Wallet) -> tuple[Decimal, Decimal]:
    """(credits balance, consumed credits), summed in SQL from settled transactions."""
    sums = Tx.objects.filter(wallet_id=wallet.pk).aggregate(**credit_sums())
    return sums["credits_in"] - sums["credits_out"], sums["credits_consumed"]


def wallet_get(*, lago_id: str) -> Wallet:
    wallet = Wallet.objects.select_related("customer").filter(lago_id=_uuid(lago_id)).first()
    if wallet is None:
        raise NotFound("wallet")
    return wallet


def _uuid(value) -> str | None:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return None


def customers_with_active_wallets() -> list[int]:
    rows = Wallet.objects.filter(status=Wallet.Status.ACTIVE).values_list("customer_id", flat=True)
    return sorted(set(rows))


def _usable(wallet: Wallet, now: datetime) -> bool:
    """Active and not past its expiration (expiry runs hourly; an expired wallet pays nothing)."""
    expired = wallet.expiration_at is not None and wallet.expiration_at <= now
    return wallet.status == Wallet.Status.ACTIVE and not expired


# --- applies_to: which fees a wallet pays -----------------------------------------------------

FeeKey = tuple[str, str | None]  # (fee type, billable metric code of a charge fee)


def _applies(wallet: Wallet, key: FeeKey) -> bool:
    """Lago's rule: no limits = every fee; else the fee type is listed, or the charge's metric."""
    types, codes = wallet.applies_to_fee_types, wallet.applies_to_billable_metric_codes
    if not types and not codes:
        return True
    return key[0] in types or (key[0] == "charge" and key[1] in codes)


def _fee_key(fee: Fee) -> FeeKey:
    metric = fee.charge.billable_metric.code if fee.charge_id else None
    return fee.fee_type, metric


def _fee_items(fees) -> dict[FeeKey, int]:
    """What each fee key still owes: amount - its coupons share + its taxes (Lago's cap)."""
    items: dict[FeeKey, int] = defaultdict(int)
    for fee in fees:
        owed = fee.amount_cents - fee.coupons_amount_cents + fee.taxes_amount_cents
        if owed > 0:
            items[_fee_key(fee)] += owed
    return items


@dataclass
class Share:
    wallet: Wallet
    eligible_cents: int  # what this wallet is asked to cover (after higher-priority wallets)
    taken_cents: int  # what it covers: min(eligible, its balance)


def share_out(wallets, balances: dict[int, int], items: dict, cap: int | None = None):
    """Walk wallets in priority order; each takes what it can of the fees it applies to, largest
    fee keys first (as Lago does), `cap` bounding the total. Pure: no queries."""
    remaining, shares = dict(items), []
    for wallet in wallets:
        keys = sorted(
            (k for k, v in remaining.items() if v > 0 and _applies(wallet, k)),
            key=lambda k: (-remaining[k], str(k)),
        )
        eligible = sum(remaining[k] for k in keys)
        eligible = eligible if cap is None else min(eligible, cap)
        taken = left = max(0, min(balances.get(wallet.pk, 0), eligible))
        for key in keys:
            part = min(remaining[key], left)
            remaining[key], left = remaining[key] - part, left - part
        cap = None if cap is None else cap - taken
        shares.append(Share(wallet, eligible, taken))
    return shares


# --- balances --------------------------------------------------------------------------------


@dataclass(frozen=True)
class WalletBalances:
    """Settled balance, and the ongoing balance: what is left once the usage not yet paid by
    this wallet is taken into account (never below zero)."""

    credits_balance: Decimal
    balance_cents: int
    consumed_credits: Decimal
    ongoing_usage_balance_cents: int
    ongoing_balance_cents: int
    credits_ongoing_usage_balance: Decimal
    credits_ongoing_balance: Decimal


def _pending_usage(customer: Customer, currency: str, now: datetime) -> dict[FeeKey, int]:
    """What the customer owes that no wallet has paid yet: the current period's usage of its
    active subscriptions (charges billed in arrears) and its draft invoices."""
    items: dict[FeeKey, int] = defaultdict(int)
    subscriptions = Subscription.objects.filter(
        customer=customer, status=Subscription.Status.ACTIVE, plan__amount_currency=currency
    ).select_related("customer", "plan")
    for subscription in subscriptions:
        for usage in current_usage(subscription, at=now).charges:
            if not usage.charge.pay_in_advance:  # in-advance charges are invoiced as they come
                items[("charge", usage.charge.billable_metric.code)] += usage.amount_cents
    drafts = Invoice.objects.filter(
        customer=customer,
        currency=currency,
        status=Invoice.Status.DRAFT,
        invoice_type__in=APPLIED_INVOICE_TYPES,
    ).exclude(wallet_transactions__transaction_type=Tx.TransactionType.OUTBOUND)
    fees = Fee.objects.filter(invoice__in=drafts).select_related("charge__billable_metric")
    for key, cents in _fee_items(fees).items():
        items[key] += cents
    return items


def _balances(wallet: Wallet, share: Share | None) -> WalletBalances:
    credits = wallet.credits_in - wallet.credits_out
    balance_cents = money_cents(credits, wallet)
    usage = share.eligible_cents if share else 0
    ongoing = max(0, balance_cents - usage)
    usage_credits = cents_to_credits(usage, wallet)
    return WalletBalances(
        credits_balance=credits,
        balance_cents=balance_cents,
        consumed_credits=wallet.credits_consumed,
        ongoing_usage_balance_cents=usage,
        ongoing_balance_cents=ongoing,
        credits_ongoing_usage_balance=usage_credits,
        credits_ongoing_balance=max(ZERO, credits - usage_credits) if ongoing else ZERO,
    )


def customer_wallet_balances(
    customer: Customer, *, currency: str | None = None, now: datetime | None = None
) -> dict[int, WalletBalances]:
    """Balances of a customer's wallets (by id): usage is priced once per currency and shared
    out over the usable wallets in priority order, as wallets_apply would."""
    now = now or timezone.now()
    wallets = wallets_with_credits(Wallet.objects.filter(customer=customer)).order_by(
        "priority", "created_at", "id"
    )
    if currency:
        wallets = wallets.filter(currency=currency)
    by_currency = defaultdict(list)
    for wallet in wallets:
        by_currency[wallet.currency].append(wallet)
    result = {}
    for code, group in by_currency.items():
        usable = [w for w in group if _usable(w, now)]
        shares = {}
        if usable:
            cents = {w.pk: money_cents(w.credits_in - w.credits_out, w) for w in usable}
            items = _pending_usage(customer, code, now)
            shares = {s.wallet.pk: s for s in share_out(usable, cents, items)}
        result.update({w.pk: _balances(w, shares.get(w.pk)) for w in group})
    return result


def wallet_balances(wallet: Wallet, *, now: datetime | None = None) -> WalletBalances:
    """One wallet's balances (the customer's other wallets of its currency come first if their
    priority says so)."""
    balances = customer_wallet_balances(wallet.customer, currency=wallet.currency, now=now)
    return balances[wallet.pk]


# --- validation helpers ----------------------------------------------------------------------


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


def _metadata_list(value, key: str, errors: Errors) -> list:
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


def _metadata_dict(value, errors: Errors, fields: dict) -> None:
    valid = isinstance(value, dict) and all(
        isinstance(v, str | None | int | float) for v in value.values()
    )
    if not valid:
        errors.add("metadata", "invalid_format")
    else:
        fields["metadata"] = {str(k): None if v is None else str(v) for k, v in value.items()}


def _common_fields(data: dict, errors: Errors, now: datetime) -> dict:
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
        _metadata_dict(data["metadata"], errors, fields)
    _bool_field(data, "invoice_requires_successful_payment", errors, fields)
    for key in ("paid_top_up_min_amount_cents", "paid_top_up_max_amount_cents"):
        _cents_field(data, key, errors, fields)
    return fields


def _check_limits(wallet: Wallet, errors: Errors) -> None:
    low, high = wallet.paid_top_up_min_amount_cents, wallet.paid_top_up_max_amount_cents
    if low is not None and high is not None and low > high:
        errors.add("paid_top_up_min_amount_cents", "value_is_invalid")


def _code_taken(wallet: Wallet, code: str) -> bool:
    others = Wallet.objects.filter(
        customer_id=wallet.customer_id, code=code, status=Wallet.Status.ACTIVE
    )
    return others.exclude(pk=wallet.pk).exists()


def _default_code(wallet: Wallet) -> str:
    """A code from the name (`prepaid_credits`), suffixed _2, _3… when taken."""
    base = slugify(wallet.name).replace("-", "_")[:240] or "wallet"
    code, n = base, 1
    while _code_taken(wallet, code):
        n += 1
        code = f"{base}_{n}"
    return code


def _save_wallet(wallet: Wallet) -> None:
    try:
        with transaction.atomic():
            wallet.save()
    except IntegrityError as exc:  # a concurrent create took the code
        raise ValidationFailed({"code": ["value_already_exist"]}) from exc


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
        "transaction_metadata": _metadata_list(
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


def _rules_fields(value, errors: Errors) -> list[dict] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        errors.add("recurring_transaction_rules", "invalid_format")
        return None
    prefix = "recurring_transaction_rules"
    return [_rule_fields(raw, f"{prefix}.{index}", errors) for index, raw in enumerate(value)]


def _replace_rules(wallet: Wallet, rules: list[dict]) -> None:
    """The list sent replaces the wallet's rules: matched by lago_id, others created, the rest
    removed (Lago)."""
    existing = {str(rule.lago_id): rule for rule in wallet.recurring_rules.all()}
    kept = []
    for fields in rules:
        rule = existing.get(str(fields.pop("lago_id", "")))
        if rule is None:
            rule = Rule(wallet=wallet)
        for key, value in fields.items():
            setattr(rule, key, value)
        rule.save()
        kept.append(rule.pk)
    wallet.recurring_rules.exclude(pk__in=kept).delete()


# --- notifications ---------------------------------------------------------------------------


def _wanted(webhook_type: str) -> bool:
    """Someone listens (rendering a wallet prices current usage: skip it when nobody does)."""
    from webhooks.models import WebhookEndpoint

    return any(e.wants(webhook_type) for e in WebhookEndpoint.objects.filter(is_active=True))


def _notify_wallet(webhook_type: str, wallet: Wallet, balances=None) -> None:
    from customers.api_wallets import wallet_json
    from webhooks.services import webhook_send

    if _wanted(webhook_type):
        data = wallet_json(wallet, balances)
        webhook_send(webhook_type=webhook_type, object_type="wallet", data=data)


def _notify_transactions(webhook_type: str, rows: list[WalletTransaction]) -> None:
    from customers.api_wallets import wallet_transaction_json
    from webhooks.services import webhook_send

    if rows and _wanted(webhook_type):
        for row in rows:
            data = wallet_transaction_json(row)
            webhook_send(webhook_type=webhook_type, object_type="wallet_transaction", data=data)


# --- create, update, terminate ---------------------------------------------------------------


def _create_fields(data: dict, customer: Customer, errors: Errors, now: datetime) -> dict:
    fields = _common_fields(data, errors, now)
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


def _new_wallet(data: dict, customer: Customer, now: datetime) -> tuple[Wallet, list, dict]:
    """Validate a create body: the unsaved wallet, its rules and its first top-up."""
    errors = Errors()
    wallet = Wallet(customer=customer, **_create_fields(data, customer, errors, now))
    rules = _rules_fields(data.get("recurring_transaction_rules"), errors) or []
    top_up = {
        "paid_credits": _credits_field(data, "paid_credits", errors, "invalid_paid_credits"),
        "granted_credits": _credits_field(
            data, "granted_credits", errors, "invalid_granted_credits"
        ),
        "metadata": _metadata_list(
            data.get("transaction_metadata"), "transaction_metadata", errors
        ),
        "name": str(data.get("transaction_name") or ""),
        "ignore_paid_top_up_limits": data.get("ignore_paid_top_up_limits_on_creation") is True,
    }
    _check_limits(wallet, errors)
    if wallet.code and not errors and _code_taken(wallet, wallet.code):
        errors.add("code", "value_already_exist")
    if errors:
        raise ValidationFailed(errors)
    return wallet, rules, top_up


@transaction.atomic
def wallet_create(*, data: dict, now: datetime | None = None) -> Wallet:
    """Lago's POST /wallets: the wallet, its recurring rules and its first top-up (paid credits
    are invoiced; granted credits land at once)."""
    now = now or timezone.now()
    data = {key: value for key, value in data.items() if value is not None}
    if not data.get("external_customer_id"):
        raise ValidationFailed({"external_customer_id": ["value_is_mandatory"]})
    customer = customer_get(external_id=data["external_customer_id"])
    customer = Customer.objects.select_for_update().get(pk=customer.pk)  # codes are per customer
    wallet, rules, top_up = _new_wallet(data, customer, now)
    wallet.code = wallet.code or _default_code(wallet)
    _save_wallet(wallet)
    _replace_rules(wallet, rules)
    _notify_wallet("wallet.created", wallet)
    wallet_top_up(wallet=wallet, now=now, **top_up)
    return wallet


def _lock(wallet: Wallet) -> Wallet:
    return Wallet.objects.select_for_update().select_related("customer").get(pk=wallet.pk)


@transaction.atomic
def wallet_update(*, wallet: Wallet, data: dict, now: datetime | None = None) -> Wallet:
    """Lago's PUT /wallets/{id} (partial): name, code, priority, expiration, applies_to, limits,
    metadata, recurring rules. The currency and rate of a wallet never change."""
    now = now or timezone.now()
    wallet = _lock(wallet)
    if wallet.status != Wallet.Status.ACTIVE:
        raise ValidationFailed({"wallet": ["wallet_is_terminated"]})
    data = {
        key: data[key]
        for key in (*WALLET_UPDATE_FIELDS, "recurring_transaction_rules")
        if key in data
    }
    data = {key: value for key, value in data.items() if value is not None}
    errors = Errors()
    fields = _common_fields(data, errors, now)
    rules = _rules_fields(data.get("recurring_transaction_rules"), errors)
    for key, value in fields.items():
        setattr(wallet, key, value)
    _check_limits(wallet, errors)
    if "code" in fields and not errors and _code_taken(wallet, wallet.code):
        errors.add("code", "value_already_exist")
    if errors:
        raise ValidationFailed(errors)
    _save_wallet(wallet)
    if rules is not None:
        _replace_rules(wallet, rules)
    _notify_wallet("wallet.updated", wallet)
    return wallet


def _void(wallet: Wallet, credits: Decimal, now: datetime, **extra) -> WalletTransaction:
    """Remove credits from a wallet (an outbound, settled, voided transaction)."""
    return Tx.objects.create(
        wallet=wallet,
        transaction_type=Tx.TransactionType.OUTBOUND,
        transaction_status=Tx.TransactionStatus.VOIDED,
        status=Tx.Status.SETTLED,
        credit_amount=credits,
        amount=money_amount(credits, wallet),
        settled_at=now,
        **extra,
    )


@transaction.atomic
def wallet_terminate(*, wallet: Wallet, now: datetime | None = None) -> Wallet:
    """Terminate a wallet; its remaining credits are voided. Terminating twice is a no-op."""
    now = now or timezone.now()
    wallet = _lock(wallet)
    if wallet.status == Wallet.Status.TERMINATED:
        return wallet
    credits, _ = wallet_credits(wallet)
    voided = [_void(wallet, credits, now)] if credits > 0 else []
    wallet.status, wallet.terminated_at = Wallet.Status.TERMINATED, now
    wallet.save(update_fields=["status", "terminated_at", "updated_at"])
    _notify_transactions("wallet_transaction.created", voided)
    _notify_wallet("wallet.terminated", wallet)
    return wallet


# --- top-ups ---------------------------------------------------------------------------------


@dataclass
class TopUp:
    """What a top-up asks for, validated."""

    paid: Decimal = ZERO
    granted: Decimal = ZERO
    voided: Decimal = ZERO
    source: str = Tx.Source.MANUAL
    idempotency_key: str | None = None
    name: str = ""
    metadata: list = field(default_factory=list)
    requires_payment: bool = False


def _top_up_errors(wallet: Wallet, top_up: TopUp, ignore_limits: bool) -> Errors:
    errors = Errors()
    if wallet.status != Wallet.Status.ACTIVE:
        errors.add("wallet_id", "wallet_is_terminated")
    if top_up.paid and money_cents(top_up.paid, wallet) <= 0:
        errors.add("paid_credits", "invalid_paid_credits")
    if top_up.voided and top_up.voided > wallet_credits(wallet)[0]:
        errors.add("voided_credits", "insufficient_credits")
    if top_up.paid and not ignore_limits:
        cents = money_cents(top_up.paid, wallet)
        low, high = wallet.paid_top_up_min_amount_cents, wallet.paid_top_up_max_amount_cents
        if low is not None and cents < low:
            errors.add("paid_credits", "amount_below_minimum")
        if high is not None and cents > high:
            errors.add("paid_credits", "amount_above_maximum")
    return errors


def _checked_credits(values: dict) -> dict[str, Decimal]:
    """paid/granted/voided credits as Decimals ≥ 0 (Lago's invalid_<kind>_credits codes)."""
    errors, parsed = Errors(), {}
    for kind, value in values.items():
        parsed[kind] = _credits_field({kind: value}, kind, errors, f"invalid_{kind}")
    if errors:
        raise ValidationFailed(errors)
    return parsed


def _keyed(wallet: Wallet, key: str) -> list[WalletTransaction]:
    """The transactions an earlier top-up with this idempotency key made, in creation order."""
    return list(Tx.objects.filter(wallet=wallet, idempotency_key=key).order_by("id"))


def _row(wallet: Wallet, top_up: TopUp, **fields) -> WalletTransaction:
    return Tx.objects.create(
        wallet=wallet,
        source=top_up.source,
        idempotency_key=top_up.idempotency_key,
        name=top_up.name[:255],
        metadata=top_up.metadata,
        invoice_requires_successful_payment=top_up.requires_payment,
        **fields,
    )


def _credit_invoice(wallet: Wallet, credits: Decimal, now: datetime) -> Invoice:
    """The invoice of a paid top-up: one credit fee, no taxes or coupons, finalized at once."""
    from invoices.services.lifecycle import invoice_finalize, notify

    today = periods.local_date(now, customer_timezone(wallet.customer))
    invoice = Invoice.objects.create(
        customer=wallet.customer,
        invoice_type=Invoice.InvoiceType.CREDIT,
        currency=wallet.currency,
        issuing_date=today,
        payment_due_date=today,
    )
    Fee.objects.create(
        invoice=invoice,
        fee_type=Fee.FeeType.CREDIT,
        description="Prepaid credits",
        invoice_display_name=(wallet.name or "Prepaid credits")[:255],
        units=credits,
        total_aggregated_units=credits,
        precise_unit_amount=wallet.rate_amount,
        precise_amount=credits * wallet.rate_amount,
        amount_cents=money_cents(credits, wallet),
        amount_currency=wallet.currency,
    )
    notify(invoice, "invoice.created")
    return invoice_finalize(invoice=invoice, now=now)


def _top_up_rows(wallet: Wallet, top_up: TopUp, now: datetime) -> list[WalletTransaction]:
    rows = []
    if top_up.paid:
        rows.append(
            _row(
                wallet,
                top_up,
                transaction_type=Tx.TransactionType.INBOUND,
                transaction_status=Tx.TransactionStatus.PURCHASED,
                status=Tx.Status.PENDING,
                credit_amount=top_up.paid,
                amount=money_amount(top_up.paid, wallet),
                invoice=_credit_invoice(wallet, top_up.paid, now),
            )
        )
    if top_up.granted:
        rows.append(
            _row(
                wallet,
                top_up,
                transaction_type=Tx.TransactionType.INBOUND,
                transaction_status=Tx.TransactionStatus.GRANTED,
                status=Tx.Status.SETTLED,
                credit_amount=top_up.granted,
                amount=money_amount(top_up.granted, wallet),
                settled_at=now,
            )
        )
        _credits_landed(wallet)
    if top_up.voided:
        rows.append(_void(wallet, top_up.voided, now, **_void_extra(top_up)))
    return rows


def _void_extra(top_up: TopUp) -> dict:
    return {
        "source": top_up.source,
        "idempotency_key": top_up.idempotency_key,
        "name": top_up.name[:255],
        "metadata": top_up.metadata,
    }


def _credits_landed(wallet: Wallet) -> None:
    """New credits end a depletion: the next one will be alerted again."""
    if wallet.depleted_notified_at is not None:
        wallet.depleted_notified_at = None
        wallet.save(update_fields=["depleted_notified_at", "updated_at"])


@transaction.atomic
def wallet_top_up(
    *,
    wallet: Wallet,
    paid_credits=0,
    granted_credits=0,
    voided_credits=0,
    source: str = Tx.Source.MANUAL,
    idempotency_key: str | None = None,
    name: str = "",
    metadata: list | None = None,
    ignore_paid_top_up_limits: bool = False,
    invoice_requires_successful_payment: bool | None = None,
    now: datetime | None = None,
) -> list[WalletTransaction]:
    """Add (paid, granted) or void credits. Granted and voided credits settle at once; paid
    credits are invoiced and land when that invoice is paid (wallet_top_up_paid). With an
    idempotency key a retry returns the first call's transactions and creates nothing."""
    now = now or timezone.now()
    wallet = _lock(wallet)
    if idempotency_key and (done := _keyed(wallet, idempotency_key)):
        return done
    amounts = _checked_credits(
        {
            "paid_credits": paid_credits,
            "granted_credits": granted_credits,
            "voided_credits": voided_credits,
        }
    )
    requires = invoice_requires_successful_payment
    top_up = TopUp(
        paid=amounts["paid_credits"],
        granted=amounts["granted_credits"],
        voided=amounts["voided_credits"],
        source=source,
        idempotency_key=idempotency_key or None,
        name=name or "",
        metadata=metadata or [],
        requires_payment=wallet.invoice_requires_successful_payment
        if requires is None
        else requires,
    )
    errors = _top_up_errors(wallet, top_up, ignore_paid_top_up_limits)
    if errors:
        raise ValidationFailed(errors)
    try:
        with transaction.atomic():
            rows = _top_up_rows(wallet, top_up, now)
    except IntegrityError:  # the same key committed meanwhile (the constraint is the backstop)
        if idempotency_key and (done := _keyed(wallet, idempotency_key)):
            return done
        raise
    _notify_transactions("wallet_transaction.created", rows)
    return rows


def _purchases(invoice: Invoice, *statuses: str):
    return Tx.objects.filter(
        invoice_id=invoice.pk,
        transaction_type=Tx.TransactionType.INBOUND,
        transaction_status=Tx.TransactionStatus.PURCHASED,
        status__in=statuses,
    )


def _lock_wallets(ids) -> dict[int, Wallet]:
    rows = Wallet.objects.select_for_update().filter(pk__in=set(ids)).order_by("pk")
    return {wallet.pk: wallet for wallet in rows}


@transaction.atomic
def wallet_top_up_paid(*, invoice: Invoice, now: datetime | None = None) -> list[WalletTransaction]:
    """A credit invoice was paid: its pending credits land (settled). Credits marked failed by
    an earlier declined attempt land too: a dunning retry (or a manual payment) that succeeds
    means the money came in. Idempotent; credits paid for a wallet terminated meanwhile are
    voided at once."""
    now = now or timezone.now()
    if invoice.invoice_type != Invoice.InvoiceType.CREDIT:
        return []
    if invoice.payment_status != Invoice.PaymentStatus.SUCCEEDED:
        return []
    unsettled = (Tx.Status.PENDING, Tx.Status.FAILED)
    wallets = _lock_wallets(_purchases(invoice, *unsettled).values_list("wallet_id", flat=True))
    rows = list(_purchases(invoice, *unsettled).select_for_update().order_by("id"))
    voids = []
    for row in rows:
        row.status, row.settled_at = Tx.Status.SETTLED, now
        row.save(update_fields=["status", "settled_at"])
        wallet = wallets[row.wallet_id]
        _credits_landed(wallet)
        if wallet.status == Wallet.Status.TERMINATED:
            voids.append(_void(wallet, row.credit_amount, now))
    _notify_transactions("wallet_transaction.updated", rows)
    _notify_transactions("wallet_transaction.created", voids)
    if rows:
        from invoices.services.lifecycle import notify

        notify(invoice, "invoice.paid_credit_added")
    return rows


@transaction.atomic
def wallet_top_up_failed(
    *, invoice: Invoice, now: datetime | None = None
) -> list[WalletTransaction]:
    """A credit invoice's payment failed (or it was voided): its pending credits never land."""
    now = now or timezone.now()
    _lock_wallets(_purchases(invoice, Tx.Status.PENDING).values_list("wallet_id", flat=True))
    rows = list(_purchases(invoice, Tx.Status.PENDING).select_for_update().order_by("id"))
    for row in rows:
        row.status, row.failed_at = Tx.Status.FAILED, now
        row.save(update_fields=["status", "failed_at"])
    _notify_transactions("wallet_transaction.updated", rows)
    return rows


def wallet_transactions_create(
    *, data: dict, idempotency_key: str | None = None
) -> list[WalletTransaction]:
    """Lago's POST /wallet_transactions body (nulls = absent) turned into one top-up."""
    data = {key: value for key, value in data.items() if value is not None}
    if not data.get("wallet_id"):
        raise ValidationFailed({"wallet_id": ["value_is_mandatory"]})
    wallet = wallet_get(lago_id=data["wallet_id"])
    errors = Errors()
    metadata = _metadata_list(data.get("metadata"), "metadata", errors)
    requires = data.get("invoice_requires_successful_payment")
    if requires is not None and not isinstance(requires, bool):
        errors.add("invoice_requires_successful_payment", "value_is_invalid")
    if errors:
        raise ValidationFailed(errors)
    return wallet_top_up(
        wallet=wallet,
        paid_credits=data.get("paid_credits", 0),
        granted_credits=data.get("granted_credits", 0),
        voided_credits=data.get("voided_credits", 0),
        idempotency_key=idempotency_key or None,
        name=str(data.get("name") or ""),
        metadata=metadata,
        ignore_paid_top_up_limits=data.get("ignore_paid_top_up_limits") is True,
        invoice_requires_successful_payment=requires,
    )


@transaction.atomic
def wallet_metadata_set(
    *, wallet: Wallet, metadata: dict | None, merge: bool = False, key: str | None = None
) -> Wallet:
    """Replace (or merge) a wallet's metadata; None clears it, or only `key` when given."""
    wallet = _lock(wallet)
    if metadata is None:
        wallet.metadata = {k: v for k, v in wallet.metadata.items() if key and k != key}
    else:
        errors, fields = Errors(), {}
        _metadata_dict(metadata, errors, fields)
        if errors:
            raise ValidationFailed(errors)
        wallet.metadata = {**wallet.metadata, **fields["metadata"]} if merge else fields["metadata"]
    wallet.save(update_fields=["metadata", "updated_at"])
    return wallet


# --- consumption by invoices -----------------------------------------------------------------


def _consumed_cents(invoice: Invoice) -> int | None:
    """What wallets already paid of this invoice (None if they never did)."""
    rows = Tx.objects.filter(
        invoice_id=invoice.pk,
        transaction_type=Tx.TransactionType.OUTBOUND,
        transaction_status=Tx.TransactionStatus.INVOICED,
    )
    amounts = list(rows.values_list("amount", flat=True))
    if not amounts:
        return None
    return sum(to_minor_units(amount, invoice.currency) for amount in amounts)


def _consume(wallet: Wallet, cents: int, invoice: Invoice, now: datetime) -> WalletTransaction:
    """Take `cents` from a wallet; all its credits when that is its whole balance."""
    credits = wallet.credits_in - wallet.credits_out
    if cents < money_cents(credits, wallet):
        credits = min(credits, cents_to_credits(cents, wallet))
    return Tx.objects.create(
        wallet=wallet,
        transaction_type=Tx.TransactionType.OUTBOUND,
        transaction_status=Tx.TransactionStatus.INVOICED,
        status=Tx.Status.SETTLED,
        credit_amount=credits,
        amount=from_minor_units(cents, wallet.currency),
        invoice=invoice,
        settled_at=now,
    )


def _annotated(wallets: dict[int, Wallet]) -> list[Wallet]:
    """The locked wallets with their credit sums, in application order (priority, oldest)."""
    sums = Tx.objects.filter(wallet_id__in=wallets).values("wallet_id").annotate(**credit_sums())
    by_id = {row["wallet_id"]: row for row in sums}
    for wallet in wallets.values():
        row = by_id.get(wallet.pk, {})
        wallet.credits_in = row.get("credits_in", ZERO)
        wallet.credits_out = row.get("credits_out", ZERO)
        wallet.credits_consumed = row.get("credits_consumed", ZERO)
    return sorted(wallets.values(), key=lambda w: (w.priority, w.created_at, w.pk))


@transaction.atomic
def wallets_apply(*, invoice: Invoice, now: datetime | None = None) -> int:
    """Pay what is left of a subscription or progressive-billing invoice (after taxes and credit
    notes) from the customer's wallets in its currency, in priority order; sets
    invoice.prepaid_credit_amount_cents (not saved) and returns it. Idempotent per invoice."""
    now = now or timezone.now()
    if invoice.invoice_type not in APPLIED_INVOICE_TYPES:
        return 0
    ids = Wallet.objects.filter(
        customer_id=invoice.customer_id, currency=invoice.currency, status=Wallet.Status.ACTIVE
    ).values_list("pk", flat=True)
    locked = _lock_wallets(ids)
    done = _consumed_cents(invoice)
    if done is not None:
        invoice.prepaid_credit_amount_cents = done
        return done
    to_pay = invoice.sub_total_including_taxes_amount_cents - invoice.credit_notes_amount_cents
    usable = [w for w in _annotated(locked) if _usable(w, now)]
    balances = {w.pk: money_cents(w.credits_in - w.credits_out, w) for w in usable}
    fees = invoice.fees.select_related("charge__billable_metric")
    shares = share_out(usable, balances, _fee_items(fees), cap=max(0, to_pay))
    rows = [_consume(s.wallet, s.taken_cents, invoice, now) for s in shares if s.taken_cents > 0]
    invoice.prepaid_credit_amount_cents = sum(s.taken_cents for s in shares)
    _notify_transactions("wallet_transaction.created", rows)
    return invoice.prepaid_credit_amount_cents


# --- alerts and expiry -----------------------------------------------------------------------


def _ever_funded(wallet: Wallet) -> bool:
    return wallet.transactions.filter(
        transaction_type=Tx.TransactionType.INBOUND, status=Tx.Status.SETTLED
    ).exists()


def wallets_check_depleted(*, customer: Customer, now: datetime | None = None) -> list[Wallet]:
    """Send wallet.depleted_ongoing_balance once per depletion: for each funded, active wallet
    whose ongoing balance reached zero and was not alerted since credits last landed."""
    now = now or timezone.now()
    balances = customer_wallet_balances(customer, now=now)
    candidates = Wallet.objects.filter(
        customer=customer, status=Wallet.Status.ACTIVE, depleted_notified_at__isnull=True
    )
    alerted = []
    for wallet in candidates:
        seen = balances.get(wallet.pk)
        if seen is None or seen.ongoing_balance_cents > 0 or not _ever_funded(wallet):
            continue
        if _mark_depleted(wallet, seen, now):
            alerted.append(wallet)
    return alerted


@transaction.atomic
def _mark_depleted(wallet: Wallet, seen: WalletBalances, now: datetime) -> bool:
    """Under the wallet lock: still unalerted and no credits landed since the balance was read."""
    wallet = _lock(wallet)
    if wallet.depleted_notified_at is not None or wallet_credits(wallet)[0] != seen.credits_balance:
        return False
    wallet.depleted_notified_at = now
    wallet.save(update_fields=["depleted_notified_at", "updated_at"])
    _notify_wallet("wallet.depleted_ongoing_balance", wallet, seen)
    return True


def wallets_expire(*, now: datetime | None = None) -> list[Wallet]:
    """Terminate active wallets past their expiration_at (their remaining credits are voided)."""
    now = now or timezone.now()
    due = Wallet.objects.filter(status=Wallet.Status.ACTIVE, expiration_at__lte=now)
    return [wallet_terminate(wallet=wallet, now=now) for wallet in due.order_by("pk")]


# --- recurring top-ups -----------------------------------------------------------------------


def _occurrence(start: datetime, interval: str, n: int) -> datetime:
    """The n-th top-up time of an interval rule (UTC; months clamped like billing periods)."""
    if interval == Rule.Interval.WEEKLY:
        return start + timedelta(weeks=n)
    day = periods.add_months(start.date(), INTERVAL_MONTHS[interval] * n)
    return datetime.combine(day, start.timetz())


def due_occurrence(rule: RecurringTransactionRule, now: datetime) -> datetime | None:
    """The latest interval time ≤ now not run yet and after the rule was created (missed runs
    are not caught up: one top-up per beat at most)."""
    start, after = rule.started_at or rule.created_at, rule.last_run_at or rule.created_at
    latest, n = None, 0
    while (moment := _occurrence(start, rule.interval, n)) <= now:
        if moment > after:
            latest = moment
        n += 1
    return latest


def _rule_credits(rule: RecurringTransactionRule, ongoing: Decimal) -> tuple[Decimal, Decimal]:
    """(paid, granted) credits of one run: the rule's own, or up to its target balance."""
    if rule.method == Rule.Method.FIXED:
        return rule.paid_credits, rule.granted_credits
    missing = max(ZERO, (rule.target_ongoing_balance or ZERO) - ongoing)
    return (ZERO, missing) if rule.grants_target_top_up else (missing, ZERO)


def _run_top_up(rule: RecurringTransactionRule, key: str, ongoing: Decimal, now: datetime):
    paid, granted = _rule_credits(rule, ongoing)
    if not paid and not granted:
        return []
    return wallet_top_up(
        wallet=rule.wallet,
        paid_credits=paid,
        granted_credits=granted,
        source=rule.trigger,
        idempotency_key=key,
        name=rule.transaction_name,
        metadata=rule.transaction_metadata,
        ignore_paid_top_up_limits=rule.ignore_paid_top_up_limits,
        now=now,
    )


def _interval_run(rule: RecurringTransactionRule, ongoing, now: datetime) -> list:
    moment = due_occurrence(rule, now)
    if moment is None:
        return []
    key = f"rule:{rule.lago_id}:{moment.isoformat()}"
    rows = _run_top_up(rule, key, ongoing() if rule.method == Rule.Method.TARGET else ZERO, now)
    rule.last_run_at, rule.runs = moment, rule.runs + 1
    rule.save(update_fields=["last_run_at", "runs", "updated_at"])
    return rows


def _threshold_run(rule: RecurringTransactionRule, ongoing, now: datetime) -> list:
    """Once per crossing: fire when the ongoing credits fall to the threshold, re-arm when they
    are above it again."""
    credits = ongoing()
    if credits > rule.threshold_credits:
        if rule.threshold_reached_at is not None:
            rule.threshold_reached_at = None
            rule.save(update_fields=["threshold_reached_at", "updated_at"])
        return []
    if rule.threshold_reached_at is not None:
        return []
    rows = _run_top_up(rule, f"rule:{rule.lago_id}:threshold:{rule.runs + 1}", credits, now)
    rule.threshold_reached_at = rule.last_run_at = now
    rule.runs += 1
    rule.save(update_fields=["threshold_reached_at", "last_run_at", "runs", "updated_at"])
    return rows


@transaction.atomic
def _run_rule(rule: RecurringTransactionRule, ongoing, now: datetime) -> list[WalletTransaction]:
    """One rule under its wallet's lock (wallet first, then rule: the order updates use)."""
    wallet = _lock(rule.wallet)
    rule = Rule.objects.select_for_update().get(pk=rule.pk)
    rule.wallet = wallet
    if not _usable(wallet, now):
        return []
    if rule.trigger == Rule.Trigger.INTERVAL:
        return _interval_run(rule, ongoing, now)
    return _threshold_run(rule, ongoing, now)


def _ongoing_credits(cache: dict, wallet: Wallet, now: datetime):
    """A callable giving the wallet's ongoing credits, priced once per customer and run."""

    def read() -> Decimal:
        if wallet.customer_id not in cache:
            cache[wallet.customer_id] = customer_wallet_balances(wallet.customer, now=now)
        return cache[wallet.customer_id][wallet.pk].credits_ongoing_balance

    return read


def wallets_run_recurring(
    *,
    now: datetime | None = None,
    customer: Customer | None = None,
    triggers: tuple[str, ...] = ("interval", "threshold"),
) -> list[WalletTransaction]:
    """Run the recurring rules that are due: interval rules at their times, threshold rules when
    the ongoing balance is at or below their threshold. Idempotency keys derived from the rule
    and its period make reruns add nothing."""
    now = now or timezone.now()
    rules = Rule.objects.filter(wallet__status=Wallet.Status.ACTIVE, trigger__in=triggers).filter(
        Q(expiration_at__isnull=True) | Q(expiration_at__gt=now)
    )
    if customer is not None:
        rules = rules.filter(wallet__customer=customer)
    created, cache = [], {}
    for rule in rules.select_related("wallet__customer").order_by("pk"):
        try:
            rows = _run_rule(rule, _ongoing_credits(cache, rule.wallet, now), now)
        except BillingError as exc:  # e.g. a top-up limit: the other rules still run
            logger.warning("recurring top-up %s refused: %s", rule.lago_id, exc)
            continue
        if rows:  # credits may have landed: price this customer's balances again
            cache.pop(rule.wallet.customer_id, None)
        created += rows
    return created


def wallets_refresh(*, customer: Customer, now: datetime | None = None) -> list[Wallet]:
    """The frequent check of one customer: threshold top-ups, then depletion alerts."""
    now = now or timezone.now()
    wallets_run_recurring(now=now, customer=customer, triggers=(Rule.Trigger.THRESHOLD,))
    return wallets_check_depleted(customer=customer, now=now)
