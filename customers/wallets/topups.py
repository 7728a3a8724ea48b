"""Top-ups: paid, granted and voided credits, from the API, the admin, the portal and the
recurring rules. Granted and voided credits settle at once; paid credits are invoiced and land
when that invoice is paid (invoices.services.wallet_topups).

The credit invoice is made by the invoices layer, which this layer may not import: a paid
top-up runs the `wallet.credits_purchased` hook (core/hooks.py), answered by the invoices app.
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from core import hooks
from core.errors import ValidationFailed
from core.validation import Errors
from customers.alerts.services import alerts_flag_wallets
from customers.models import Wallet, WalletTransaction
from customers.wallets.ledger import (
    ZERO,
    lock_wallet,
    money_amount,
    money_cents,
    void_credits,
    wallet_credits,
)
from customers.wallets.notifications import notify_transactions
from customers.wallets.selectors import wallet_get
from customers.wallets.validation import checked_credits, metadata_list

Tx = WalletTransaction


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


def _credit_invoice(wallet: Wallet, credits: Decimal, now: datetime):
    """The finalized invoice of a paid top-up, made by the one `wallet.credits_purchased`
    receiver (the invoices app; none would leave paid credits without an invoice)."""
    invoices = hooks.run("wallet.credits_purchased", wallet=wallet, credits=credits, now=now)
    if len(invoices) != 1:
        raise RuntimeError(f"wallet.credits_purchased has {len(invoices)} receivers, not 1")
    return invoices[0]


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
        credits_landed(wallet)
    if top_up.voided:
        rows.append(void_credits(wallet, top_up.voided, now, **_void_extra(top_up)))
    return rows


def _void_extra(top_up: TopUp) -> dict:
    return {
        "source": top_up.source,
        "idempotency_key": top_up.idempotency_key,
        "name": top_up.name[:255],
        "metadata": top_up.metadata,
    }


def credits_landed(wallet: Wallet) -> None:
    """New credits end a depletion: the next one will be alerted again; its balance alerts
    look at it in their next run (a new period for them: thresholds may trigger again)."""
    alerts_flag_wallets([wallet.pk])
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
    wallet = lock_wallet(wallet)
    if idempotency_key and (done := _keyed(wallet, idempotency_key)):
        return done
    amounts = checked_credits(
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
    notify_transactions("wallet_transaction.created", rows)
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
    metadata = metadata_list(data.get("metadata"), "metadata", errors)
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
