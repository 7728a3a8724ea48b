"""Wallet alerts: the balance a wallet alert watches (settled or ongoing, in cents or credits),
read with the balances the API shows (customers.wallets.selectors), and its period: the
credits that landed last. A threshold triggers once per landing of credits: the balance
falling under it again after a top-up alerts again."""

from datetime import datetime

from django.db.models import Max
from django.db.models.functions import Coalesce
from django.utils import timezone

from customers.alerts.services import WALLET_TYPES, alert_record_value, live_alerts
from customers.models import Customer, TriggeredAlert, UsageAlert, Wallet, WalletTransaction
from customers.wallets.selectors import WalletBalances, customer_wallet_balances

Type = UsageAlert.AlertType
Tx = WalletTransaction

VALUES = {
    Type.WALLET_BALANCE_AMOUNT: lambda b: b.balance_cents,
    Type.WALLET_CREDITS_BALANCE: lambda b: b.credits_balance,
    Type.WALLET_ONGOING_BALANCE_AMOUNT: lambda b: b.ongoing_balance_cents,
    Type.WALLET_CREDITS_ONGOING_BALANCE: lambda b: b.credits_ongoing_balance,
}


def wallet_alert_value(alert: UsageAlert, balances: WalletBalances):
    return VALUES[alert.alert_type](balances)


def wallet_periods(wallets: list[Wallet]) -> dict[int, datetime]:
    """When credits last landed on each wallet (its creation when none did): one query."""
    rows = (
        Tx.objects.filter(
            wallet__in=wallets,
            transaction_type=Tx.TransactionType.INBOUND,
            status=Tx.Status.SETTLED,
        )
        .values("wallet_id")
        .annotate(landed=Max(Coalesce("settled_at", "created_at")))
    )
    landed = {row["wallet_id"]: row["landed"] for row in rows}
    return {w.pk: landed.get(w.pk) or w.created_at for w in wallets}


def _wallet_alerts(customer: Customer, wallet_ids=None):
    rows = live_alerts().filter(
        wallet__customer=customer,
        wallet__status=Wallet.Status.ACTIVE,
        alert_type__in=WALLET_TYPES,
    )
    if wallet_ids is not None:
        rows = rows.filter(wallet_id__in=wallet_ids)
    return list(rows.select_related("wallet__customer").prefetch_related("thresholds"))


def wallets_evaluate_alerts(
    *, customer: Customer, wallet_ids=None, now: datetime | None = None
) -> list[TriggeredAlert]:
    """Evaluate the live alerts of the customer's active wallets (or of `wallet_ids`): the
    balances are priced once for the customer."""
    now = now or timezone.now()
    alerts = _wallet_alerts(customer, wallet_ids)
    if not alerts:
        return []
    balances = customer_wallet_balances(customer, now=now)
    periods = wallet_periods(list({a.wallet_id: a.wallet for a in alerts}.values()))
    triggered = []
    for alert in alerts:
        seen = balances.get(alert.wallet_id)
        if seen is None:
            continue
        result = alert_record_value(
            alert=alert,
            value=wallet_alert_value(alert, seen),
            period_start=periods[alert.wallet_id],
            wallet=alert.wallet,
            now=now,
        )
        if result is not None:
            triggered.append(result)
    return triggered


def wallets_evaluate_flagged(wallet_ids, *, now: datetime | None = None) -> list[TriggeredAlert]:
    """The flagged wallets' alerts, grouped by customer."""
    triggered = []
    wallets = Wallet.objects.filter(pk__in=wallet_ids).select_related("customer")
    by_customer: dict[int, tuple[Customer, list[int]]] = {}
    for wallet in wallets:
        by_customer.setdefault(wallet.customer_id, (wallet.customer, []))[1].append(wallet.pk)
    for customer, ids in by_customer.values():
        triggered += wallets_evaluate_alerts(customer=customer, wallet_ids=ids, now=now)
    return triggered


def wallet_alerts_start(*, alerts: list[UsageAlert], now: datetime | None = None) -> None:
    """A new wallet alert starts from the balance it watches now (Lago: the previous value of
    a decreasing alert), so thresholds the balance is already under do not trigger."""
    if not alerts:
        return
    now = now or timezone.now()
    wallet = alerts[0].wallet
    balances = customer_wallet_balances(wallet.customer, currency=wallet.currency, now=now)
    seen = balances.get(wallet.pk)
    period = wallet_periods([wallet])[wallet.pk]
    for alert in alerts:
        value = wallet_alert_value(alert, seen) if seen else 0
        UsageAlert.objects.filter(pk=alert.pk).update(previous_value=value, period_start=period)
        alert.previous_value, alert.period_start = value, period
