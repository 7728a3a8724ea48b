"""Prepaid-credit deduction corners that mutation testing found unchecked (docs/testing.md,
"Mutation testing"): a wallet that never had credits, expiry at the very instant, largest fee
first, the last credits after an earlier consumption, what a limited wallet may pay (net of
the coupon, plus taxes), credits rounded half-up."""

from decimal import Decimal

import pytest

from customers.models import WalletTransaction
from customers.services import customer_upsert
from customers.wallets import credits_of, wallets_apply
from invoices.services.lifecycle import invoice_totals
from invoices.services.taxes import taxes_apply
from plans.coupons import applied_coupon_create, coupon_create, coupons_apply
from taxes.services import tax_create
from tests.wallets.conftest import at, balance, close, new_wallet, send

pytestmark = pytest.mark.django_db


def outbound(invoice) -> list[tuple]:
    rows = WalletTransaction.objects.filter(invoice=invoice, transaction_type="outbound")
    return sorted((r.wallet.code, r.credit_amount, r.amount) for r in rows)


def test_credits_are_kept_to_five_places_half_up():
    assert credits_of(Decimal("0.000005")) == Decimal("0.00001")
    assert credits_of(Decimal("0.000025")) == Decimal("0.00003")  # half-even would say 0.00002


def test_a_wallet_that_never_had_credits_is_passed_over(subscription):
    new_wallet(name="Empty", priority=1)  # no transaction at all
    funded = new_wallet(name="Funded", priority=2, granted_credits="50")
    invoice = close(subscription, at(2024, 5, 1, 0, 5))  # $10 base
    assert wallets_apply(invoice=invoice) == 1000
    assert outbound(invoice) == [("funded", Decimal(10), Decimal(10))]
    assert balance(funded) == 40


def test_a_wallet_expiring_at_that_instant_pays_nothing(subscription):
    # the expiry job has not run yet: the wallet is still "active", but expired
    wallet = new_wallet(granted_credits="50", expiration_at="2024-05-01T00:05:00Z")
    invoice = close(subscription, at(2024, 5, 1, 0, 5))
    assert wallets_apply(invoice=invoice, now=at(2024, 5, 1, 0, 5)) == 0
    assert balance(wallet) == 50


def test_largest_fee_first_leaves_the_smaller_one_to_a_limited_wallet(subscription):
    small = new_wallet(name="Small", priority=1, granted_credits="5")
    charges_only = new_wallet(
        name="Usage", priority=2, granted_credits="100", applies_to={"fee_types": ["charge"]}
    )
    send(at(2024, 4, 10), 500)
    invoice = close(subscription, at(2024, 5, 1, 0, 5))  # base $10, tokens $5
    # Small takes $5 of the largest fee (the base); the usage wallet then pays the tokens' $5.
    # Tokens first would leave the usage wallet nothing to pay.
    assert wallets_apply(invoice=invoice) == 1000
    assert (balance(small), balance(charges_only)) == (0, 95)


def test_the_last_credits_after_an_earlier_consumption_are_taken_whole(subscription):
    wallet = new_wallet(granted_credits="12.00001")
    april = close(subscription, at(2024, 5, 1, 0, 5))
    assert wallets_apply(invoice=april, now=at(2024, 5, 1, 0, 6)) == 1000
    may = close(subscription, at(2024, 6, 1, 0, 5))
    # 2.00001 credits left are worth $2.00: all of them go, no 0.00001 of dust stays behind
    assert wallets_apply(invoice=may, now=at(2024, 6, 1, 0, 6)) == 200
    assert outbound(may) == [("prepaid", Decimal("2.00001"), Decimal(2))]
    assert balance(wallet) == 0
    settled = WalletTransaction.objects.filter(invoice=may).values_list("settled_at", flat=True)
    assert list(settled) == [at(2024, 6, 1, 0, 6)]


def test_a_limited_wallet_pays_its_fees_net_of_the_coupon_plus_their_taxes(subscription):
    tax_create(data={"code": "ten", "name": "Ten", "rate": "10"})
    customer_upsert(data={"external_id": "cust", "tax_codes": ["ten"]})
    coupon_create(
        data={
            "name": "Three",
            "code": "three",
            "coupon_type": "fixed_amount",
            "amount_cents": 300,
            "amount_currency": "USD",
        }
    )
    applied_coupon_create(data={"external_customer_id": "cust", "coupon_code": "three"})
    wallet = new_wallet(granted_credits="100", applies_to={"fee_types": ["charge"]})
    send(at(2024, 4, 10), 2000)
    invoice = close(subscription, at(2024, 5, 1, 0, 5))  # base $10, tokens $20
    coupons_apply(invoice=invoice)  # the deductions before prepaid credits
    taxes_apply(invoice=invoice)
    invoice = invoice_totals(invoice)
    # coupon 300 over 1,000 and 2,000: 100 and 200; taxes 10 % of 900 and 1,800: 90 and 180.
    # The usage wallet pays the tokens: 2,000 - 200 + 180 = 1,980
    assert [
        (f.amount_cents, f.coupons_amount_cents, f.taxes_amount_cents)
        for f in invoice.fees.order_by("amount_cents")
    ] == [(1000, 100, 90), (2000, 200, 180)]
    assert wallets_apply(invoice=invoice) == 1980
    assert balance(wallet) == Decimal("80.2")
