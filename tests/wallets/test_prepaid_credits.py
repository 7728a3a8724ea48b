"""A customer prepays credits and consumes them over two periods; priorities, applies_to,
idempotency and expiry. The balance is checked against the ledger at every step."""

from decimal import Decimal

import pytest
import time_machine

from core.errors import ValidationFailed
from customers.models import WalletTransaction
from customers.wallets import (
    topups,
    wallet_balances,
    wallet_terminate,
    wallet_top_up,
    wallets_expire,
)
from invoices.models import Invoice
from invoices.services.lifecycle import invoice_totals
from invoices.services.wallet_topups import wallet_top_up_failed, wallet_top_up_paid
from invoices.services.wallets import wallets_apply
from tests.wallets.conftest import at, balance, close, new_wallet, send

pytestmark = pytest.mark.django_db


def pay(invoice: Invoice) -> list[WalletTransaction]:
    """What the payment side does when a credit invoice is paid."""
    invoice.payment_status = "succeeded"
    invoice.save(update_fields=["payment_status"])
    return wallet_top_up_paid(invoice=invoice)


def outbound(invoice: Invoice) -> list[tuple]:
    rows = WalletTransaction.objects.filter(invoice=invoice, transaction_type="outbound")
    return sorted((r.wallet.code, r.credit_amount, r.amount) for r in rows)


def test_prepaid_credits_consumed_over_two_periods(subscription):
    wallet = new_wallet()
    with time_machine.travel(at(2024, 4, 1, 9), tick=False):
        [purchase] = wallet_top_up(wallet=wallet, paid_credits="100")
    credit_invoice = purchase.invoice
    assert (credit_invoice.invoice_type, credit_invoice.status) == ("credit", "finalized")
    assert credit_invoice.number and credit_invoice.total_amount_cents == 10000
    [fee] = credit_invoice.fees.all()
    assert (fee.fee_type, fee.units, fee.precise_unit_amount, fee.amount_cents) == (
        "credit",
        Decimal(100),
        Decimal(1),
        10000,
    )
    assert (purchase.status, purchase.transaction_status) == ("pending", "purchased")
    assert balance(wallet) == 0  # not paid yet
    pay(credit_invoice)
    assert pay(credit_invoice) == []  # a second notification settles nothing more
    assert balance(wallet) == 100

    send(at(2024, 4, 10), 1000)  # $10.00 of tokens
    ongoing = wallet_balances(wallet, now=at(2024, 4, 20))
    assert (ongoing.balance_cents, ongoing.ongoing_usage_balance_cents) == (10000, 1000)
    assert (ongoing.ongoing_balance_cents, ongoing.credits_ongoing_balance) == (9000, 90)

    april = close(subscription, at(2024, 5, 1, 0, 5))  # $10 base + $10 tokens, a draft
    assert april.sub_total_including_taxes_amount_cents == 2000
    assert wallet_balances(wallet, now=at(2024, 5, 1, 1)).ongoing_usage_balance_cents == 2000
    assert wallets_apply(invoice=april) == 2000
    assert april.prepaid_credit_amount_cents == 2000
    assert invoice_totals(april).total_amount_cents == 0
    assert outbound(april) == [("prepaid", Decimal(20), Decimal(20))]
    assert balance(wallet) == 80
    assert wallets_apply(invoice=april) == 2000  # a retry adds nothing
    assert len(outbound(april)) == 1 and balance(wallet) == 80

    send(at(2024, 5, 3), 10000)  # $100.00 of tokens: more than what is left
    may = close(subscription, at(2024, 6, 1, 0, 5))
    assert may.sub_total_including_taxes_amount_cents == 11000
    assert wallets_apply(invoice=may) == 8000  # the balance only, never below zero
    assert invoice_totals(may).total_amount_cents == 3000
    assert balance(wallet) == 0
    balances = wallet_balances(wallet, now=at(2024, 6, 2))
    assert (balances.consumed_credits, balances.balance_cents) == (100, 0)


def test_failed_payment_lands_nothing_until_a_retry_succeeds(customer):
    """A declined charge fails the purchase; the dunning retry (or a payment recorded by hand)
    that succeeds later means the money came in, so the credits land then."""
    wallet = new_wallet()
    [purchase] = wallet_top_up(wallet=wallet, paid_credits="40")
    assert wallet_top_up_paid(invoice=purchase.invoice) == []  # not paid: nothing lands
    [failed] = wallet_top_up_failed(invoice=purchase.invoice)
    assert (failed.status, failed.failed_at is not None) == ("failed", True)
    assert balance(wallet) == 0
    [settled] = pay(purchase.invoice)
    assert (settled.pk, settled.status) == (failed.pk, "settled")
    assert balance(wallet) == 40
    assert pay(purchase.invoice) == []  # once


