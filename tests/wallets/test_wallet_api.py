"""Wallets and wallet transactions over /api/v1, parsed by lago-python-client's own models (and
one round trip with the real client)."""

import pytest
from lago_python_client import Client
from lago_python_client.models import Wallet
from lago_python_client.models.wallet import WalletResponse
from lago_python_client.models.wallet_transaction import (
    WalletTransaction as ClientTransaction,
)
from lago_python_client.models.wallet_transaction import WalletTransactionResponse

from core.services import api_key_create
from customers.models import WalletTransaction

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.wallets.urls")]


def create(api, **fields) -> dict:
    body = {"external_customer_id": "cust", "rate_amount": "1.5", "name": "Prepaid", **fields}
    response = api.post("/api/v1/wallets", {"wallet": body}, format="json")
    assert response.status_code == 200, response.json()
    wallet = response.json()["wallet"]
    WalletResponse.parse_obj(wallet)  # every required field present, right types
    return wallet


def top_up(api, wallet_id: str, key: str | None = None, **credits):
    body = ClientTransaction(wallet_id=wallet_id, **credits).dict()  # +nulls, as the client
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return api.post("/api/v1/wallet_transactions", {"wallet_transaction": body}, **headers)


def test_create_find_update_and_terminate(api, customer):
    wallet = create(
        api,
        code="main",
        currency="USD",
        priority=3,
        paid_credits="20",
        granted_credits="10",
        applies_to={"fee_types": ["charge"]},
        recurring_transaction_rules=[
            {"trigger": "threshold", "threshold_credits": "5", "granted_credits": "10"}
        ],
        metadata={"team": "ml"},
    )
    assert (wallet["rate_amount"], wallet["credits_balance"], wallet["balance_cents"]) == (
        "1.5",
        "10.0",
        1500,
    )
    assert wallet["applies_to"] == {"fee_types": ["charge"], "billable_metric_codes": []}
    assert wallet["recurring_transaction_rules"][0]["threshold_credits"] == "5.0"
    url = f"/api/v1/wallets/{wallet['lago_id']}"
    assert api.get(url).json()["wallet"]["code"] == "main"
    updated = api.put(url, {"wallet": {"name": "Renamed", "priority": 1}}, format="json")
    assert updated.json()["wallet"]["name"] == "Renamed"
    assert updated.json()["wallet"]["priority"] == 1
    terminated = api.delete(url).json()["wallet"]
    assert (terminated["status"], terminated["credits_balance"]) == ("terminated", "0.0")
    WalletResponse.parse_obj(terminated)


def test_list_requires_the_customer(api, customer):
    create(api)
    missing = api.get("/api/v1/wallets")
    assert missing.status_code == 422
    assert missing.json()["error_details"] == {"external_customer_id": ["value_is_mandatory"]}
    listed = api.get("/api/v1/wallets", {"external_customer_id": "cust"}).json()
    assert len(listed["wallets"]) == 1 and listed["meta"]["total_count"] == 1
    unknown = api.get("/api/v1/wallets", {"external_customer_id": "nobody"})
    assert (unknown.status_code, unknown.json()["code"]) == (404, "customer_not_found")


def test_validation_and_not_found(api, customer):
    response = api.post(
        "/api/v1/wallets", {"wallet": {"external_customer_id": "cust", "rate_amount": "0"}}
    )
    assert response.status_code == 422
    assert response.json()["error_details"] == {"rate_amount": ["value_is_invalid"]}
    response = api.post(
        "/api/v1/wallets", {"wallet": {"external_customer_id": "ghost", "rate_amount": "1"}}
    )
    assert (response.status_code, response.json()["code"]) == (404, "customer_not_found")
    for path in ("/api/v1/wallets/nope", "/api/v1/wallets/6a1f8a3e-0000-0000-0000-000000000000"):
        response = api.get(path)
        assert (response.status_code, response.json()["code"]) == (404, "wallet_not_found")
    response = top_up(api, "6a1f8a3e-0000-0000-0000-000000000000", granted_credits="1")
    assert (response.status_code, response.json()["code"]) == (404, "wallet_not_found")


