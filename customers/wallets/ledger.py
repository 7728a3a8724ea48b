"""A wallet's own ledger: credits and what they are worth, settled sums, which fees a wallet may
pay and how a sum is shared out over wallets, and the wallet locks.

Pure customers-layer code: the invoice deduction (invoices.services.wallets) and the balances
shown (customers.wallets.selectors) both build on it. Lock order: wallets by pk, after the
customer and before their transactions.
"""

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Case, DecimalField, F, Q, Sum, Value, When
from django.db.models.functions import Coalesce

from core.locks import lock
from core.money import from_minor_units, to_minor_units
from customers.alerts.services import alerts_flag_wallets
from customers.models import (
    CREDIT_DIGITS,
    Wallet,
    WalletTransaction,
    WalletTransactionConsumption,
)

logger = logging.getLogger(__name__)
Tx = WalletTransaction
Consumption = WalletTransactionConsumption
ZERO = Decimal(0)
CREDIT_STEP = Decimal(1).scaleb(-CREDIT_DIGITS["decimal_places"])  # 0.00001 credit

FeeKey = tuple[str, str | None]  # (fee type, billable metric code of a charge fee)


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


# --- settled sums ----------------------------------------------------------------------------


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


def wallet_usable(wallet: Wallet, now: datetime) -> bool:
    """Active and not past its expiration (expiry runs hourly; an expired wallet pays nothing)."""
    expired = wallet.expiration_at is not None and wallet.expiration_at <= now
    return wallet.status == Wallet.Status.ACTIVE and not expired


# --- applies_to: which fees a wallet pays -----------------------------------------------------


def wallet_applies(wallet: Wallet, key: FeeKey) -> bool:
    """Lago's rule: no limits = every fee; else the fee type is listed, or the charge's metric."""
    types, codes = wallet.applies_to_fee_types, wallet.applies_to_billable_metric_codes
    if not types and not codes:
        return True
    return key[0] in types or (key[0] == "charge" and key[1] in codes)


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
            (k for k, v in remaining.items() if v > 0 and wallet_applies(wallet, k)),
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


# --- consumptions: which inbound credits each outbound took ----------------------------------


def consumption_order() -> tuple:
    """Lago's order (WalletTransaction.in_consumption_order; no transaction priorities here):
    granted credits before purchased ones, then the oldest first."""
    granted = Case(When(transaction_status=Tx.TransactionStatus.GRANTED, then=0), default=1)
    return (granted, "created_at", "id")


def with_consumed(transactions):
    """Transactions annotated with consumed_credits and consumed_cents, what consumptions took
    of each (zero for an outbound one or an untouched inbound), in one query."""
    credits = Coalesce(
        Sum("consumptions__credit_amount"), Value(ZERO), output_field=DecimalField(**CREDIT_DIGITS)
    )
    cents = Coalesce(Sum("consumptions__amount_cents"), Value(0))
    return transactions.annotate(consumed_credits=credits, consumed_cents=cents)


def available_inbounds(wallet: Wallet) -> list[tuple[int, Decimal]]:
    """(id, remaining credits) of the wallet's settled inbound transactions with credits left,
    in consumption order; remaining = credits - consumptions, summed in SQL."""
    inbound = Tx.objects.filter(
        wallet_id=wallet.pk, transaction_type=Tx.TransactionType.INBOUND, status=Tx.Status.SETTLED
    )
    rows = (
        with_consumed(inbound)
        .annotate(remaining=F("credit_amount") - F("consumed_credits"))
        .filter(remaining__gt=0)
        .order_by(*consumption_order())
    )
    return [(row.pk, row.remaining) for row in rows]


def fifo_parts(available: list[tuple[int, Decimal]], credits: Decimal) -> list[tuple[int, Decimal]]:
    """Take `credits` from the available (id, remaining) in order: [(id, credits taken)].
    Pure; takes less when not enough is available (the caller decides what that means)."""
    parts, left = [], credits
    for key, remaining in available:
        if left <= 0:
            break
        take = min(remaining, left)
        parts.append((key, take))
        left -= take
    return parts


def cents_parts(credits: list[Decimal], total_cents: int, wallet: Wallet) -> list[int]:
    """The outbound's money shared over its parts: each part is the difference of the rounded
    running totals, the last closes on `total_cents`, so the parts add up to it exactly and
    none is negative (one rounding rule: core.money through money_cents)."""
    shares, running, previous = [], ZERO, 0
    for index, part in enumerate(credits):
        running += part
        last = index == len(credits) - 1
        cumulative = total_cents if last else min(total_cents, money_cents(running, wallet))
        shares.append(cumulative - previous)
        previous = cumulative
    return shares


def track_consumption(outbound: WalletTransaction, wallet: Wallet) -> list:
    """Record which inbound credits a settled outbound transaction took (Lago's
    TrackConsumptionService by priority). Runs under the wallet's lock, right after the
    outbound is written; a second call for the same outbound writes nothing."""
    if outbound.fundings.exists():
        return []
    parts = fifo_parts(available_inbounds(wallet), outbound.credit_amount)
    missing = outbound.credit_amount - sum((c for _, c in parts), ZERO)
    if missing > 0:  # cannot happen while every outbound is tracked; never blocks a write
        logger.warning(
            "wallet %s: outbound %s has %s credits no inbound funds",
            wallet.pk,
            outbound.pk,
            missing,
        )
    total = to_minor_units(outbound.amount, wallet.currency)
    cents = cents_parts([c for _, c in parts], total, wallet)
    rows = [
        Consumption(
            inbound_id=key,
            outbound=outbound,
            credit_amount=credits,
            amount_cents=share,
            created_at=outbound.created_at,
        )
        for (key, credits), share in zip(parts, cents, strict=True)
    ]
    return Consumption.objects.bulk_create(rows)


def outbound_create(wallet: Wallet, **fields) -> WalletTransaction:
    """Write a settled outbound transaction and the consumptions that fund it."""
    outbound = Tx.objects.create(
        wallet=wallet,
        transaction_type=Tx.TransactionType.OUTBOUND,
        status=Tx.Status.SETTLED,
        **fields,
    )
    track_consumption(outbound, wallet)
    return outbound


# --- voids ------------------------------------------------------------------------------------


def void_credits(wallet: Wallet, credits: Decimal, now: datetime, **extra) -> WalletTransaction:
    """Remove credits from a wallet (an outbound, settled, voided transaction)."""
    alerts_flag_wallets([wallet.pk])  # its balance alerts look at it next run
    return outbound_create(
        wallet,
        transaction_status=Tx.TransactionStatus.VOIDED,
        credit_amount=credits,
        amount=money_amount(credits, wallet),
        settled_at=now,
        **extra,
    )


# --- locks -----------------------------------------------------------------------------------


def lock_wallet(wallet: Wallet) -> Wallet:
    """The wallet row, locked, with its customer (every wallet write starts here)."""
    return Wallet.objects.select_for_update().select_related("customer").get(pk=wallet.pk)


def lock_wallets(ids) -> dict[int, Wallet]:
    """Several wallets locked in pk order (one order, so two writers never deadlock)."""
    rows = lock(Wallet, pk__in=set(ids)).order_by("pk")
    return {wallet.pk: wallet for wallet in rows}
