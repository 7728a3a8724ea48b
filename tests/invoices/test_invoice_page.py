"""The invoice's admin page (issue 18): its lines as the PDF shows them (tiers included), the
deductions in order, payments, webhooks and credit notes, and from each usage fee a link to
exactly the events it priced."""

import html
import re
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from customers.services import customer_upsert
from invoices.invoice_page import ALL_VALUES, fee_events_query
from invoices.services.credit_notes import credit_note_create
from plans.models import ChargeFilter
from tests.billing_clock import at, run_beat, send, subscribe
from tests.factories import make_metric, make_plan, standard_charge
from tests.invoices.test_document_breakdown import THREE_TIERS
from usage.services import events_ingest
from webhooks.models import WebhookEndpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoice():
    customer_upsert(data={"external_id": "cust", "currency": "USD"})
    return january_invoice()


def january_invoice():
    """Customer "cust" (created by the caller) billed for January: a graduated charge over
    three tiers and a standard one, with other events around that are not its fee's."""
    WebhookEndpoint.objects.create(webhook_url="http://127.0.0.1:9/hooks")
    customer_upsert(data={"external_id": "other", "currency": "USD"})
    calls, other = make_metric("calls"), make_metric("storage")
    graduated = {
        "billable_metric_id": str(calls.lago_id),
        "charge_model": "graduated",
        "properties": THREE_TIERS,
    }
    make_plan("usage", 0, charges=[graduated, standard_charge(other, "1")])
    subscribe(at(2025, 1, 1), "usage")
    subscribe(at(2025, 1, 1), "usage", external_id="theirs", customer="other")
    send(at(2025, 1, 1), "calls", 5000)  # the period's first instant: in
    send(at(2025, 1, 20, 9), "calls", 7000)
    send(at(2025, 1, 20, 9), "storage", 3)  # another metric
    send(at(2025, 1, 21), "calls", 900, external_id="theirs")  # another subscription
    mine = [i for i in run_beat(at(2025, 2, 1, 0, 5)) if i.customer.external_id == "cust"]
    send(at(2025, 2, 1), "calls", 1)  # the next period's first instant: out
    return mine[0]


def _page(admin_client, invoice) -> str:
    url = reverse("admin:invoices_invoice_change", args=[invoice.pk])
    response = admin_client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def _cells(page: str, testid: str) -> list[list[str]]:
    rows = re.findall(rf'<tr[^>]*data-testid="{testid}"[^>]*>(.*?)</tr>', page, re.S)
    return [
        [html.unescape(re.sub(r"<[^>]+>|\s+(?=\s)", "", c)).strip() for c in cells]
        for cells in (re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in rows)
    ]


def test_the_page_shows_the_lines_as_the_pdf_with_each_tier(admin_client, invoice):
    page = _page(admin_client, invoice)
    fees = _cells(page, "fee-line")
    assert ["Calls", "12,000", "", "$130.00", "2 events →"] in fees
    assert ["Storage", "3", "$1.00", "$3.00", "1 event →"] in fees
    assert _cells(page, "fee-breakdown") == [
        ["Units 0 \u2013 1,000", "1,000", "$0.00", "$0.00", ""],
        ["Units 1,001 \u2013 5,000", "4,000", "$0.02", "$80.00", ""],
        ["Flat fee (Units 1,001 \u2013 5,000)", "1", "$10.00", "$10.00", ""],
        ["Units from 5,001", "7,000", "$0.005", "$35.00", ""],
        ["Flat fee (Units from 5,001)", "1", "$5.00", "$5.00", ""],
    ]
    assert "Amount due" in page and "$133.00" in page
    assert "Nothing deducted." in page
    assert "No credit note on this invoice." in page
    assert "Payment attempts" in page  # the payments app's section, through the hook
    assert "$0.010833" not in page  # no blended unit price, in the fees' inline either
    assert "invoice.created" in page  # the webhook sent about it


