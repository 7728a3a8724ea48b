"""What the portal shows: the same numbers as the API, one customer's invoices and credits,
billing details edited and audited, a top-up request, pay now."""

import re

import pytest
from babel.numbers import format_decimal

from core.models import AuditEntry
from customers.models import WalletTransaction
from invoices.models import Invoice
from tests.portal.world import portal_user

pytestmark = pytest.mark.django_db


def by_testid(html: str, name: str) -> list[str]:
    return [
        re.sub(r"<[^>]+>", "", value).strip()
        for value in re.findall(rf'data-testid="{name}"[^>]*>(.*?)</', html, flags=re.S)
    ]


def money(cents: int) -> str:
    return f"${cents / 100:,.2f}"  # test display only; amounts are compared as the page shows


def test_overview_shows_the_apis_current_usage(acme_client, api):
    usage = api.get(
        "/api/v1/customers/acme/current_usage?external_subscription_id=acme_main"
    ).json()["customer_usage"]
    projected = api.get(
        "/api/v1/customers/acme/projected_usage?external_subscription_id=acme_main"
    ).json()["customer_projected_usage"]
    html = acme_client.get("/portal/").content.decode()
    assert by_testid(html, "units") == [
        format_decimal(c["units"], locale="en") for c in usage["charges_usage"]
    ]
    assert by_testid(html, "amount") == [money(c["amount_cents"]) for c in usage["charges_usage"]]
    assert by_testid(html, "amount-so-far") == [money(usage["amount_cents"])]
    assert by_testid(html, "projected-amount") == [money(projected["projected_amount_cents"])]
    assert "570,000 of 1,000,000 included" in html  # small model: 1M free; gpt-4: none
    assert '<progress max="1000000" value="570000"' in html
    assert html.count("<svg") == 2  # a daily chart per metric


def test_usage_page_breaks_down_by_filter_and_shows_past_periods(acme_client, world):
    html = acme_client.get("/portal/usage").content.decode()
    assert "GPT-4 tokens" in html and "570,000" in html
    past = acme_client.get("/portal/usage?subscription=acme_main&period=1").content.decode()
    fees = world.acme_invoice.fees.filter(fee_type="charge")
    usage_total = sum(fee.amount_cents for fee in fees)
    assert by_testid(past, "period-amount") == [money(usage_total)]
    assert "Apr 1, 2024" in past
    assert acme_client.get("/portal/usage?period=9").status_code == 404


def test_invoices_list_shows_issued_invoices_and_the_pdf(acme_client, world):
    Invoice.objects.filter(pk=world.acme_invoice.pk).update(status="draft")
    assert world.acme_invoice.number not in acme_client.get("/portal/invoices").content.decode()
    Invoice.objects.filter(pk=world.acme_invoice.pk).update(status="finalized")
    html = acme_client.get("/portal/invoices").content.decode()
    assert world.acme_invoice.number in html
    detail = acme_client.get(f"/portal/invoices/{world.acme_invoice.lago_id}").content.decode()
    assert by_testid(detail, "total") == [money(world.acme_invoice.total_amount_cents)]
    assert "Pay now" not in detail  # Stripe is off
    pdf = acme_client.get(f"/portal/invoices/{world.acme_invoice.lago_id}/pdf")
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


def test_billing_details_are_saved_and_audited(acme_client, world):
    form = acme_client.get("/portal/billing-details").content.decode()
    assert 'value="billing@acme.example"' in form
    response = acme_client.post(
        "/portal/billing-details",
        {
            "email": "ap@acme.example",
            "legal_name": "Acme AI GmbH",
            "tax_identification_number": "DE 136695976",
            "address_line1": "Unter den Linden 1",
            "city": "Berlin",
            "zipcode": "10117",
            "country": "de",
        },
    )
    assert response.status_code == 302
    world.acme.refresh_from_db()
    assert (world.acme.country, world.acme.tax_identification_number) == ("DE", "DE136695976")
    entry = AuditEntry.objects.get(object_type="customers.customer", action="updated")
    assert (entry.actor, entry.source) == ("portal:ap@acme.example", "portal")
    assert entry.reason == "billing details edited in the portal"
    assert entry.object_id == str(world.acme.pk)
    assert entry.changes["country"] == ["US", "DE"]
    assert entry.changes["legal_name"] == [None, "(personal data)"]  # changed, value not kept
    page = acme_client.get("/portal/billing-details").content.decode()
    assert by_testid(page, "address-line") == ["Unter den Linden 1", "10117 Berlin", "Germany"]


