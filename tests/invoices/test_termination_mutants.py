"""Credit notes for unused days when prepaid credits paid part of the invoice (docs/testing.md,
"Mutation testing"): Lago's refund rule takes the used days from the fee's share of what was
paid in money first; what is left of the paid share is refunded, the rest credited."""

import io
import logging
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command

from core.errors import RuleViolation
from customers.applied_coupons import applied_coupon_create
from customers.models import Subscription
from customers.services import customer_upsert
from customers.wallets import wallet_create
from invoices.models import CreditNote, Fee, Invoice
from invoices.services.credit_notes import credit_note_create
from plans.coupons import coupon_create
from taxes.services import tax_create
from tests.factories import make_plan
from tests.invoices.test_plan_changes import api_call, at, subscribe, terminate

pytestmark = pytest.mark.django_db


def october(api, prepaid: str | None, tax_rate: str | None = None) -> Invoice:
    """$31.00 for October paid in advance (a dollar a day), `prepaid` credits of $1 taken off
    it, the rest paid in money on October 2."""
    codes = []
    if tax_rate:
        tax_create(data={"code": "tax", "name": "Tax", "rate": tax_rate})
        codes = ["tax"]
    customer_upsert(data={"external_id": "cust", "currency": "USD", "tax_codes": codes})
    make_plan("pro", 3100, pay_in_advance=True)
    with time_machine.travel(at(2024, 9, 30), tick=False):
        if prepaid:
            wallet_create(
                data={
                    "external_customer_id": "cust",
                    "currency": "USD",
                    "rate_amount": "1",
                    "granted_credits": prepaid,
                }
            )
    subscribe(api, at(2024, 10, 1), "pro")
    invoice = Invoice.objects.get(invoice_type="subscription")
    body = {"invoice": {"payment_status": "succeeded"}}
    api_call(api, "put", f"invoices/{invoice.lago_id}", at(2024, 10, 2), body)
    return invoice


def split_of_termination(api, option: str) -> tuple[int, int, int, int]:
    """Terminated October 10: October 11-31, 21 days, are unused."""
    assert (
        terminate(api, at(2024, 10, 10, 15), on_termination_credit_note=option).status_code == 200
    )
    [note] = CreditNote.objects.all()
    return (
        note.total_amount_cents,
        note.credit_amount_cents,
        note.refund_amount_cents,
        note.offset_amount_cents,
    )


@pytest.mark.parametrize(
    ("prepaid", "option", "split"),
    [
        # $10 prepaid, $21 paid: unpaid share of the fee 3,100 x 1,000 / 3,100 = 1,000;
        # 2,100 unused - 1,000 = 1,100 refunded, 1,000 credited
        ("10", "refund", (2100, 1000, 1100, 0)),
        # the same with offset: the invoice is paid, nothing is owed to offset
        ("10", "offset", (2100, 1000, 1100, 0)),
        # $25 prepaid, $6 paid: 2,100 - 2,500 < 0, nothing refunded
        ("25", "refund", (2100, 2100, 0, 0)),
    ],
)
def test_prepaid_credits_are_not_refunded_in_money(api, prepaid, option, split):
    invoice = october(api, prepaid)
    assert (
        invoice.sub_total_including_taxes_amount_cents,
        invoice.prepaid_credit_amount_cents,
    ) == (
        3100,
        int(Decimal(prepaid) * 100),
    )
    assert split_of_termination(api, option) == split


def test_the_refund_counts_the_fees_taxes(api):
    # 10 % tax: 3,100 + 310 = 3,410; $10 prepaid, 2,410 paid. Unused: 2,100 + 210 = 2,310;
    # unpaid share 3,410 x 1,000 / 3,410 = 1,000; refund 2,310 - 1,000 = 1,310
    october(api, "10", tax_rate="10")
    assert split_of_termination(api, "refund") == (2310, 1000, 1310, 0)