def test_the_drill_down_lists_exactly_the_events_of_the_fee(admin_client, invoice):
    fee = invoice.fees.get(charge__billable_metric__code="calls")
    page = _page(admin_client, invoice)
    links = re.findall(r'<a href="([^"]+)" data-testid="fee-events">', page)
    [link] = [html.unescape(u) for u in links if "code=calls" in html.unescape(u)]
    assert link.startswith(reverse("admin:usage_event_changelist") + "?")
    listing = admin_client.get(link)
    assert listing.status_code == 200
    body = listing.content.decode()
    shown = re.findall(r'<th class="field-transaction_id"><a [^>]*>([^<]+)</a>', body)
    assert sorted(shown) == sorted(
        [
            f"sub-calls-{at(2025, 1, 1).isoformat()}-5000",
            f"sub-calls-{at(2025, 1, 20, 9).isoformat()}-7000",
        ]
    )
    assert len(shown) == fee.events_count
    assert "2025-01-01 00:00 UTC → 2025-02-01 00:00 UTC" in body  # the period, as a filter


def test_fees_without_events_have_no_drill_down(invoice):
    base_and_true_ups = invoice.fees.exclude(fee_type="charge")
    assert all(fee_events_query(fee) is None for fee in base_and_true_ups)


def test_credit_notes_issued_and_consumed_in_order(admin_client, invoice):
    calls = invoice.fees.get(charge__billable_metric__code="calls")
    note = credit_note_create(
        data={
            "invoice_id": str(invoice.lago_id),
            "reason": "other",
            "items": [{"fee_id": str(calls.lago_id), "amount_cents": 3000}],
        }
    )
    january = _page(admin_client, invoice)
    assert note.number in january and "No credit note on this invoice." not in january
    send(at(2025, 2, 10), "storage", 50)  # February: $50 of storage, $30 of it credited
    [february] = [i for i in run_beat(at(2025, 3, 1, 0, 5)) if i.customer.external_id == "cust"]
    assert (february.credit_notes_amount_cents, february.total_amount_cents) == (3000, 2000)
    deductions = _cells(_page(admin_client, february), "deduction")
    assert deductions == [
        ["Credit note", f"{note.number} (credit from invoice {invoice})", "-$30.00"]
    ]


def test_a_filtered_fee_drills_down_to_the_events_of_its_filter(admin_client, invoice):
    # a fee of the charge's filter {region: eu|us, tier: any} and pricing group {tier: gold}
    fee = invoice.fees.get(charge__billable_metric__code="calls")
    fee.charge_filter = ChargeFilter(values={"region": ["eu", "us"], "tier": [ALL_VALUES]})
    fee.grouped_by = {"tier": "gold"}
    query = fee_events_query(fee)
    assert (query["properties__region__in"], query["properties__tier"]) == ("eu,us", "gold")
    assert query["properties__tier__isnull"] == "0"  # the filter's "any value" of a key
    raws = [
        ("eu-gold", {"region": "eu", "tier": "gold"}),
        ("us-gold", {"region": "us", "tier": "gold"}),
        ("asia-gold", {"region": "asia", "tier": "gold"}),
        ("eu-free", {"region": "eu", "tier": "free"}),
        ("eu-none", {"region": "eu"}),
    ]
    events_ingest(
        raws=[
            {
                "transaction_id": name,
                "external_subscription_id": "sub",
                "code": "calls",
                "timestamp": at(2025, 1, 15).isoformat(),
                "properties": {"value": 1, **properties},
            }
            for name, properties in raws
        ],
        now=at(2025, 1, 15),
    )
    url = reverse("admin:usage_event_changelist") + "?" + urlencode(query)
    body = admin_client.get(url).content.decode()
    shown = re.findall(r'<th class="field-transaction_id"><a [^>]*>([^<]+)</a>', body)
    assert sorted(shown) == ["eu-gold", "us-gold"]
