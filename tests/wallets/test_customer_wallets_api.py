"""/customers/{external_customer_id}/wallets[/{code}[/metadata[/{key}]]]: Lago's customer-scoped
wallet routes, a wallet found by its code (the active one first), bodies in Lago's schemas."""

import pytest

from customers.models import Wallet
from customers.services import customer_upsert
from tests.openapi_check import spec_errors

pytestmark = pytest.mark.django_db

BASE = "/api/v1/customers/cust/wallets"
# No billing entities here; `balance` is required by the spec but Lago's serializer never sends
# it (V1::WalletSerializer has balance_cents only).
GAPS = (r".*'(billing_entity_code|balance)' is a required property",)


@pytest.fixture
def customers(db):
    customer_upsert(data={"external_id": "cust", "currency": "USD"})
    customer_upsert(data={"external_id": "other", "currency": "USD"})


def create(api, **fields) -> dict:
    body = {"rate_amount": "1.5", "currency": "USD", "granted_credits": "10", **fields}
    response = api.post(BASE, {"wallet": body}, format="json")
    assert response.status_code == 200, response.json()
    assert spec_errors("Wallet", response.json(), GAPS) == []
    return response.json()["wallet"]


def test_create_for_the_customer_in_the_path(api, customers):
    wallet = create(api, code="main", external_customer_id="other", metadata={"team": "ml"})
    assert (wallet["external_customer_id"], wallet["code"]) == ("cust", "main")
    assert (wallet["credits_balance"], wallet["balance_cents"]) == ("10.0", 1500)
    assert wallet["metadata"] == {"team": "ml"}
    assert Wallet.objects.get(lago_id=wallet["lago_id"]).customer.external_id == "cust"


def test_code_defaults_from_the_name_and_is_unique_per_customer(api, customers):
    first = create(api, name="Prepaid credits")
    second = create(api, name="Prepaid credits")
    assert (first["code"], second["code"]) == ("prepaid_credits", "prepaid_credits_2")
    taken = api.post(
        BASE, {"wallet": {"rate_amount": "1", "code": "prepaid_credits"}}, format="json"
    )
    assert taken.status_code == 422
    assert taken.json()["error_details"] == {"code": ["value_already_exist"]}


def test_list_only_the_customers_wallets(api, customers):
    mine = create(api, code="a")
    api.post(
        "/api/v1/customers/other/wallets",
        {"wallet": {"rate_amount": "1", "code": "a"}},
        format="json",
    )
    body = api.get(BASE).json()
    assert [row["lago_id"] for row in body["wallets"]] == [mine["lago_id"]]
    assert body["meta"]["total_count"] == 1
    assert spec_errors("WalletsPaginated", body, GAPS) == []
    assert api.get(BASE, {"status": "terminated"}).json()["wallets"] == []


def test_get_update_terminate_by_code(api, customers):
    create(api, code="main")
    found = api.get(f"{BASE}/main").json()["wallet"]
    assert (found["code"], found["credits_balance"]) == ("main", "10.0")
    updated = api.put(f"{BASE}/main", {"wallet": {"name": "Renamed", "priority": 2}}, format="json")
    assert updated.status_code == 200
    assert (updated.json()["wallet"]["name"], updated.json()["wallet"]["priority"]) == (
        "Renamed",
        2,
    )
    assert spec_errors("Wallet", updated.json(), GAPS) == []
    terminated = api.delete(f"{BASE}/main").json()["wallet"]
    assert (terminated["status"], terminated["credits_balance"]) == ("terminated", "0.0")
    # the code is free again; the active wallet is the one found by it
    fresh = create(api, code="main")
    assert api.get(f"{BASE}/main").json()["wallet"]["lago_id"] == fresh["lago_id"]


def test_unknown_wallet_or_customer(api, customers):
    create(api, code="main")
    for method in ("get", "put", "delete"):
        response = getattr(api, method)(f"{BASE}/nope", {"wallet": {}}, format="json")
        assert response.status_code == 404
        assert response.json()["code"] == "wallet_not_found"
    # another customer's code is not found through this one
    assert api.get("/api/v1/customers/other/wallets/main").status_code == 404
    for url in ("/api/v1/customers/nobody/wallets", "/api/v1/customers/nobody/wallets/main"):
        response = api.get(url)
        assert response.json() == {
            "status": 404,
            "error": "Not Found",
            "code": "customer_not_found",
        }


def test_update_of_a_terminated_wallet_is_refused(api, customers):
    create(api, code="main")
    api.delete(f"{BASE}/main")
    response = api.put(f"{BASE}/main", {"wallet": {"name": "x"}}, format="json")
    assert response.status_code == 422
    assert Wallet.objects.get(code="main").name == ""


def test_metadata_by_code(api, customers):
    create(api, code="main", metadata={"a": "1"})
    url = f"{BASE}/main/metadata"
    merged = api.patch(url, {"metadata": {"b": "2"}}, format="json").json()
    assert merged == {"metadata": {"a": "1", "b": "2"}}
    assert spec_errors("WalletMetadataResponse", merged) == []
    assert api.delete(f"{url}/a").json() == {"metadata": {"b": "2"}}
    assert api.post(url, {"metadata": {"c": None}}, format="json").json() == {
        "metadata": {"c": None}
    }
    assert api.delete(url).json() == {"metadata": {}}
    bad = api.post(url, {"metadata": ["x"]}, format="json")
    assert bad.status_code == 422 and bad.json()["error_details"] == {
        "metadata": ["invalid_format"]
    }
    assert api.delete(f"{BASE}/nope/metadata").json()["code"] == "wallet_not_found"


def test_a_metadata_key_takes_only_delete(api, customers):
    create(api, code="main", metadata={"a": "1"})
    response = api.post(f"{BASE}/main/metadata/a", {"metadata": {"x": "y"}}, format="json")
    assert response.status_code == 405
    assert api.get(f"{BASE}/main").json()["wallet"]["metadata"] == {"a": "1"}