def test_a_fee_billed_before_the_rule_prices_its_days_from_its_own_amount(api):
    # a base fee without base_amount / period_days in its details (billed before they were
    # recorded): the used days are its amount x used days / days covered, 3,100 x 10 / 31
    invoice = october(api, None)
    fee = invoice.fees.get(fee_type="subscription")
    details = {
        k: v for k, v in fee.amount_details.items() if k not in ("base_amount", "period_days")
    }
    Fee.objects.filter(pk=fee.pk).update(amount_details=details)
    assert split_of_termination(api, "credit") == (2100, 2100, 0, 0)


def test_an_invoice_prepaid_in_full_still_gets_its_automatic_credit_note(api):
    october(api, "31")  # nothing left to pay in money
    assert split_of_termination(api, "credit") == (2100, 2100, 0, 0)
    assert CreditNote.objects.get().automatic is True


def test_an_offset_takes_only_what_is_still_owed_and_not_offset(api):
    # $10 prepaid: 2,100 owed, unpaid; a manual note already offset 1,000 of it
    make_plan("pro", 3100, pay_in_advance=True)
    customer_upsert(data={"external_id": "cust", "currency": "USD"})
    with time_machine.travel(at(2024, 9, 30), tick=False):
        wallet_create(
            data={
                "external_customer_id": "cust",
                "currency": "USD",
                "rate_amount": "1",
                "granted_credits": "10",
            }
        )
    subscribe(api, at(2024, 10, 1), "pro")
    invoice = Invoice.objects.get(invoice_type="subscription")
    fee = invoice.fees.get(fee_type="subscription")
    credit_note_create(
        data={
            "invoice_id": str(invoice.lago_id),
            "items": [{"fee_id": str(fee.lago_id), "amount_cents": 1000}],
            "offset_amount_cents": 1000,
        }
    )
    assert (
        terminate(api, at(2024, 10, 10, 15), on_termination_credit_note="offset").status_code == 200
    )
    note = CreditNote.objects.get(automatic=True)
    # 2,100 unused: 2,100 - 1,000 = 1,100 still owed and not offset is offset, 1,000 credited
    assert (note.total_amount_cents, note.credit_amount_cents, note.offset_amount_cents) == (
        2100,
        1000,
        1100,
    )


def test_a_period_billed_ahead_and_never_started_is_credited_whole(api):
    make_plan("pro", 3000, pay_in_advance=True)
    customer_upsert(data={"external_id": "cust", "currency": "USD"})
    subscribe(api, at(2024, 10, 1), "pro")
    with time_machine.travel(at(2024, 10, 20, 10), tick=False):
        call_command("bill_due", now="2024-11-01T00:05:00Z", stdout=io.StringIO())
    assert terminate(api, at(2024, 10, 25, 10)).status_code == 200
    notes = CreditNote.objects.order_by("total_amount_cents")
    # October: used Oct 1-25, 25/31 x 3,000 = 2,419.35 -> 2,419, so 581 back; November: all of it
    assert [(n.total_amount_cents, n.reason) for n in notes] == [
        (581, "order_cancellation"),
        (3000, "order_cancellation"),
    ]


def test_an_upgrade_credits_even_when_the_subscription_asks_for_refunds(api):
    make_plan("basic", 3000, pay_in_advance=True)
    make_plan("premium", 9000, pay_in_advance=True)
    customer_upsert(data={"external_id": "cust", "currency": "USD"})
    subscribe(api, at(2024, 4, 1), "basic", on_termination_credit_note="refund")
    assert Subscription.objects.get().on_termination_credit_note == "refund"
    basic = Invoice.objects.get()
    body = {"invoice": {"payment_status": "succeeded"}}
    api_call(api, "put", f"invoices/{basic.lago_id}", at(2024, 4, 2), body)
    subscribe(api, at(2024, 4, 16, 12), "premium")
    note = CreditNote.objects.get()
    # Apr 16-30 unused: 1,500, all of it credit for the new plan's invoice, none refunded
    assert (note.total_amount_cents, note.credit_amount_cents, note.refund_amount_cents) == (
        1500,
        1500,
        0,
    )
    assert note.reason == "order_change"


