"""Depletion alerts and expiry: wallet.depleted_ongoing_balance once per depletion (read from
the ongoing balance, customers.wallets.selectors) and termination of expired wallets.
"""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from customers.models import Customer, Wallet, WalletTransaction
from customers.wallets.ledger import lock_wallet, wallet_credits
from customers.wallets.notifications import notify_wallet
from customers.wallets.selectors import WalletBalances, customer_wallet_balances
from customers.wallets.services import wallet_terminate

Tx = WalletTransaction


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
    wallet = lock_wallet(wallet)
    if wallet.depleted_notified_at is not None or wallet_credits(wallet)[0] != seen.credits_balance:
        return False
    wallet.depleted_notified_at = now
    wallet.save(update_fields=["depleted_notified_at", "updated_at"])
    notify_wallet("wallet.depleted_ongoing_balance", wallet, seen)
    return True


def wallets_expire(*, now: datetime | None = None) -> list[Wallet]:
    """Terminate active wallets past their expiration_at (their remaining credits are voided)."""
    now = now or timezone.now()
    due = Wallet.objects.filter(status=Wallet.Status.ACTIVE, expiration_at__lte=now)
    return [wallet_terminate(wallet=wallet, now=now) for wallet in due.order_by("pk")]
