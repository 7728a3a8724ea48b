"""Wallet services: create, update, terminate, void, metadata. Every write locks the wallet row
first (customers.wallets.ledger.lock_wallet); create locks the customer, as codes are per
customer.
"""

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import ValidationFailed
from core.validation import Errors
from customers.locks import lock_customer
from customers.models import RecurringTransactionRule, Wallet, WalletTransaction
from customers.selectors import customer_get
from customers.wallets.ledger import lock_wallet, void_credits, wallet_credits
from customers.wallets.notifications import notify_transactions, notify_wallet
from customers.wallets.topups import wallet_top_up
from customers.wallets.validation import (
    check_limits,
    code_taken,
    common_fields,
    default_code,
    metadata_dict,
    new_wallet,
    rules_fields,
)

Tx = WalletTransaction
Rule = RecurringTransactionRule
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


def _save_wallet(wallet: Wallet) -> None:
    try:
        with transaction.atomic():
            wallet.save()
    except IntegrityError as exc:  # a concurrent create took the code
        raise ValidationFailed({"code": ["value_already_exist"]}) from exc


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


@transaction.atomic
def wallet_create(*, data: dict, now: datetime | None = None) -> Wallet:
    """Lago's POST /wallets: the wallet, its recurring rules and its first top-up (paid credits
    are invoiced; granted credits land at once)."""
    now = now or timezone.now()
    data = {key: value for key, value in data.items() if value is not None}
    if not data.get("external_customer_id"):
        raise ValidationFailed({"external_customer_id": ["value_is_mandatory"]})
    customer = customer_get(external_id=data["external_customer_id"])
    customer = lock_customer(customer.pk)  # codes are per customer
    wallet, rules, top_up = new_wallet(data, customer, now)
    wallet.code = wallet.code or default_code(wallet)
    _save_wallet(wallet)
    _replace_rules(wallet, rules)
    notify_wallet("wallet.created", wallet)
    wallet_top_up(wallet=wallet, now=now, **top_up)
    return wallet


@transaction.atomic
def wallet_update(*, wallet: Wallet, data: dict, now: datetime | None = None) -> Wallet:
    """Lago's PUT /wallets/{id} (partial): name, code, priority, expiration, applies_to, limits,
    metadata, recurring rules. The currency and rate of a wallet never change."""
    now = now or timezone.now()
    wallet = lock_wallet(wallet)
    if wallet.status != Wallet.Status.ACTIVE:
        raise ValidationFailed({"wallet": ["wallet_is_terminated"]})
    data = {
        key: data[key]
        for key in (*WALLET_UPDATE_FIELDS, "recurring_transaction_rules")
        if key in data
    }
    data = {key: value for key, value in data.items() if value is not None}
    errors = Errors()
    fields = common_fields(data, errors, now)
    rules = rules_fields(data.get("recurring_transaction_rules"), errors)
    for key, value in fields.items():
        setattr(wallet, key, value)
    check_limits(wallet, errors)
    if "code" in fields and not errors and code_taken(wallet, wallet.code):
        errors.add("code", "value_already_exist")
    if errors:
        raise ValidationFailed(errors)
    _save_wallet(wallet)
    if rules is not None:
        _replace_rules(wallet, rules)
    notify_wallet("wallet.updated", wallet)
    return wallet


@transaction.atomic
def wallet_terminate(*, wallet: Wallet, now: datetime | None = None) -> Wallet:
    """Terminate a wallet; its remaining credits are voided. Terminating twice is a no-op."""
    now = now or timezone.now()
    wallet = lock_wallet(wallet)
    if wallet.status == Wallet.Status.TERMINATED:
        return wallet
    credits, _ = wallet_credits(wallet)
    voided = [void_credits(wallet, credits, now)] if credits > 0 else []
    wallet.status, wallet.terminated_at = Wallet.Status.TERMINATED, now
    wallet.save(update_fields=["status", "terminated_at", "updated_at"])
    notify_transactions("wallet_transaction.created", voided)
    notify_wallet("wallet.terminated", wallet)
    return wallet


@transaction.atomic
def wallet_metadata_set(
    *, wallet: Wallet, metadata: dict | None, merge: bool = False, key: str | None = None
) -> Wallet:
    """Replace (or merge) a wallet's metadata; None clears it, or only `key` when given."""
    wallet = lock_wallet(wallet)
    if metadata is None:
        wallet.metadata = {k: v for k, v in wallet.metadata.items() if key and k != key}
    else:
        errors, fields = Errors(), {}
        metadata_dict(metadata, errors, fields)
        if errors:
            raise ValidationFailed(errors)
        wallet.metadata = {**wallet.metadata, **fields["metadata"]} if merge else fields["metadata"]
    wallet.save(update_fields=["metadata", "updated_at"])
    return wallet
