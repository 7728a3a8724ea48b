"""Recurring top-ups: interval rules at their times, threshold rules when the ongoing balance
falls to their threshold; idempotency keys derived from the rule and its period.
"""

import logging
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.errors import BillingError
from core.locks import lock_one
from customers.models import Customer, RecurringTransactionRule, Wallet, WalletTransaction
from customers.wallets.alerts import wallets_check_depleted
from customers.wallets.ledger import ZERO, lock_wallet, wallet_usable
from customers.wallets.selectors import customer_wallet_balances
from customers.wallets.topups import wallet_top_up
from plans import periods

logger = logging.getLogger("customers.wallets")  # the name it always logged under

Rule = RecurringTransactionRule


def _occurrence(start: datetime, interval: str, n: int) -> datetime:
    """The n-th top-up time of an interval rule (UTC; months clamped like billing periods)."""
    if interval == Rule.Interval.WEEKLY:
        return start + timedelta(weeks=n)
    day = periods.add_months(start.date(), int(periods.interval_months(interval)) * n)
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
    wallet = lock_wallet(rule.wallet)
    rule = lock_one(Rule, rule.pk)
    rule.wallet = wallet
    if not wallet_usable(wallet, now):
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
