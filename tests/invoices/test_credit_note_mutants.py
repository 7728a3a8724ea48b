"""Credit-note amounts that mutation testing found unchecked (docs/testing.md, "Mutation
testing"): what the estimate says may be refunded or offset, the precise total, a refund above
what was paid in money, an offset of a paid invoice, and which part takes the odd minor unit."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine

from core.errors import NotFound, RuleViolation, ValidationFailed
from core.services import organization_update
from customers.services import customer_upsert, subscription_create
from invoices.models import CreditNote, CreditNoteApplication
from invoices.one_off import one_off_invoice_create
from invoices.services import invoice_update, subscription_bill_due
from invoices.services.credit_notes import (
    _split_errors,
    credit_note_balance,
    credit_note_create,
    credit_note_estimate,
    credit_note_void,
    credit_notes_apply,
)
from plans.addons import add_on_create
from taxes.selectors import REVERSE_CHARGE_MENTION
from taxes.services import tax_create
from tests.billing_clock import run_beat, send, subscribe
from tests.factories import make_metric, make_plan, standard_charge

pytestmark = pytest.mark.django_db


def at(*args):
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def subscription():
    make_plan("pro", 10000)
    with time_machine.travel(at(2024, 4, 1), tick=False):
        return subscription_create(
            data={"external_customer_id": "cust", "plan_code": "pro", "external_id": "sub"}
        )


def bill(subscription, moment):
    [invoice] = subscription_bill_due(subscription_id=subscription.pk, now=moment)
    return invoice


@pytest.fixture
def april(subscription):
    """A finalized $100.00 invoice for April (base fee in arrears), unpaid."""
    return bill(subscription, at(2024, 5, 1, 0, 1))


def items(invoice, amount):
    return [{"fee_id": str(invoice.fees.get().lago_id), "amount_cents": amount}]


def note(invoice, amount, **split):
    data = {"invoice_id": str(invoice.lago_id), "items": items(invoice, amount), **split}
    return credit_note_create(data=data)


def test_the_estimate_limits_of_an_unpaid_then_a_paid_invoice(april):
    unpaid = credit_note_estimate(invoice=april, items=items(april, 4000))
    assert (unpaid.total, unpaid.precise_total) == (4000, Decimal(4000))
    assert (unpaid.max_refundable, unpaid.max_offsettable) == (0, 4000)
    invoice_update(invoice=april, data={"payment_status": "succeeded"})
    april.refresh_from_db()
    paid = credit_note_estimate(invoice=april, items=items(april, 4000))
    assert (paid.max_refundable, paid.max_offsettable) == (4000, 0)


def test_an_offset_of_a_paid_invoice_is_refused(april):
    invoice_update(invoice=april, data={"payment_status": "succeeded"})
    with pytest.raises(ValidationFailed) as error:
        note(april, 1000, offset_amount_cents=1000)
    assert error.value.errors == {"offset_amount_cents": ["higher_than_remaining_invoice_amount"]}


def test_only_what_was_paid_in_money_can_be_refunded(subscription, april):
    note(april, 3000)  # $30 of credit, consumed by May
    may = bill(subscription, at(2024, 6, 1, 0, 1))
    assert (may.fees_amount_cents, may.total_amount_cents) == (10000, 7000)
    invoice_update(invoice=may, data={"payment_status": "succeeded"})
    with pytest.raises(ValidationFailed) as error:
        note(may, 10000, refund_amount_cents=10000)
    assert error.value.errors == {"refund_amount_cents": ["higher_than_remaining_invoice_amount"]}
    refunded = note(may, 10000, refund_amount_cents=7000, credit_amount_cents=3000)
    assert (refunded.refund_amount_cents, refunded.credit_amount_cents) == (7000, 3000)


def test_the_first_non_zero_part_takes_the_odd_minor_unit(april):
    invoice_update(invoice=april, data={"payment_status": "succeeded"})
    # 3,333 asked as 0 credit + 3,332 refund: the refund (first non-zero part) takes the cent
    first = note(april, 3333, credit_amount_cents=0, refund_amount_cents=3332)
    assert (first.credit_amount_cents, first.refund_amount_cents) == (0, 3333)
    # 3,333 asked as 1 credit + 3,331 refund: the credit (non-zero, if only 1) takes it
    second = note(april, 3333, credit_amount_cents=1, refund_amount_cents=3331)
    assert (second.credit_amount_cents, second.refund_amount_cents) == (2, 3331)


def test_the_split_bounds_one_minor_unit_of_tolerance_included(april):
    """Lago's ValidateService on amounts to store. Through the API the item checks come first
    and keep these bounds out of reach, so they are checked on the validator itself."""
    note(april, 3000)  # credit 3,000
    note(april, 2000, offset_amount_cents=2000)  # offset 2,000
    april.refresh_from_db()
    estimate = credit_note_estimate(invoice=april, items=items(april, 1000))
    # creditable: 10,000 - 3,000 credited - 2,000 offset = 5,000 (+ 1 tolerated); what is left
    # of the invoice: 10,000 - 5,000 = 5,000 (+ 1); still owed and not offset: 8,000
    assert _split_errors(estimate, 5001, 0, 0) == {}
    too_much = "higher_than_remaining_invoice_amount"
    assert _split_errors(estimate, 5002, 0, 0) == {
        "credit_amount_cents": [too_much],
        "base": [too_much],
    }
    assert _split_errors(estimate, 0, 0, 5000) == {}
    assert _split_errors(estimate, 0, 0, 5001) == {"offset_amount_cents": [too_much]}
    assert _split_errors(estimate, 2000, 0, 3001) == {}
    assert _split_errors(estimate, 2000, 0, 3002) == {"base": [too_much]}
    assert _split_errors(estimate, 0, 1, 0) == {
        "refund_amount_cents": ["cannot_refund_unpaid_invoice"]
    }


def test_the_refund_bound_after_an_earlier_refund(april):
    invoice_update(invoice=april, data={"payment_status": "succeeded"})
    note(april, 3000, refund_amount_cents=3000)
    april.refresh_from_db()
    estimate = credit_note_estimate(invoice=april, items=items(april, 1000))
    assert estimate.refundable == 7000
    too_much = "higher_than_remaining_invoice_amount"
    assert _split_errors(estimate, 0, 7000, 0) == {}
    assert _split_errors(estimate, 0, 7001, 0) == {"refund_amount_cents": [too_much]}
    # what is left of the invoice: 10,000 - 3,000 refunded (+ 1)
    assert _split_errors(estimate, 0, 7002, 0) == {
        "refund_amount_cents": [too_much],
        "base": [too_much],
    }


def test_what_an_earlier_offset_leaves_to_offset(subscription, april):
    note(april, 3000)  # $30 of credit, consumed by May: $70 due on May's $100
    may = bill(subscription, at(2024, 6, 1, 0, 1))
    note(may, 2000, offset_amount_cents=2000)
    may.refresh_from_db()
    estimate = credit_note_estimate(invoice=may, items=items(may, 8000))
    # owed 7,000 - 2,000 already offset = 5,000 (the fees still allow 8,000)
    assert (estimate.offsettable, estimate.max_offsettable) == (5000, 5000)


def test_a_voided_or_refund_only_note_has_no_balance(april):
    credit = note(april, 1000)
    assert credit_note_balance(credit) == 1000
    credit_note_void(note=credit)
    credit.refresh_from_db()
    assert credit_note_balance(credit) == 0
    invoice_update(invoice=april, data={"payment_status": "succeeded"})
    refund_only = note(april, 1000, refund_amount_cents=1000)
    assert (refund_only.credit_status, credit_note_balance(refund_only)) == ("", 0)


def test_the_notes_tax_lines_carry_the_invoices_name_and_mention():
    organization_update(data={"name": "Demo AI SAS", "country": "FR"})
    make_plan("pro_eur", 10000, currency="EUR")
    customer_upsert(
        data={
            "external_id": "cust",
            "currency": "EUR",
            "country": "DE",
            "customer_type": "company",
            "tax_identification_number": "DE136695976",
        }
    )
    with time_machine.travel(at(2024, 4, 1), tick=False):
        subscription = subscription_create(
            data={"external_customer_id": "cust", "plan_code": "pro_eur", "external_id": "sub"}
        )
    april = bill(subscription, at(2024, 5, 1, 0, 1))
    credited = note(april, 4000)
    assert list(
        credited.applied_taxes.values_list(
            "tax_code",
            "tax_name",
            "tax_rate",
            "tax_description",
            "base_amount_cents",
            "amount_cents",
        )
    ) == [
        (
            "vat_reverse_charge",
            "VAT reverse charge",
            Decimal(0),
            REVERSE_CHARGE_MENTION,
            4000,
            0,
        )
    ]


@pytest.mark.parametrize("value", [-1, "100", True, 1.5])
def test_a_split_amount_must_be_a_non_negative_integer(april, value):
    with pytest.raises(ValidationFailed) as error:
        note(april, 1000, credit_amount_cents=value)
    assert error.value.errors == {"credit_amount_cents": ["value_is_invalid"]}


def test_an_estimate_of_nothing_has_no_tax_rate(april):
    assert credit_note_estimate(invoice=april, items=items(april, 0)).taxes_rate == 0


def taxed_invoice(rate: str):
    """A finalized invoice of a $100.00 base fee and $10.00 of calls, both taxed at `rate` %."""
    tax_create(data={"code": "custom", "name": "Custom", "rate": rate})
    customer_upsert(data={"external_id": "cust", "currency": "USD", "tax_codes": ["custom"]})
    calls = make_metric("calls")
    make_plan("taxed", 10000, charges=[standard_charge(calls, "1")])
    subscribe(at(2025, 1, 1), "taxed")
    send(at(2025, 1, 10), "calls", 10)
    [january] = run_beat(at(2025, 2, 1, 0, 5))
    return january


def fee_items(invoice, *amounts):
    fees = invoice.fees.order_by("amount_cents")
    return [
        {"fee_id": str(f.lago_id), "amount_cents": a} for f, a in zip(fees, amounts, strict=True)
    ]


def test_one_tax_over_two_fees_is_on_both_items():
    january = taxed_invoice("10")
    estimate = credit_note_estimate(invoice=january, items=fee_items(january, 500, 2000))
    # 10 % of 500 + 2,000
    [tax] = estimate.applied_taxes
    assert (tax.base_amount_cents, tax.amount_cents, estimate.taxes) == (2500, 250, 250)
    assert estimate.precise_total == Decimal(2750)


def test_a_partial_note_does_not_take_back_the_earlier_rounding():
    january = taxed_invoice("19")
    data = {"invoice_id": str(january.lago_id)}
    first = credit_note_create(data=data | {"items": fee_items(january, 3, 0)})
    # 19 % of 3 = 0.57 -> 1
    assert (first.taxes_amount_cents, first.precise_taxes_amount_cents) == (1, Decimal("0.57"))
    # 19 % of 50 = 9.5 -> 10: not the last note, the 0.43 given back stays
    second = credit_note_estimate(invoice=january, items=fee_items(january, 50, 0))
    assert second.taxes == 10


def test_the_last_cent_takes_back_the_earlier_rounding():
    january = taxed_invoice("50")
    data = {"invoice_id": str(january.lago_id)}
    credit_note_create(data=data | {"items": fee_items(january, 999, 10000)})
    # 50 % of 10,999 = 5,499.5 -> 5,500; the last cent's 0.5 of tax is what was given back
    last = credit_note_estimate(invoice=january, items=fee_items(january, 1, 0))
    assert last.taxes == 0


def test_an_item_without_an_amount_is_zero_and_an_infinite_one_is_refused(april):
    fee_id = str(april.fees.get().lago_id)
    estimate = credit_note_estimate(
        invoice=april, items=[{"fee_id": fee_id, "amount_cents": None}, *items(april, 700)]
    )
    assert [item.amount_cents for item in estimate.items] == [0, 700]
    assert estimate.total == 700
    with pytest.raises(ValidationFailed) as error:
        credit_note_estimate(
            invoice=april, items=[{"fee_id": fee_id, "amount_cents": Decimal("Infinity")}]
        )
    assert error.value.errors == {"amount_cents": ["invalid_value"]}


def test_a_note_of_one_cent(april):
    assert note(april, 1).credit_amount_cents == 1


def test_a_free_fee_has_no_coupon_share():
    customer_upsert(data={"external_id": "acme", "currency": "USD"})
    add_on_create(
        data={"name": "GPU", "code": "gpu", "amount_cents": 1500, "amount_currency": "USD"}
    )
    add_on_create(
        data={"name": "Setup", "code": "setup", "amount_cents": 0, "amount_currency": "USD"}
    )
    invoice = one_off_invoice_create(
        data={
            "external_customer_id": "acme",
            "currency": "USD",
            "fees": [{"add_on_code": "gpu"}, {"add_on_code": "setup"}],
        },
        now=at(2024, 6, 3, 12),
    )
    assert invoice.status == "finalized"
    fees = {f.amount_cents: str(f.lago_id) for f in invoice.fees.all()}
    estimate = credit_note_estimate(
        invoice=invoice,
        items=[
            {"fee_id": fees[0], "amount_cents": 0},
            {"fee_id": fees[1500], "amount_cents": 1000},
        ],
    )
    assert (estimate.coupons_adjustment, estimate.total) == (0, 1000)


def test_items_must_be_fee_objects_and_items_of_one_fee_add_up(april):
    with pytest.raises(NotFound):
        credit_note_estimate(invoice=april, items=["not an item"])
    with pytest.raises(ValidationFailed) as error:
        credit_note_estimate(invoice=april, items=items(april, 6000) + items(april, 5000))
    assert error.value.errors == {"amount_cents": ["higher_than_remaining_fee_amount"]}


def test_an_invoice_settled_by_credit_is_creditable_only_automatically(subscription, april):
    note(april, 10000)  # consumed whole by May: nothing due on May
    may = bill(subscription, at(2024, 6, 1, 0, 1))
    assert (may.fees_amount_cents, may.total_amount_cents) == (10000, 0)
    with pytest.raises(RuleViolation):
        credit_note_estimate(invoice=may, items=items(may, 1000))
    assert credit_note_estimate(invoice=may, items=items(may, 1000), automatic=True).total == 1000


def test_credit_is_applied_once_per_invoice_down_to_one_cent(subscription, april):
    available = note(april, 5000)
    draft = bill(subscription, at(2024, 6, 1, 0, 1))
    CreditNoteApplication.objects.filter(invoice=draft).delete()  # as if not applied yet
    available.credit_status = "available"
    available.save(update_fields=["credit_status"])
    assert credit_notes_apply(invoice=draft, amount_due=1) == 1
    assert credit_notes_apply(invoice=draft, amount_due=4000) == 1  # already applied: the same
    assert credit_note_balance(available) == 4999


def test_credit_is_not_applied_to_a_one_off_invoice(april):
    note(april, 5000)
    add_on_create(
        data={"name": "GPU", "code": "gpu", "amount_cents": 1500, "amount_currency": "USD"}
    )
    one_off = one_off_invoice_create(
        data={"external_customer_id": "cust", "currency": "USD", "fees": [{"add_on_code": "gpu"}]},
        now=at(2024, 6, 3, 12),
    )
    assert credit_notes_apply(invoice=one_off, amount_due=1500) == 0


def test_own_credit_oldest_first_up_to_the_amount_due(subscription, april):
    first, second = note(april, 6000), note(april, 4000)
    may = bill(subscription, at(2024, 6, 1, 0, 1))
    CreditNoteApplication.objects.filter(invoice=may).delete()  # as if not applied yet
    CreditNote.objects.filter(pk__in=[first.pk, second.pk]).update(credit_status="available")
    customer_upsert(data={"external_id": "other", "currency": "USD"})
    with time_machine.travel(at(2024, 4, 1), tick=False):
        theirs_subscription = subscription_create(
            data={"external_customer_id": "other", "plan_code": "pro", "external_id": "sub_other"}
        )
    theirs = note(bill(theirs_subscription, at(2024, 5, 1, 0, 1)), 9000)
    CreditNote.objects.filter(pk=theirs.pk).update(created_at=at(2024, 5, 1))  # the oldest
    # 7,000 due: 6,000 from the first note, 1,000 from the second; the other customer's untouched
    assert credit_notes_apply(invoice=may, amount_due=7000) == 7000
    assert [credit_note_balance(n) for n in (theirs, first, second)] == [9000, 0, 3000]


@pytest.mark.parametrize("amount", [Decimal("NaN"), Decimal("sNaN"), Decimal("-Infinity"), -1])
def test_a_not_a_number_or_negative_amount_is_refused_not_a_crash(april, amount):
    # a NaN item amount used to raise decimal.InvalidOperation (its `< 0` check ran first)
    fee_id = str(april.fees.get().lago_id)
    with pytest.raises(ValidationFailed) as error:
        credit_note_estimate(invoice=april, items=[{"fee_id": fee_id, "amount_cents": amount}])
    assert error.value.errors == {"amount_cents": ["invalid_value"]}