def test_billing_details_show_a_us_address_the_us_way(acme_client, world):
    world.acme.address_line1, world.acme.city = "1 Market Street", "San Francisco"
    world.acme.state, world.acme.zipcode, world.acme.country = "CA", "94105", "US"
    world.acme.save()
    page = acme_client.get("/portal/billing-details").content.decode()
    assert by_testid(page, "address-line") == [
        "1 Market Street",
        "San Francisco, CA 94105",
        "United States",
    ]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("tax_identification_number", "DE123", "This VAT number is not valid for the country."),
        ("email", "not-an-address", "This is not a valid value."),
        ("country", "XX", ""),
    ],
)
def test_bad_billing_details_are_refused_and_nothing_changes(
    acme_client, world, field, value, message
):
    data = {"email": "ap@acme.example", "country": "DE", field: value}
    response = acme_client.post("/portal/billing-details", data)
    assert response.status_code == 422
    assert message in response.content.decode()
    world.acme.refresh_from_db()
    assert world.acme.email == "billing@acme.example"
    assert not AuditEntry.objects.filter(
        object_type="customers.customer", action="updated"
    ).exists()


def test_a_top_up_request_invoices_paid_credits(acme_client, world, settings):
    wallet = world.acme.wallets.get()
    response = acme_client.post(f"/portal/credits/{wallet.lago_id}/top-up", {"credits": "40"})
    assert response.status_code == 302
    purchase = WalletTransaction.objects.get(wallet=wallet, transaction_status="purchased")
    assert (purchase.status, purchase.credit_amount) == ("pending", 40)
    assert purchase.invoice.invoice_type == "credit"
    top_up = AuditEntry.objects.get(
        object_type="customers.wallettransaction", action="created", object_id=str(purchase.pk)
    )
    assert (top_up.actor, top_up.reason) == (
        "portal:ap@acme.example",
        "top-up requested in the portal",
    )
    settings.PORTAL_WALLET_TOP_UP = False
    acme_client.post(f"/portal/credits/{wallet.lago_id}/top-up", {"credits": "40"})
    assert WalletTransaction.objects.filter(transaction_status="purchased").count() == 1
    html = acme_client.get("/portal/credits").content.decode()
    assert "Request a top-up" not in html and "Pending payment" in html


def test_two_users_of_one_customer_see_the_same_customer(client, world, at_now):
    portal_user(world.acme, "cfo@acme.example")
    client.post(
        "/portal/login",
        {"username": "cfo@acme.example", "password": "correct horse battery staple 7"},
    )
    assert world.acme_invoice.number in client.get("/portal/invoices").content.decode()


def test_a_metric_with_no_usage_yet_says_so_instead_of_an_empty_chart(client, at_now, world):
    # Other Corp used nothing this month; Acme used every metric.
    portal_user(world.other, "second@other.example")
    client.post(
        "/portal/login",
        {"username": "second@other.example", "password": "correct horse battery staple 7"},
    )
    html = client.get("/portal/").content.decode()
    assert '<svg class="bars"' not in html
    empty = by_testid(html, "chart-empty")
    assert len(empty) == html.count('<figure class="chart">') > 0
    assert set(empty) == {"Pas encore de consommation sur cette période."}  # Other reads French


def test_metrics_with_usage_draw_their_chart(acme_client):
    html = acme_client.get("/portal/").content.decode()
    assert 'data-testid="chart-empty"' not in html
    assert html.count('<svg class="bars"') == html.count('<figure class="chart">') > 0
