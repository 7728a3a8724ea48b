"""Lago's prepaid-credits pages: granted credits land at once, paid credits when their (untaxed)
invoice is paid; credits are applied to subscription invoices after tax and credit notes, by
wallet priority, within the wallet's scope; voiding credits."""

from decimal import Decimal

import pytest

from tests.lago_docs.conftest import at

pytestmark = pytest.mark.django_db


def _wallet(lago, moment=None, **body) -> dict:
    base = {"external_customer_id": "cust", "rate_amount": "1.0", "currency": "USD"}
    return lago.post("wallets", {"wallet": {**base, **body}}, "wallet", moment)


def _balance(lago, wallet) -> Decimal:
    return Decimal(lago.get(f"wallets/{wallet['lago_id']}", "wallet")["credits_balance"])


def _pay(lago, invoice_id):
    response = lago.api.put(
        f"/api/v1/invoices/{invoice_id}",
        {"invoice": {"payment_status": "succeeded"}},
        format="json",
    )
    assert response.status_code == 200, response.json()


def test_wallet_100_paid_50_granted(lago):
    """https://getlago.com/docs/guide/wallet-and-prepaid-credits/overview#create-wallets

    The page's wallet: rate_amount 1.0, paid_credits 100.0, granted_credits 50.0, USD (its
    expiration_at, 2022-07-07, left out: it is in the past). Free
    credits are added at once, purchased credits when payment is confirmed: balance 50, then
    150 once the $100 credit invoice is paid. Credit purchases carry no tax
    (https://getlago.com/docs/guide/wallet-and-prepaid-credits/wallet-top-up-and-void), even for
    a customer with a tax code.
    """
    lago.tax("vat_20", 20.0)
    lago.customer(tax_codes=["vat_20"])
    wallet = _wallet(
        lago,
        name="Prepaid credits",
        paid_credits="100.0",
        granted_credits="50.0",
        invoice_requires_successful_payment=False,
    )
    assert _balance(lago, wallet) == 50
    [purchase] = lago.invoices(invoice_type="credit")
    assert (purchase["taxes_amount_cents"], purchase["total_amount_cents"]) == (0, 10000)
    _pay(lago, purchase["lago_id"])
    assert _balance(lago, wallet) == 150


def test_top_up_20_paid_10_granted_and_void_20(lago):
    """https://getlago.com/docs/guide/wallet-and-prepaid-credits/wallet-top-up-and-void

    The page's top-up (paid_credits 20.0, granted_credits 10.0) adds 10 at once and 20 when its
    invoice ($20, no tax, no coupon) is paid; its void (voided_credits 20.0) takes 20 off at
    once. From an empty wallet: 0 -> 10 -> 30 -> 10.
    """
    lago.customer()
    coupon = {
        "name": "Everything",
        "code": "everything",
        "coupon_type": "percentage",
        "percentage_rate": "50",
        "frequency": "forever",
    }
    lago.post("coupons", {"coupon": coupon})
    lago.post(
        "applied_coupons",
        {"applied_coupon": {"external_customer_id": "cust", "coupon_code": "everything"}},
    )
    wallet = _wallet(lago, name="Prepaid credits")
    assert _balance(lago, wallet) == 0
    lago.post(
        "wallet_transactions",
        {
            "wallet_transaction": {
                "wallet_id": wallet["lago_id"],
                "paid_credits": "20.0",
                "granted_credits": "10.0",
                "invoice_requires_successful_payment": False,
            }
        },
    )
    assert _balance(lago, wallet) == 10
    [purchase] = lago.invoices(invoice_type="credit")
    assert (
        purchase["coupons_amount_cents"],
        purchase["taxes_amount_cents"],
        purchase["total_amount_cents"],
    ) == (0, 0, 2000)
    _pay(lago, purchase["lago_id"])
    assert _balance(lago, wallet) == 30
    lago.post(
        "wallet_transactions",
        {"wallet_transaction": {"wallet_id": wallet["lago_id"], "voided_credits": "20.0"}},
    )
    assert _balance(lago, wallet) == 10