def test_a_note_that_cannot_be_issued_is_logged_never_silent(api, monkeypatch, caplog):
    october(api, None)
    fee = Fee.objects.get(fee_type="subscription")

    def refuse(**kwargs):
        raise RuleViolation("credit_note_conflict", "Another credit note was made at once.")

    monkeypatch.setattr("invoices.services.termination.credit_note_create", refuse)
    with caplog.at_level(logging.WARNING, logger="invoices.services.termination"):
        assert terminate(api, at(2024, 10, 10, 15)).status_code == 200
    assert not CreditNote.objects.exists()
    [record] = [r for r in caplog.records if r.name == "invoices.services.termination"]
    assert record.getMessage() == "termination credit note not issued"
    assert (record.fee, record.amount_cents) == (str(fee.lago_id), 2100)
    assert record.error == "credit_note_conflict: Another credit note was made at once."


def test_only_the_invoice_with_unused_days_gets_a_note(api, caplog):
    # September fully used, October used 1-10: one note, nothing refused or logged
    make_plan("pro", 3000, pay_in_advance=True)
    customer_upsert(data={"external_id": "cust", "currency": "USD"})
    subscribe(api, at(2024, 9, 1), "pro")
    with time_machine.travel(at(2024, 10, 1, 0, 5), tick=False):
        call_command("bill_due", stdout=io.StringIO())
    assert Fee.objects.filter(fee_type="subscription").count() == 2
    with caplog.at_level(logging.WARNING, logger="invoices.services.termination"):
        assert terminate(api, at(2024, 10, 10, 15)).status_code == 200
    # October 11-31: 3,000 - round(10/31 x 3,000 = 967.74) = 3,000 - 968 = 2,032
    assert [n.total_amount_cents for n in CreditNote.objects.all()] == [2032]
    assert not [r for r in caplog.records if r.name == "invoices.services.termination"]


def test_one_unused_cent_is_credited(api):
    # 31 cents for October, a cent a day: terminated October 30, October 31 is given back
    make_plan("penny", 31, pay_in_advance=True)
    customer_upsert(data={"external_id": "cust", "currency": "USD"})
    subscribe(api, at(2024, 10, 1), "penny")
    assert terminate(api, at(2024, 10, 30, 15)).status_code == 200
    assert [n.total_amount_cents for n in CreditNote.objects.all()] == [1]


def test_the_refund_rule_counts_the_fees_coupon_share(api):
    # $1 coupon: 3,100 - 100 = 3,000; $10 prepaid, 2,000 paid. Unused 2,100 of the fee, its
    # coupon share 2,100 x 100 / 3,100 = 67.74: note 2,032. Unpaid share of the fee net of its
    # coupon: 3,000 x 1,000 / 3,000 = 1,000; refund 2,032 - 1,000 = 1,032
    customer_upsert(data={"external_id": "cust", "currency": "USD"})
    coupon_create(
        data={
            "name": "Dollar",
            "code": "dollar",
            "coupon_type": "fixed_amount",
            "amount_cents": 100,
            "amount_currency": "USD",
        }
    )
    with time_machine.travel(at(2024, 9, 30), tick=False):
        applied_coupon_create(data={"external_customer_id": "cust", "coupon_code": "dollar"})
    invoice = october(api, "10")
    assert (invoice.coupons_amount_cents, invoice.total_amount_cents) == (100, 2000)
    assert split_of_termination(api, "refund") == (2032, 1000, 1032, 0)


def test_a_fee_already_credited_in_full_gets_no_note_and_no_warning(api, caplog):
    invoice = october(api, None)
    fee = invoice.fees.get(fee_type="subscription")
    items = [{"fee_id": str(fee.lago_id), "amount_cents": 3100}]
    credit_note_create(data={"invoice_id": str(invoice.lago_id), "items": items})
    with caplog.at_level(logging.WARNING, logger="invoices.services.termination"):
        assert terminate(api, at(2024, 10, 10, 15)).status_code == 200
    assert CreditNote.objects.filter(automatic=True).count() == 0
    assert not [r for r in caplog.records if r.name == "invoices.services.termination"]