def test_granted_credits_land_at_once_and_void_is_bounded(customer):
    wallet = new_wallet(granted_credits="25.5")
    assert balance(wallet) == Decimal("25.5")
    [void] = wallet_top_up(wallet=wallet, voided_credits="5.5")
    assert (void.transaction_type, void.transaction_status, void.status) == (
        "outbound",
        "voided",
        "settled",
    )
    with pytest.raises(ValidationFailed) as error:
        wallet_top_up(wallet=wallet, voided_credits="20.00001")
    assert error.value.errors == {"voided_credits": ["insufficient_credits"]}
    assert balance(wallet) == 20
    assert not Invoice.objects.exists()  # granted credits are not invoiced


def test_priority_order_across_two_wallets(subscription):
    later = new_wallet(name="Second", priority=2, granted_credits="50")
    first = new_wallet(at(2024, 4, 2), name="First", priority=1, granted_credits="30")
    send(at(2024, 4, 10), 5000)  # $50 of tokens + $10 base = $60
    invoice = close(subscription, at(2024, 5, 1, 0, 5))
    assert wallets_apply(invoice=invoice) == 6000
    assert outbound(invoice) == [
        ("first", Decimal(30), Decimal(30)),
        ("second", Decimal(30), Decimal(30)),
    ]
    assert (balance(first), balance(later)) == (0, 20)


def test_oldest_first_on_equal_priority_and_other_currencies_untouched(subscription):
    old = new_wallet(name="Old", granted_credits="15")
    new_wallet(at(2024, 4, 2), name="New", granted_credits="15")
    euros = new_wallet(name="Euros", currency="EUR", granted_credits="100")
    invoice = close(subscription, at(2024, 5, 1, 0, 5))  # $10 base only
    assert wallets_apply(invoice=invoice) == 1000
    assert outbound(invoice) == [("old", Decimal(10), Decimal(10))]
    assert (balance(old), balance(euros)) == (5, 100)


@pytest.mark.parametrize(
    ("applies_to", "consumed"),
    [
        ({"fee_types": ["charge"]}, 1500),  # tokens $5 + images $10
        ({"billable_metric_codes": ["images"]}, 1000),
        ({"fee_types": ["subscription"]}, 1000),
        ({"fee_types": ["subscription"], "billable_metric_codes": ["tokens"]}, 1500),
        ({}, 2500),
    ],
)
def test_applies_to_limits_what_a_wallet_pays(subscription, applies_to, consumed):
    wallet = new_wallet(granted_credits="100", applies_to=applies_to)
    send(at(2024, 4, 10), 500)
    send(at(2024, 4, 11), 10, metric="images")
    invoice = close(subscription, at(2024, 5, 1, 0, 5))  # base $10, tokens $5, images $10
    assert invoice.sub_total_including_taxes_amount_cents == 2500
    assert wallets_apply(invoice=invoice) == consumed
    assert balance(wallet) == 100 - Decimal(consumed) / 100


def test_limited_wallet_leaves_the_rest_to_the_next_one(subscription):
    charges_only = new_wallet(
        name="Usage", priority=1, granted_credits="100", applies_to={"fee_types": ["charge"]}
    )
    general = new_wallet(name="General", priority=2, granted_credits="100")
    send(at(2024, 4, 10), 500)
    invoice = close(subscription, at(2024, 5, 1, 0, 5))  # base $10, tokens $5
    assert wallets_apply(invoice=invoice) == 1500
    assert (balance(charges_only), balance(general)) == (95, 90)


def test_wallets_pay_only_subscription_invoices_and_what_is_left(subscription):
    wallet = new_wallet(granted_credits="100")
    [purchase] = wallet_top_up(wallet=wallet, paid_credits="10")
    assert wallets_apply(invoice=purchase.invoice) == 0  # a credit invoice is paid in money
    invoice = close(subscription, at(2024, 5, 1, 0, 5))
    invoice.credit_notes_amount_cents = 400  # credit notes come first
    assert wallets_apply(invoice=invoice) == 600
    assert balance(wallet) == 94


def test_rate_converts_money_to_credits(subscription):
    wallet = new_wallet(rate_amount="0.5", granted_credits="100")  # $50
    [purchase] = wallet_top_up(wallet=wallet, paid_credits="3")
    assert purchase.invoice.total_amount_cents == 150 and purchase.amount == Decimal("1.5")
    invoice = close(subscription, at(2024, 5, 1, 0, 5))
    assert wallets_apply(invoice=invoice) == 1000
    assert balance(wallet) == 80  # $10 = 20 credits


