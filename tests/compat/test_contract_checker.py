"""The contract plugin (tests/compat/contract.py) is not vacuous: it sees a planted missing
key, a wrong type, an undefined status or operation, honours `nullable`, and its allow-list
only lets through the lines it lists."""

import json

import pytest

from tests.compat import contract

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def needs_spec():
    if contract.spec() is None:
        pytest.skip(f"Lago's OpenAPI spec is not at {contract.SPEC}")


def _customer(api) -> dict:
    body = {"customer": {"external_id": "acme", "name": "Acme", "currency": "EUR"}}
    response = api.post("/api/v1/customers", body, format="json")
    assert response.status_code == 200
    return json.loads(response.content)


def test_a_real_answer_passes_and_a_planted_missing_key_is_reported(api):
    answer = _customer(api)
    path = "/api/v1/customers/acme"
    assert [line for line in contract.check("GET", path, 200, answer) if "lago_id" in line] == []
    del answer["customer"]["lago_id"]
    answer["customer"]["sequential_id"] = "1"
    lines = contract.check("GET", path, 200, answer)
    op = "GET /customers/{external_customer_id} 200"
    assert f"{op} $.customer: 'lago_id' is a required property" in lines
    assert f"{op} $.customer.sequential_id: string is not of type 'integer'" in lines


def test_list_indices_are_generic(api):
    _customer(api)
    answer = json.loads(api.get("/api/v1/customers").content)
    answer["customers"][0]["created_at"] = None
    lines = contract.check("GET", "/api/v1/customers", 200, answer)
    assert "GET /customers 200 $.customers[*].created_at: null is not of type 'string'" in lines


def test_statuses_and_operations_the_spec_does_not_define():
    assert contract.check("POST", "/api/v1/customers", 413, {}) == [
        "POST /customers 413 $: status not in spec"
    ]
    assert contract.check("GET", "/api/v1/no_such_thing", 404, {}) == [
        "GET /no_such_thing 404 $: operation not in spec"
    ]
    assert contract.check("GET", "/api/v1/customers/acme", 404, b"<html>") == [
        "GET /customers/{external_customer_id} 404 $: body is not JSON"
    ]
    assert contract.check("GET", "/healthz", 200, {}) == []  # outside /api/v1


def test_error_bodies_conform(api, anon_api):
    assert (
        contract.check("GET", "/api/v1/customers/x", 404, api.get("/api/v1/customers/x").content)
        == []
    )
    unauthorized = anon_api.get("/api/v1/customers")
    assert contract.check("GET", "/api/v1/customers", 401, unauthorized.content) == []


def test_openapi_3_0_nullable_becomes_a_null_type():
    assert contract._nullable({"type": "string", "nullable": True}) == {"type": ["string", "null"]}
    assert contract._nullable({"$ref": "#/x", "nullable": True}) == {
        "anyOf": [{"$ref": "#/x"}, {"type": "null"}]
    }
    assert contract._nullable({"type": ["string", "null"], "enum": ["a"]}) == {
        "type": ["string", "null"],
        "enum": ["a", None],
    }


def test_the_allow_list_lets_through_only_what_it_lists():
    text = (
        "```contract-allowlist\n"
        "# a comment\n"
        "GET /plans 200 $.plans[*].description: null * | Lago sends null\n"
        "* * 413 $: status not in spec | the limit is ours\n"
        "```\n"
    )
    allowed = contract.allowlist(text)
    assert next(line for _, line in allowed).startswith("GET /plans 200")
    lines = [
        "GET /plans 200 $.plans[*].description: null is not of type 'string'",
        "POST /events 413 $: status not in spec",
        "GET /plans 200 $.plans[*].name: null is not of type 'string'",
    ]
    assert contract.unlisted(lines, allowed) == [lines[2]]


def test_every_allowed_line_gives_its_reason():
    assert contract.allowlist()  # docs/api.md's block parses
    with pytest.raises(ValueError, match="reason"):
        contract.allowlist("```contract-allowlist\nGET /plans 200 $: x\n```\n")
