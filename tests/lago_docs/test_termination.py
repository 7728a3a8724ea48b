"""Lago's "Terminate a subscription" page: the closing invoice (in-arrears fee and outstanding
usage, or none with on_termination_invoice=skip), the closing credit note for the unused days of
a fee paid in advance (credit by default, skip, offset, refund), and pending subscriptions.

The page states the rules without amounts; each test applies them to a $30/month plan in April
2024 (30 days) terminated on April 10th at 15:00. The termination day counts as used (Lago's
CreditNotes::CreateFromTermination bills from the end of the termination day), so 20 days
(April 11th-30th) are unused: $20."""

import pytest

from tests.lago_docs.conftest import at, fees_by_type

pytestmark = pytest.mark.django_db

TERMINATION = at(2024, 4, 10, 15)


def _subscribe(lago, pay_in_advance):
    lago.metric("tokens", "sum_agg", "tokens")
    lago.customer()
    charge = lago.charge("tokens", "standard", {"amount": "0.01"})
    lago.plan("pro", 3000, charges=[charge], pay_in_advance=pay_in_advance)
    lago.subscribe(at(2024, 4, 1), "pro")
    lago.event(at(2024, 4, 3), "tokens", {"tokens": 500})


def test_closing_invoice_for_the_arrears_fee_and_the_usage(lago):
    """https://getlago.com/docs/guide/subscriptions/terminate-subscription#generate-a-closing-invoice-at-subscription-termination

    By default Lago generates a closing invoice for outstanding usage-based charges and
    pay-in-arrears subscription fees: April 1st-10th = 10/30 x $30 = $10 of fee and 500 tokens
    x $0.01 = $5 of usage; nothing more at the period's end.
    """
    _subscribe(lago, pay_in_advance=False)
    terminated = lago.terminate(TERMINATION)
    assert terminated["status"] == "terminated"
    [closing] = lago.invoices()
    assert fees_by_type(closing) == {"tokens": 500, "subscription": 1000}
    assert closing["billing_periods"][0]["invoicing_reason"] == "subscription_terminating"
    lago.beat(at(2024, 5, 1, 0, 5))
    assert len(lago.invoices()) == 1


def test_on_termination_invoice_skip_makes_no_closing_invoice(lago):
    """https://getlago.com/docs/guide/subscriptions/terminate-subscription#generate-a-closing-invoice-at-subscription-termination

    DELETE /api/v1/subscriptions/{id}?on_termination_invoice=skip: no invoice at termination
    (nor later).
    """
    _subscribe(lago, pay_in_advance=False)
    lago.terminate(TERMINATION, query="?on_termination_invoice=skip")
    lago.beat(at(2024, 5, 1, 0, 5))
    assert lago.invoices() == []


def test_fee_paid_in_advance_credits_the_unused_days(lago):
    """https://getlago.com/docs/guide/subscriptions/terminate-subscription#generate-a-closing-credit-note-at-subscription-termination

    If the subscription fee was paid in advance, Lago issues a credit note for the unused days
    (Credit, the default: credited back to the customer): $30 invoiced on April 1st, terminated
    April 10th -> a credit note of 20/30 x $30 = $20 (2000 cents) on the April 1st invoice; the
    closing invoice bills the usage ($5) only.
    """
    _subscribe(lago, pay_in_advance=True)
    [advance] = lago.invoices()
    assert fees_by_type(advance) == {"subscription": 3000}
    lago.terminate(TERMINATION)
    [note] = lago.credit_notes()
    assert note["lago_invoice_id"] == advance["lago_id"]
    assert (note["total_amount_cents"], note["credit_amount_cents"]) == (2000, 2000)
    assert note["credit_status"] == "available"
    closing = lago.invoices()[-1]
    assert fees_by_type(closing) == {"tokens": 500}


def test_on_termination_credit_note_skip(lago):
    """https://getlago.com/docs/guide/subscriptions/terminate-subscription#generate-a-closing-credit-note-at-subscription-termination

    ?on_termination_credit_note=skip: no credit note for the unused days.
    """
    _subscribe(lago, pay_in_advance=True)
    lago.terminate(TERMINATION, query="?on_termination_credit_note=skip")
    assert lago.credit_notes() == []


def test_on_termination_credit_note_offset_reduces_the_amount_due(lago):
    """https://getlago.com/docs/guide/subscriptions/terminate-subscription#generate-a-closing-credit-note-at-subscription-termination

    Offset: the unused due amount is offset against the invoice, reducing what remains due. The
    April 1st invoice ($30, unpaid) is offset by the 20 unused days: $20 -> $10 left due.
    """
    _subscribe(lago, pay_in_advance=True)
    [advance] = lago.invoices()
    lago.terminate(TERMINATION, query="?on_termination_credit_note=offset")
    [note] = lago.credit_notes()
    assert (note["offset_amount_cents"], note["credit_amount_cents"]) == (2000, 0)
    assert lago.invoice(advance["lago_id"])["total_due_amount_cents"] == 1000


def test_on_termination_credit_note_refund_of_a_paid_invoice(lago):
    """https://getlago.com/docs/guide/subscriptions/terminate-subscription#generate-a-closing-credit-note-at-subscription-termination

    Refund: if the invoice is paid, the unused paid amount is refunded. The April 1st invoice
    ($30) marked paid, then terminated on April 10th -> a credit note refunding $20.
    """
    _subscribe(lago, pay_in_advance=True)
    [advance] = lago.invoices()
    response = lago.api.put(
        f"/api/v1/invoices/{advance['lago_id']}",
        {"invoice": {"payment_status": "succeeded"}},
        format="json",
    )
    assert response.status_code == 200
    lago.terminate(TERMINATION, query="?on_termination_credit_note=refund")
    [note] = lago.credit_notes()
    assert (note["refund_amount_cents"], note["credit_amount_cents"]) == (2000, 0)


def test_terminate_a_pending_subscription(lago):
    """https://getlago.com/docs/guide/subscriptions/terminate-subscription#terminate-a-pending-subscription

    DELETE /api/v1/subscriptions/{id}?status=pending cancels a pending subscription (here one
    starting June 1st, 2024); it never bills.
    """
    lago.customer()
    lago.plan("pro", 3000, pay_in_advance=True)
    lago.subscribe(at(2024, 5, 20), "pro", subscription_at="2024-06-01T00:00:00Z")
    canceled = lago.terminate(at(2024, 5, 21), query="?status=pending")
    assert canceled["status"] == "canceled"
    lago.beat(at(2024, 6, 1, 0, 5))
    assert lago.invoices() == []