def test_credit_value_1_credit_is_5_dollars(lago):
    """https://getlago.com/docs/guide/wallet-and-prepaid-credits/overview#create-wallets

    The credit value is set on the wallet (the page's example: 1 credit = $5). 10 granted
    credits at $5 pay $50 of a $30 invoice: $30 taken (6 credits), 4 credits left.
    """
    lago.customer()
    lago.plan("basic", 3000)
    lago.subscribe(at(2025, 1, 1), "basic")
    wallet = _wallet(lago, rate_amount="5", granted_credits="10")
    lago.beat(at(2025, 2, 1, 0, 5))
    [invoice] = lago.invoices(invoice_type="subscription")
    assert (invoice["prepaid_credit_amount_cents"], invoice["total_amount_cents"]) == (3000, 0)
    assert _balance(lago, wallet) == 4


def test_priority_1_is_applied_before_50(lago):
    """https://getlago.com/docs/guide/wallet-and-prepaid-credits/overview#create-wallets

    Wallets are applied by priority, 1 first and 50 last. A $30 invoice, a priority-50 wallet
    created first (20 credits) and a priority-1 wallet (20 credits): the priority-1 wallet pays
    $20, the priority-50 one the last $10.
    """
    lago.customer()
    lago.plan("basic", 3000)
    lago.subscribe(at(2025, 1, 1), "basic")
    last = _wallet(lago, name="last", code="last", priority=50, granted_credits="20")
    first = _wallet(lago, name="first", code="first", priority=1, granted_credits="20")
    lago.beat(at(2025, 2, 1, 0, 5))
    [invoice] = lago.invoices(invoice_type="subscription")
    assert (invoice["prepaid_credit_amount_cents"], invoice["total_amount_cents"]) == (3000, 0)
    assert (_balance(lago, first), _balance(lago, last)) == (0, 10)


def test_wallet_limited_to_charges(lago):
    """https://getlago.com/docs/guide/wallet-and-prepaid-credits/overview#application-scope

    By default credits apply to every fee type; a wallet can be limited (applies_to fee types).
    Limited to charges, 100 credits pay the $20 of usage of a $30 + $20 invoice, not the
    subscription fee: $30 left due.
    """
    lago.metric("tokens", "sum_agg", "tokens")
    lago.customer()
    lago.plan("basic", 3000, charges=[lago.charge("tokens", "standard", {"amount": "1"})])
    lago.subscribe(at(2025, 1, 1), "basic")
    wallet = _wallet(lago, granted_credits="100", applies_to={"fee_types": ["charge"]})
    lago.event(at(2025, 1, 10), "tokens", {"tokens": 20})
    lago.beat(at(2025, 2, 1, 0, 5))
    [invoice] = lago.invoices(invoice_type="subscription")
    assert (invoice["prepaid_credit_amount_cents"], invoice["total_amount_cents"]) == (2000, 3000)
    assert _balance(lago, wallet) == 80


def test_prepaid_credits_do_not_apply_to_one_off_invoices(lago):
    """https://getlago.com/docs/guide/wallet-and-prepaid-credits/overview#application-scope

    Prepaid credits do not apply to one-off invoices: a $20 one-off invoice stays $20 due with
    50 credits in the wallet.
    """
    lago.customer()
    wallet = _wallet(lago, granted_credits="50")
    lago.post(
        "add_ons",
        {
            "add_on": {
                "code": "setup",
                "name": "Setup",
                "amount_cents": 2000,
                "amount_currency": "USD",
            }
        },
    )
    one_off = lago.post(
        "invoices",
        {
            "invoice": {
                "external_customer_id": "cust",
                "currency": "USD",
                "fees": [{"add_on_code": "setup", "units": 1}],
            }
        },
        "invoice",
    )
    assert (one_off["prepaid_credit_amount_cents"], one_off["total_amount_cents"]) == (0, 2000)
    assert _balance(lago, wallet) == 50
