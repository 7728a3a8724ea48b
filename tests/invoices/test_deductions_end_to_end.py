"""The order of deductions, end to end through the period close and finalization:
fees → progressive billing → coupons → taxes → credit notes → prepaid credits → amount due."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from core.services import organization_update
from customers.applied_coupons import applied_coupon_create
from customers.services import customer_upsert, subscription_create
from customers.wallets import wallet_balances, wallet_create, wallet_top_up
from invoices.models import Invoice
from invoices.services import invoice_update, subscription_bill_due
from invoices.services.credit_notes import credit_note_create
from plans.coupons import coupon_create
from tests.factories import make_plan

pytestmark = pytest.mark.django_db


def at(*args):
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def subscription():
    organization_update(data={"country": "DE"})
    make_plan("pro", 10000)
    customer_upsert(
        data={
            "external_id": "cust",
            "country": "DE",
            "customer_type": "individual",
            "currency": "USD",
        }
    )
    with time_machine.travel(at(2024, 1, 1), tick=False):
        return subscription_create(
            data={"external_customer_id": "cust", "plan_code": "pro", "external_id": "sub"}
        )


def close(subscription, month) -> Invoice:
    [invoice] = subscription_bill_due(subscription_id=subscription.pk, now=at(2024, month, 1, 0, 1))
    return invoice


def test_every_deduction_in_order(subscription):
    coupon_create(
        data={
            "code": "tenoff",
            "name": "10% off",
            "coupon_type": "percentage",
            "percentage_rate": "10",
            "frequency": "recurring",
            "frequency_duration": 3,
        }
    )
    applied_coupon_create(data={"external_customer_id": "cust", "coupon_code": "tenoff"})
    wallet = wallet_create(
        data={
            "external_customer_id": "cust",
            "rate_amount": "1",
            "currency": "USD",
            "granted_credits": "20",
        }
    )
    january = close(subscription, 2)
    # $100 fees - $10 coupon = $90; VAT 19% on $90 = $17.10; $107.10 - $20 prepaid = $87.10
    assert (
        january.fees_amount_cents,
        january.coupons_amount_cents,
        january.taxes_amount_cents,
        january.prepaid_credit_amount_cents,
        january.total_amount_cents,
    ) == (10000, 1000, 1710, 2000, 8710)
    invoice_update(invoice=january, data={"payment_status": "succeeded"})
    fee = january.fees.get()
    credit_note_create(
        data={
            "invoice_id": str(january.lago_id),
            "reason": "other",
            "items": [{"fee_id": str(fee.lago_id), "amount_cents": 3000}],
        }
    )
    february = close(subscription, 3)
    # credit note on $30 of the fee before its coupon (Lago): coupon share $3, $27 + 19% VAT
    # ($5.13) = $32.13 of credit; coupon again; wallet empty
    assert (
        february.coupons_amount_cents,
        february.taxes_amount_cents,
        february.credit_notes_amount_cents,
        february.prepaid_credit_amount_cents,
        february.total_amount_cents,
    ) == (1000, 1710, 3213, 0, 10710 - 3213)
    assert wallet_balances(wallet).credits_balance == Decimal(0)
    march, april = close(subscription, 4), close(subscription, 5)
    assert (march.coupons_amount_cents, april.coupons_amount_cents) == (1000, 0)  # 3 periods


def test_prepaid_credits_over_two_periods(subscription):
    wallet = wallet_create(
        data={"external_customer_id": "cust", "rate_amount": "1", "currency": "USD"}
    )
    [purchase] = [t for t in wallet_top_up(wallet=wallet, paid_credits=Decimal(150))]
    top_up_invoice = purchase.invoice
    assert (
        top_up_invoice.invoice_type,
        top_up_invoice.status,
        top_up_invoice.taxes_amount_cents,
        top_up_invoice.total_amount_cents,
    ) == ("credit", "finalized", 0, 15000)
    assert wallet_balances(wallet).credits_balance == 0  # lands when paid
    invoice_update(invoice=top_up_invoice, data={"payment_status": "succeeded"})
    assert wallet_balances(wallet).credits_balance == 150
    january = close(subscription, 2)  # $119.00 with VAT
    assert (january.prepaid_credit_amount_cents, january.total_amount_cents) == (11900, 0)
    assert january.payment_status == "succeeded"
    february = close(subscription, 3)
    assert (february.prepaid_credit_amount_cents, february.total_amount_cents) == (3100, 8800)
    balances = wallet_balances(wallet)
    assert balances.credits_balance == 0
    total = sum(
        (t.credit_amount if t.transaction_type == "inbound" else -t.credit_amount)
        for t in wallet.transactions.filter(status="settled")
    )
    assert total == balances.credits_balance


def test_fixed_coupon_larger_than_an_invoice_is_carried_over(subscription):
    coupon_create(
        data={
            "code": "big",
            "name": "Big",
            "coupon_type": "fixed_amount",
            "amount_cents": 15000,
            "amount_currency": "USD",
            "frequency": "once",
        }
    )
    applied_coupon_create(data={"external_customer_id": "cust", "coupon_code": "big"})
    january, february, march = (
        close(subscription, 2),
        close(subscription, 3),
        close(subscription, 4),
    )
    assert [i.coupons_amount_cents for i in (january, february, march)] == [10000, 5000, 0]
    assert [i.total_amount_cents for i in (january, february, march)] == [0, 5950, 11900]


def test_one_off_invoice_from_the_customer_page(admin_client, subscription):
    from plans.addons import add_on_create

    add_on = add_on_create(
        data={
            "code": "gpu_pack_10h",
            "name": "GPU-hour pack, 10 h",
            "amount_cents": 25000,
            "amount_currency": "USD",
        }
    )
    url = reverse("admin:customers_customer_one_off", args=[subscription.customer_id])
    response = admin_client.post(url, {"add_on": add_on.pk, "units": "2"})
    assert response.status_code == 302
    invoice = Invoice.objects.get(invoice_type="one_off")
    # VAT applies to one-off invoices too; coupons and prepaid credits do not
    assert (invoice.fees_amount_cents, invoice.taxes_amount_cents, invoice.status) == (
        50000,
        9500,
        "finalized",
    )
