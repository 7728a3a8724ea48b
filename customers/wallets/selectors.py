"""Reads of wallets: look-ups and the balances shown (settled, and ongoing once the usage not
yet paid is counted).

What the customer owes and no wallet has paid yet (current usage, draft invoices) is known only
to higher layers: they answer the `wallet.usage_owed` hook (core/hooks.py), registered by the
invoices app, so this module imports neither usage nor invoices.
"""

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from core import hooks
from core.errors import NotFound
from customers.models import Customer, Wallet
from customers.wallets.ledger import (
    ZERO,
    FeeKey,
    Share,
    cents_to_credits,
    money_cents,
    share_out,
    wallet_usable,
    wallets_with_credits,
)


def wallet_get(*, lago_id: str) -> Wallet:
    wallet = Wallet.objects.select_related("customer").filter(lago_id=_uuid(lago_id)).first()
    if wallet is None:
        raise NotFound("wallet")
    return wallet


def customer_wallet_get(*, customer: Customer, code: str) -> Wallet:
    """A customer's wallet by code (Lago's /customers/{id}/wallets/{code}): the active one,
    else the newest terminated one with that code (codes are unique among active wallets)."""
    wallet = (
        Wallet.objects.select_related("customer")
        .filter(customer=customer, code=code)
        .order_by("status", "-created_at", "-id")  # "active" sorts before "terminated"
        .first()
    )
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


def usage_owed(customer: Customer, currency: str, now: datetime) -> dict[FeeKey, int]:
    """What the customer owes in `currency` that no wallet has paid yet, by fee key: the sum of
    what the `wallet.usage_owed` receivers answer (none registered: nothing owed)."""
    items: dict[FeeKey, int] = defaultdict(int)
    for answer in hooks.run("wallet.usage_owed", customer=customer, currency=currency, now=now):
        for key, cents in answer.items():
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
        usable = [w for w in group if wallet_usable(w, now)]
        shares = {}
        if usable:
            cents = {w.pk: money_cents(w.credits_in - w.credits_out, w) for w in usable}
            items = usage_owed(customer, code, now)
            shares = {s.wallet.pk: s for s in share_out(usable, cents, items)}
        result.update({w.pk: _balances(w, shares.get(w.pk)) for w in group})
    return result


def wallet_balances(wallet: Wallet, *, now: datetime | None = None) -> WalletBalances:
    """One wallet's balances (the customer's other wallets of its currency come first if their
    priority says so)."""
    balances = customer_wallet_balances(wallet.customer, currency=wallet.currency, now=now)
    return balances[wallet.pk]
