"""Wallet admin: balances summed in SQL (no query per row), top-up page with a one-time key,
terminate action, read-only append-only transactions."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from customers.models import Wallet, WalletTransaction
from customers.wallets import wallet_top_up
from tests.wallets.conftest import balance, new_wallet

pytestmark = pytest.mark.django_db


def changelist_queries(admin_client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(reverse("admin:customers_wallet_changelist"))
    assert response.status_code == 200
    return len(queries)


def test_changelist_shows_balances_without_a_query_per_row(admin_client, customer):
    wallet = new_wallet(granted_credits="12.5")
    wallet_top_up(wallet=wallet, voided_credits="2.5")
    one = changelist_queries(admin_client)
    for n in range(4):
        new_wallet(name=f"w{n}", granted_credits="1")
    assert changelist_queries(admin_client) == one
    page = admin_client.get(reverse("admin:customers_wallet_changelist")).content.decode()
    assert "$10.00" in page
    found = admin_client.get(reverse("admin:customers_wallet_changelist"), {"q": "cust"})
    assert found.status_code == 200 and "w3" in found.content.decode()


def test_change_page_and_top_up_twice_with_the_same_form_adds_once(admin_client, customer):
    wallet = new_wallet(granted_credits="5")
    change = admin_client.get(reverse("admin:customers_wallet_change", args=[wallet.pk]))
    assert change.status_code == 200 and "Top up" in change.content.decode()
    url = reverse("admin:customers_wallet_top_up", args=[wallet.pk])
    form = admin_client.get(url)
    key = form.content.decode().split('name="idempotency_key" value="')[1].split('"')[0]
    assert key.startswith("admin-")
    for _ in range(2):  # a double submit
        response = admin_client.post(url, {"granted_credits": "20", "idempotency_key": key})
        assert response.status_code == 302
    assert balance(wallet) == 25
    assert WalletTransaction.objects.filter(idempotency_key=key).count() == 1
    refused = admin_client.post(url, {"voided_credits": "100", "idempotency_key": "other"})
    assert refused.status_code == 200 and balance(wallet) == 25


def test_terminate_action_voids_the_rest(admin_client, customer):
    wallet = new_wallet(granted_credits="8")
    response = admin_client.post(
        reverse("admin:customers_wallet_changelist"),
        {"action": "terminate_wallets", "_selected_action": [wallet.pk]},
    )
    assert response.status_code == 302
    wallet.refresh_from_db()
    assert wallet.status == "terminated" and balance(wallet) == 0


def test_add_and_edit_go_through_the_services(admin_client, customer):
    add = reverse("admin:customers_wallet_add")
    assert admin_client.get(add).status_code == 200
    response = admin_client.post(
        add,
        {
            "customer": customer.pk,
            "name": "From admin",
            "rate_amount": "2",
            "priority": "5",
            "granted_credits": "4",
        },
    )
    assert response.status_code == 302, response.content.decode()
    wallet = Wallet.objects.get(name="From admin")
    assert (wallet.code, wallet.currency, balance(wallet)) == ("from_admin", "USD", 4)
    change = reverse("admin:customers_wallet_change", args=[wallet.pk])
    inlines = {
        f"{prefix}-{field}": "0"
        for prefix in ("recurring_rules", "transactions")
        for field in ("TOTAL_FORMS", "INITIAL_FORMS")
    }
    response = admin_client.post(
        change, {"name": "Renamed", "code": "from_admin", "priority": "7", **inlines}
    )
    assert response.status_code == 302
    wallet.refresh_from_db()
    assert (wallet.name, wallet.priority) == ("Renamed", 7)


def test_transactions_are_read_only(admin_client, customer):
    wallet = new_wallet(granted_credits="1")
    row = wallet.transactions.get()
    for admin_name in ("wallettransaction", "wallet"):
        listing = reverse(f"admin:customers_{admin_name}_changelist")
        assert admin_client.get(listing).status_code == 200
        assert admin_client.get(listing, {"q": "x"}).status_code == 200
    page = admin_client.get(reverse("admin:customers_wallettransaction_change", args=[row.pk]))
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    delete = reverse("admin:customers_wallettransaction_delete", args=[row.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert WalletTransaction.objects.filter(pk=row.pk).exists()
