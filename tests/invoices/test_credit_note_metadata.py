"""POST/PATCH/DELETE /credit_notes/{lago_id}/metadata, DELETE …/metadata/{key}, and
DELETE /plans/{code}/metadata/{key}: Lago's item-metadata verbs, bodies in Lago's schemas."""

import pytest

from invoices.models import CreditNote
from tests.factories import make_plan
from tests.invoices.test_credit_note_amounts import billed, body
from tests.openapi_check import spec_errors

pytestmark = pytest.mark.django_db


@pytest.fixture
def note(api) -> CreditNote:
    invoice = billed(tax_rate=20)
    created = api.post("/api/v1/credit_notes", body(invoice, 1000), format="json")
    assert created.status_code == 200, created.content
    return CreditNote.objects.get(lago_id=created.json()["credit_note"]["lago_id"])


def test_replace_merge_remove_a_key_and_clear(api, note):
    url = f"/api/v1/credit_notes/{note.lago_id}/metadata"
    replaced = api.post(url, {"metadata": {"a": "1", "b": "2"}}, format="json").json()
    assert replaced == {"metadata": {"a": "1", "b": "2"}}
    assert spec_errors("CreditNoteMetadataResponse", replaced) == []
    merged = api.patch(url, {"metadata": {"b": None, "c": "3"}}, format="json").json()
    assert merged == {"metadata": {"a": "1", "b": None, "c": "3"}}
    assert api.delete(f"{url}/a").json() == {"metadata": {"b": None, "c": "3"}}
    assert api.delete(f"{url}/absent").json() == {"metadata": {"b": None, "c": "3"}}
    again = api.post(url, {"metadata": {"z": "9"}}, format="json").json()
    assert again == {"metadata": {"z": "9"}}
    cleared = api.delete(url).json()
    assert cleared == {"metadata": {}}
    assert spec_errors("CreditNoteMetadataResponse", cleared) == []
    note.refresh_from_db()
    assert note.metadata == {}
    shown = api.get(f"/api/v1/credit_notes/{note.lago_id}").json()["credit_note"]
    assert shown["total_amount_cents"] == 1080  # the amounts are untouched


@pytest.mark.parametrize(
    "metadata",
    [["a"], {"a": 1}, {"k" * 101: "v"}, {"a": "v" * 256}, {f"k{i}": "v" for i in range(51)}],
)
def test_bad_metadata_is_refused_and_nothing_changes(api, note, metadata):
    url = f"/api/v1/credit_notes/{note.lago_id}/metadata"
    api.post(url, {"metadata": {"keep": "me"}}, format="json")
    for method in (api.post, api.patch):
        response = method(url, {"metadata": metadata}, format="json")
        assert response.status_code == 422
        assert response.json()["error_details"] == {"metadata": ["invalid_format"]}
    note.refresh_from_db()
    assert note.metadata == {"keep": "me"}


def test_limits_are_inclusive(api, note):
    url = f"/api/v1/credit_notes/{note.lago_id}/metadata"
    fine = {"k" * 100: "v" * 255, **{f"k{i}": None for i in range(49)}}
    assert api.post(url, {"metadata": fine}, format="json").json() == {"metadata": fine}


def test_unknown_credit_note_and_methods(api, note):
    for lago_id in ("not-a-uuid", "6f1c2a4e-0000-4000-8000-000000000000"):
        response = api.delete(f"/api/v1/credit_notes/{lago_id}/metadata")
        assert response.status_code == 404
        assert response.json()["code"] == "credit_note_not_found"
    url = f"/api/v1/credit_notes/{note.lago_id}/metadata"
    assert api.get(url).status_code == 405
    assert api.post(f"{url}/a", {"metadata": {}}, format="json").status_code == 405


def test_put_credit_note_metadata_is_checked_too(api, note):
    url = f"/api/v1/credit_notes/{note.lago_id}"
    response = api.put(url, {"credit_note": {"metadata": {"a": 5}}}, format="json")
    assert response.status_code == 422
    assert response.json()["error_details"] == {"metadata": ["invalid_format"]}


def test_plan_metadata_key_removal(api):
    make_plan("basic")
    url = "/api/v1/plans/basic/metadata"
    api.post(url, {"metadata": {"a": "1", "b": "2"}}, format="json")
    removed = api.delete(f"{url}/a").json()
    assert removed == {"metadata": {"b": "2"}}
    assert spec_errors("PlanMetadataResponse", removed) == []
    assert api.delete(f"{url}/a").json() == {"metadata": {"b": "2"}}
    assert api.get(url).json() == {"metadata": {"b": "2"}}
    missing = api.delete("/api/v1/plans/nope/metadata/a")
    assert (missing.status_code, missing.json()["code"]) == (404, "plan_not_found")
