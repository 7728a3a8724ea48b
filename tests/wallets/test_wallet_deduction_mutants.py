"""Prepaid-credit deduction corners that mutation testing found unchecked (docs/testing.md,
"Mutation testing"): a wallet that never had credits, expiry at the very instant, largest fee
first, the last credits after an earlier consumption, what a limited wallet may pay (net of
the coupon, plus taxes), credits rounded half-up."""

from decimal import Decimal

import pytest
import time_machine

from customers.applied_coupons import applied_coupon_create
from customers.models import WalletTransaction
from customers.services import customer_upsert
from customers.wallets import credits_of, wallet_create
from invoices.models import Invoice
from invoices.services.coupons import coupons_apply
from invoices.services.lifecycle import invoice_totals
from invoices.services.taxes import taxes_apply
from invoices.services.wallets import wallets_apply
from plans.coupons import coupon_create
from taxes.services import tax_create
from tests.wallets.conftest import at, balance, close, new_wallet, send
from webhooks.models import WebhookDelivery
from webhooks.services import webhook_endpoint_create

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


def test_another_customers_wallet_and_another_currency_pay_nothing(subscription):
    customer_upsert(data={"external_id": "other", "currency": "USD"})
    with time_machine.travel(at(2024, 4, 1), tick=False):
        theirs = wallet_create(
            data={
                "external_customer_id": "other",
                "rate_amount": "1",
                "granted_credits": "50",
                "priority": 1,  # first in line, were it this customer's
            }
        )
    euros = new_wallet(name="Euros", currency="EUR", priority=1, granted_credits="50")
    dollars = new_wallet(name="Dollars", priority=2, granted_credits="50")
    invoice = close(subscription, at(2024, 5, 1, 0, 5))
    assert wallets_apply(invoice=invoice) == 1000
    assert outbound(invoice) == [("dollars", Decimal(10), Decimal(10))]
    assert (balance(theirs), balance(euros), balance(dollars)) == (50, 50, 40)


def test_a_second_wallet_pays_what_the_first_left_of_a_fee(subscription):
    general = new_wallet(name="General", priority=1, granted_credits="5")
    charges_only = new_wallet(
        name="Usage", priority=2, granted_credits="100", applies_to={"fee_types": ["charge"]}
    )
    send(at(2024, 4, 10), 2000)
    invoice = close(subscription, at(2024, 5, 1, 0, 5))  # base $10, tokens $20
    # General pays $5 of the largest fee (tokens); the usage wallet the $15 of tokens left
    assert wallets_apply(invoice=invoice) == 2000
    assert (balance(general), balance(charges_only)) == (0, 85)


def test_two_wallets_never_pay_more_than_the_credit_notes_left(subscription):
    first = new_wallet(name="First", priority=1, granted_credits="3")
    second = new_wallet(name="Second", priority=2, granted_credits="100")
    invoice = close(subscription, at(2024, 5, 1, 0, 5))  # $10 base
    invoice.credit_notes_amount_cents = 400  # $6 left: $3 from each
    assert wallets_apply(invoice=invoice) == 600
    assert (balance(first), balance(second)) == (0, 97)


@pytest.mark.parametrize(("credit_notes", "taken"), [(1000, 0), (999, 1)])
def test_what_credit_notes_leave_down_to_the_last_cent(subscription, credit_notes, taken):
    wallet = new_wallet(granted_credits="50")
    invoice = close(subscription, at(2024, 5, 1, 0, 5))  # $10 base
    invoice.credit_notes_amount_cents = credit_notes
    assert wallets_apply(invoice=invoice) == taken
    assert sum(row[2] for row in outbound(invoice)) == Decimal(taken) / 100
    assert balance(wallet) == 50 - Decimal(taken) / 100


def test_applying_again_reports_what_was_taken_and_announces_each_row(subscription):
    webhook_endpoint_create(
        data={
            "webhook_url": "http://127.0.0.1:9/hooks",
            "event_types": ["wallet_transaction.created"],
        }
    )
    new_wallet(granted_credits="50")  # its granted credits are announced too
    deliveries = WebhookDelivery.objects.filter(webhook_type="wallet_transaction.created")
    before = set(deliveries.values_list("pk", flat=True))
    invoice = close(subscription, at(2024, 5, 1, 0, 5))
    assert wallets_apply(invoice=invoice) == 1000
    [delivery] = deliveries.exclude(pk__in=before)
    assert delivery.object_type == "wallet_transaction"
    assert delivery.payload["wallet_transaction"]["transaction_type"] == "outbound"
    again = Invoice.objects.get(pk=invoice.pk)
    assert wallets_apply(invoice=again) == 1000
    assert again.prepaid_credit_amount_cents == 1000
    assert deliveries.exclude(pk__in=before).count() == 1
