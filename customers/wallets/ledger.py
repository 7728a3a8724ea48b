"""A wallet's own ledger: credits and what they are worth, settled sums, which fees a wallet may
pay and how a sum is shared out over wallets, and the wallet locks.

Pure customers-layer code: the invoice deduction (invoices.services.wallets) and the balances
shown (customers.wallets.selectors) both build on it. Lock order: wallets by pk, after the
customer and before their transactions.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import DecimalField, Q, Sum, Value
from django.db.models.functions import Coalesce

from core.locks import lock
from core.money import from_minor_units, to_minor_units
from customers.alerts.services import alerts_flag_wallets
from customers.models import CREDIT_DIGITS, Wallet, WalletTransaction

Tx = WalletTransaction
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


# --- voids ------------------------------------------------------------------------------------


def void_credits(wallet: Wallet, credits: Decimal, now: datetime, **extra) -> WalletTransaction:
    """Remove credits from a wallet (an outbound, settled, voided transaction)."""
    alerts_flag_wallets([wallet.pk])  # its balance alerts look at it next run
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


# --- locks -----------------------------------------------------------------------------------


def lock_wallet(wallet: Wallet) -> Wallet:
    """The wallet row, locked, with its customer (every wallet write starts here)."""
    return Wallet.objects.select_for_update().select_related("customer").get(pk=wallet.pk)


def lock_wallets(ids) -> dict[int, Wallet]:
    """Several wallets locked in pk order (one order, so two writers never deadlock)."""
    rows = lock(Wallet, pk__in=set(ids)).order_by("pk")
    return {wallet.pk: wallet for wallet in rows}