def test_idempotent_top_up_adds_once(customer):
    wallet = new_wallet()
    first = wallet_top_up(
        wallet=wallet, paid_credits="10", granted_credits="5", idempotency_key="order-1"
    )
    again = wallet_top_up(
        wallet=wallet, paid_credits="10", granted_credits="5", idempotency_key="order-1"
    )
    assert [r.pk for r in again] == [r.pk for r in first] and len(first) == 2
    assert Invoice.objects.filter(invoice_type="credit").count() == 1
    assert balance(wallet) == 5
    wallet_top_up(wallet=wallet, granted_credits="5", idempotency_key="order-2")
    assert balance(wallet) == 10


def test_paid_top_up_limits(customer):
    wallet = new_wallet(paid_top_up_min_amount_cents=1000, paid_top_up_max_amount_cents=5000)
    with pytest.raises(ValidationFailed) as low:
        wallet_top_up(wallet=wallet, paid_credits="9.99")
    assert low.value.errors == {"paid_credits": ["amount_below_minimum"]}
    with pytest.raises(ValidationFailed) as high:
        wallet_top_up(wallet=wallet, paid_credits="50.01")
    assert high.value.errors == {"paid_credits": ["amount_above_maximum"]}
    wallet_top_up(wallet=wallet, paid_credits="60", ignore_paid_top_up_limits=True)
    wallet_top_up(wallet=wallet, granted_credits="500")  # limits are for paid credits only


def test_expiry_voids_the_rest_and_stops_consumption(subscription):
    wallet = new_wallet(granted_credits="30", expiration_at="2024-05-01T00:00:00")  # naive: UTC
    assert wallet.expiration_at == at(2024, 5, 1)
    [expired] = wallets_expire(now=at(2024, 5, 1, 0, 1))
    assert (expired.status, expired.terminated_at) == ("terminated", at(2024, 5, 1, 0, 1))
    [void] = expired.transactions.filter(transaction_status="voided")
    assert (void.credit_amount, void.status) == (30, "settled")
    assert balance(wallet) == 0
    assert wallets_expire(now=at(2024, 5, 1, 2)) == []
    invoice = close(subscription, at(2024, 5, 1, 0, 5))
    assert wallets_apply(invoice=invoice) == 0
    with pytest.raises(ValidationFailed):
        wallet_top_up(wallet=wallet, granted_credits="1")


def test_credits_paid_after_termination_are_voided(customer):
    wallet = new_wallet(granted_credits="5")
    [purchase] = wallet_top_up(wallet=wallet, paid_credits="10")
    wallet_terminate(wallet=wallet)
    pay(purchase.invoice)
    assert balance(wallet) == 0
    assert wallet.transactions.filter(transaction_status="voided").count() == 2


def test_a_customer_may_hold_several_wallets_with_unique_active_codes(customer):
    new_wallet(code="main")
    new_wallet(name="Prepaid")  # code made from the name
    new_wallet(name="Prepaid")
    assert sorted(customer.wallets.values_list("code", flat=True)) == [
        "main",
        "prepaid",
        "prepaid_2",
    ]
    with pytest.raises(ValidationFailed) as taken:
        new_wallet(code="main")
    assert taken.value.errors == {"code": ["value_already_exist"]}


def test_idempotency_constraint_is_the_backstop(customer, monkeypatch):
    """Two requests with one key that both passed the look-up: the unique constraint stops the
    second, which then answers the first one's transactions."""
    wallet = new_wallet()
    [first] = wallet_top_up(wallet=wallet, granted_credits="3", idempotency_key="k")
    real, calls = topups._keyed, []

    def missed_once(wallet, key):
        calls.append(key)
        return [] if len(calls) == 1 else real(wallet, key)

    monkeypatch.setattr(topups, "_keyed", missed_once)
    [again] = wallet_top_up(wallet=wallet, granted_credits="3", idempotency_key="k")
    assert again.pk == first.pk and len(calls) == 2
    assert balance(wallet) == 3


@pytest.mark.django_db(transaction=True)
def test_credit_invoice_is_delivered_after_commit(customer, mailoutbox):
    customer.email = "ap@cust.example"
    customer.save()
    wallet = new_wallet()
    [purchase] = wallet_top_up(wallet=wallet, paid_credits="12.5")
    invoice = Invoice.objects.get(pk=purchase.invoice_id)
    assert invoice.file.name.endswith(".pdf")
    [mail] = mailoutbox
    assert mail.to == ["ap@cust.example"]
