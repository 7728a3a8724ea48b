"""lago-python-client: add-ons and a one-off invoice, coupons applied and removed, a wallet with
a paid top-up, credit notes, taxes — the resources of prepaid credits and discounts."""

from datetime import UTC, datetime

import pytest
import time_machine
from lago_python_client.models import (
    AddOn,
    AppliedCoupon,
    Coupon,
    CreditNote,
    CreditNoteEstimate,
    Customer,
    InvoiceFee,
    OneOffInvoice,
    Tax,
    Wallet,
    WalletTransaction,
)
from lago_python_client.models.credit_note import Item

pytestmark = pytest.mark.live


def items(value) -> list:
    return list(getattr(value, "__root__", value))


@time_machine.travel(datetime(2024, 4, 10, 12, tzinfo=UTC))
def test_add_on_one_off_invoice_and_credit_note(lago):
    lago.taxes.create(Tax(code="vat20", name="VAT 20%", rate=20.0))
    lago.add_ons.create(
        AddOn(
            code="gpu_pack_10h",
            name="GPU-hour pack, 10 h",
            amount_cents=25000,
            amount_currency="USD",
            tax_codes=["vat20"],
        )
    )
    assert lago.add_ons.find("gpu_pack_10h").amount_cents == 25000
    lago.customers.create(Customer(external_id="acme", currency="USD"))
    invoice = lago.invoices.create(
        OneOffInvoice(
            external_customer_id="acme",
            currency="USD",
            fees=[InvoiceFee(add_on_code="gpu_pack_10h", units=2)],
        )
    )
    assert (
        invoice.invoice_type,
        invoice.status,
        invoice.fees_amount_cents,
        invoice.taxes_amount_cents,
        invoice.total_amount_cents,
    ) == ("one_off", "finalized", 50000, 10000, 60000)
    fee_id = items(invoice.fees)[0].lago_id
    estimate = lago.credit_notes.estimate(
        CreditNoteEstimate(
            invoice_id=invoice.lago_id, items=[Item(fee_id=fee_id, amount_cents=10000)]
        )
    )
    assert estimate.sub_total_excluding_taxes_amount_cents == 10000
    assert estimate.taxes_amount_cents == 2000
    note = lago.credit_notes.create(
        CreditNote(
            invoice_id=invoice.lago_id,
            reason="order_change",
            items=[Item(fee_id=fee_id, amount_cents=10000)],
        )
    )
    assert (note.total_amount_cents, note.credit_amount_cents) == (12000, 12000)
    assert lago.credit_notes.void(note.lago_id).credit_status == "voided"


@time_machine.travel(datetime(2024, 4, 10, 12, tzinfo=UTC))
def test_coupon_applied_and_removed(lago):
    lago.coupons.create(
        Coupon(
            code="welcome",
            name="Welcome",
            coupon_type="percentage",
            percentage_rate=10.0,
            frequency="recurring",
            frequency_duration=3,
            expiration="no_expiration",
        )
    )
    lago.customers.create(Customer(external_id="acme", currency="USD"))
    applied = lago.applied_coupons.create(
        AppliedCoupon(external_customer_id="acme", coupon_code="welcome")
    )
    assert applied.coupon_code == "welcome" and applied.status == "active"
    listing = lago.applied_coupons.find_all({"external_customer_id": "acme"})
    assert [a.lago_id for a in listing["applied_coupons"]] == [applied.lago_id]
    removed = lago.applied_coupons.destroy("acme", applied.lago_id)
    assert removed.status == "terminated"


@time_machine.travel(datetime(2024, 4, 10, 12, tzinfo=UTC))
def test_wallet_with_granted_and_paid_credits(lago):
    lago.customers.create(Customer(external_id="acme", currency="USD"))
    wallet = lago.wallets.create(
        Wallet(
            external_customer_id="acme",
            rate_amount="1.0",
            currency="USD",
            granted_credits="10.0",
            name="Prepaid",
        )
    )
    assert (wallet.credits_balance, wallet.balance_cents) in (
        ("10.0", 1000),
        ("10", 1000),
        ("10.00000", 1000),
    )
    result = lago.wallet_transactions.create(
        WalletTransaction(wallet_id=wallet.lago_id, paid_credits="50.0")
    )
    [purchase] = result["wallet_transactions"]
    assert (purchase.transaction_status, purchase.status) == ("purchased", "pending")
    [credit_invoice] = [
        i
        for i in lago.invoices.find_all({"external_customer_id": "acme"})["invoices"]
        if i.invoice_type == "credit"
    ]
    from lago_python_client.models import Invoice

    lago.invoices.update(Invoice(payment_status="succeeded"), credit_invoice.lago_id)
    assert float(lago.wallets.find(wallet.lago_id).credits_balance) == 60.0
    terminated = lago.wallets.destroy(wallet.lago_id)
    assert terminated.status == "terminated"