def test_top_up_answers_an_array_and_honours_the_idempotency_key(api, customer):
    wallet = create(api)
    first = top_up(api, wallet["lago_id"], key="order-7", paid_credits="10", granted_credits="2")
    assert first.status_code == 200, first.json()
    rows = first.json()["wallet_transactions"]
    for row in rows:
        WalletTransactionResponse.parse_obj(row)
    assert [
        (r["transaction_status"], r["status"], r["credit_amount"], r["amount"]) for r in rows
    ] == [
        ("purchased", "pending", "10.0", "15.0"),
        ("granted", "settled", "2.0", "3.0"),
    ]
    assert rows[0]["lago_invoice_id"]
    again = top_up(api, wallet["lago_id"], key="order-7", paid_credits="10", granted_credits="2")
    assert [r["lago_id"] for r in again.json()["wallet_transactions"]] == [
        r["lago_id"] for r in rows
    ]
    assert WalletTransaction.objects.count() == 2
    refused = top_up(api, wallet["lago_id"], paid_credits="-1")
    assert refused.status_code == 422
    assert refused.json()["error_details"] == {"paid_credits": ["invalid_paid_credits"]}


def test_transactions_list_with_filters(api, customer):
    wallet = create(api, granted_credits="10")
    top_up(api, wallet["lago_id"], paid_credits="5")
    top_up(api, wallet["lago_id"], voided_credits="3")
    url = f"/api/v1/wallets/{wallet['lago_id']}/wallet_transactions"
    everything = api.get(url).json()
    assert everything["meta"]["total_count"] == 3
    assert [r["transaction_status"] for r in everything["wallet_transactions"]] == [
        "voided",
        "purchased",
        "granted",
    ]
    settled = api.get(url, {"status": "settled", "transaction_type": "inbound"}).json()
    assert [r["credit_amount"] for r in settled["wallet_transactions"]] == ["10.0"]
    paged = api.get(url, {"per_page": 1, "page": 2}).json()
    assert paged["meta"]["current_page"] == 2 and len(paged["wallet_transactions"]) == 1
    one = everything["wallet_transactions"][0]["lago_id"]
    found = api.get(f"/api/v1/wallet_transactions/{one}").json()["wallet_transaction"]
    assert found["lago_id"] == one


def test_metadata_endpoints(api, customer):
    wallet = create(api, metadata={"a": "1"})
    url = f"/api/v1/wallets/{wallet['lago_id']}/metadata"
    assert api.patch(url, {"metadata": {"b": "2"}}, format="json").json() == {
        "metadata": {"a": "1", "b": "2"}
    }
    assert api.delete(f"{url}/a").json() == {"metadata": {"b": "2"}}
    assert api.post(url, {"metadata": {"c": None}}, format="json").json() == {
        "metadata": {"c": None}
    }
    assert api.delete(url).json() == {"metadata": {}}


@pytest.mark.django_db(transaction=True)
def test_the_real_client_round_trip(live_server, customer):
    _, raw_key = api_key_create(name="lago-client")
    client = Client(api_key=raw_key, api_url=live_server.url)
    wallet = client.wallets.create(
        Wallet(external_customer_id="cust", rate_amount="1", granted_credits="7")
    )
    assert (wallet.credits_balance, wallet.status) == ("7.0", "active")
    rows = client.wallet_transactions.create(
        ClientTransaction(wallet_id=wallet.lago_id, granted_credits="3")
    )
    assert [r.credit_amount for r in rows["wallet_transactions"]] == ["3.0"]
    assert client.wallets.find(wallet.lago_id).credits_balance == "10.0"
    listed = client.wallet_transactions.find_all(wallet.lago_id)
    assert len(listed["wallet_transactions"]) == 2
    assert client.wallets.destroy(wallet.lago_id).status == "terminated"
