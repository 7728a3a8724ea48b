"""A plan's charges and charge filters as resources of their own (Lago 1.51):
/plans/{code}/charges[/{charge_code}] and .../filters[/{filter_id}], checked against Lago's
OpenAPI response schemas, with the plan validation's reason codes and `cascade_updates`."""

import pytest

from plans.models import Charge, ChargeFilter
from plans.services import plan_override_create
from tests.compat.test_lago_openapi_credit_notes import spec, unexpected  # noqa: F401
from tests.factories import make_metric, make_plan, standard_charge

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog():
    metric = make_metric(
        "tokens", filters=[{"key": "model", "values": ["gpt-4", "gpt-4o", "mini"]}]
    )
    plan = make_plan("pro", charges=[standard_charge(metric, "0.01", code="tokens_std")])
    return metric, plan


def _charge_body(metric, **extra) -> dict:
    return {"charge": {**standard_charge(metric, "0.02"), **extra}}


def test_create_list_retrieve_charge(api, catalog, spec):  # noqa: F811
    metric, _plan = catalog
    created = api.post(
        "/api/v1/plans/pro/charges",
        _charge_body(metric, code="tokens_bis", invoice_display_name="Tokens (bis)"),
        format="json",
    )
    assert created.status_code == 200, created.json()
    body = created.json()
    assert unexpected(spec, "Charge", body) == []
    charge = body["charge"]
    assert charge["code"] == "tokens_bis"
    assert charge["billable_metric_code"] == "tokens"
    assert charge["lago_billable_metric_id"] == str(metric.lago_id)
    assert charge["properties"] == {"amount": "0.02"}
    assert charge["invoice_display_name"] == "Tokens (bis)"
    assert charge["lago_parent_id"] is None

    listed = api.get("/api/v1/plans/pro/charges").json()
    assert unexpected(spec, "ChargesPaginated", listed) == []
    assert [c["code"] for c in listed["charges"]] == ["tokens_bis", "tokens_std"]  # newest first
    assert listed["meta"]["total_count"] == 2

    one = api.get("/api/v1/plans/pro/charges/tokens_bis").json()
    assert one == body
    plan = api.get("/api/v1/plans/pro").json()["plan"]
    assert {c["code"] for c in plan["charges"]} == {"tokens_std", "tokens_bis"}


def test_charge_code_defaults_to_the_metric_code_made_unique(api, catalog):
    metric, _plan = catalog
    first = api.post("/api/v1/plans/pro/charges", _charge_body(metric), format="json")
    second = api.post("/api/v1/plans/pro/charges", _charge_body(metric), format="json")
    assert first.json()["charge"]["code"] == "tokens"
    assert second.json()["charge"]["code"] == "tokens_2"


@pytest.mark.parametrize(
    ("extra", "details"),
    [
        ({"code": "tokens_std"}, {"code": ["value_already_exist"]}),
        ({"charge_model": "median"}, {"charge_model": ["value_is_invalid"]}),
        ({"billable_metric_id": "nope"}, {"billable_metric_id": ["metric_not_found"]}),
        ({"properties": {"amount": "-1"}}, {"properties.amount": ["invalid_amount"]}),
        (
            {"pay_in_advance": True, "min_amount_cents": 100},
            {"min_amount_cents": ["not_compatible_with_pay_in_advance"]},
        ),
        (
            {"filters": [{"values": {"model": ["llama"]}, "properties": {"amount": "1"}}]},
            {"filters.0.values": ["invalid_filter_values"]},
        ),
    ],
)
def test_create_refuses_what_plan_create_refuses_and_writes_nothing(api, catalog, extra, details):
    metric, plan = catalog
    response = api.post("/api/v1/plans/pro/charges", _charge_body(metric, **extra), format="json")
    assert response.status_code == 422, response.json()
    assert response.json() == {
        "status": 422,
        "error": "Unprocessable Entity",
        "code": "validation_errors",
        "error_details": details,
    }
    assert list(plan.charges.live().values_list("code", flat=True)) == ["tokens_std"]
    assert ChargeFilter.objects.count() == 0


def test_not_found_bodies(api, catalog):
    assert api.get("/api/v1/plans/nope/charges").json() == {
        "status": 404,
        "error": "Not Found",
        "code": "plan_not_found",
    }
    assert api.get("/api/v1/plans/pro/charges/nope").json()["code"] == "charge_not_found"
    missing = api.get("/api/v1/plans/pro/charges/tokens_std/filters/not-a-uuid")
    assert missing.status_code == 404
    assert missing.json()["code"] == "charge_filter_not_found"
    assert api.post("/api/v1/plans/pro/charges", {}, format="json").status_code == 400


def test_update_keeps_what_is_omitted_and_checks_the_result(api, catalog, spec):  # noqa: F811
    _metric, _plan = catalog
    response = api.put(
        "/api/v1/plans/pro/charges/tokens_std",
        {"charge": {"properties": {"amount": "0.05"}, "min_amount_cents": 500}},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert unexpected(spec, "Charge", response.json()) == []
    charge = response.json()["charge"]
    assert charge["properties"] == {"amount": "0.05"}
    assert charge["min_amount_cents"] == 500
    assert charge["charge_model"] == "standard"
    # switching the model without its properties is refused (the stored ones do not fit)
    refused = api.put(
        "/api/v1/plans/pro/charges/tokens_std",
        {"charge": {"charge_model": "package"}},
        format="json",
    )
    assert refused.status_code == 422
    assert "properties.package_size" in refused.json()["error_details"]
    assert Charge.objects.get(code="tokens_std").charge_model == "standard"
    renamed = api.put(
        "/api/v1/plans/pro/charges/tokens_std", {"charge": {"code": "tokens_v2"}}, format="json"
    )
    assert renamed.json()["charge"]["code"] == "tokens_v2"
    assert api.get("/api/v1/plans/pro/charges/tokens_std").status_code == 404


def test_delete_soft_deletes_the_charge_and_its_filters(api, catalog):
    metric, _plan = catalog
    api.post(
        "/api/v1/plans/pro/charges/tokens_std/filters",
        {"filter": {"values": {"model": ["gpt-4"]}, "properties": {"amount": "0.03"}}},
        format="json",
    )
    response = api.delete("/api/v1/plans/pro/charges/tokens_std")
    assert response.status_code == 200
    assert response.json()["charge"]["code"] == "tokens_std"
    assert api.get("/api/v1/plans/pro/charges").json()["charges"] == []
    assert api.get("/api/v1/plans/pro").json()["plan"]["charges"] == []
    assert ChargeFilter.objects.live().count() == 0
    # the code is free again
    again = api.post("/api/v1/plans/pro/charges", _charge_body(metric, code="tokens_std"))
    assert again.status_code == 200


def test_filters_crud(api, catalog, spec):  # noqa: F811
    base = "/api/v1/plans/pro/charges/tokens_std/filters"
    created = api.post(
        base,
        {
            "filter": {
                "values": {"model": ["gpt-4", "gpt-4o"]},
                "properties": {"amount": "0.03"},
                "invoice_display_name": "GPT-4",
            }
        },
        format="json",
    )
    assert created.status_code == 200, created.json()
    assert unexpected(spec, "ChargeFilterResponse", created.json()) == []
    row = created.json()["filter"]
    assert row["charge_code"] == "tokens_std"
    assert row["values"] == {"model": ["gpt-4", "gpt-4o"]}
    assert row["properties"] == {"amount": "0.03"}
    listed = api.get(base).json()
    assert unexpected(spec, "ChargeFiltersPaginated", listed) == []
    assert [f["lago_id"] for f in listed["filters"]] == [row["lago_id"]]
    assert api.get(f"{base}/{row['lago_id']}").json()["filter"] == row

    duplicate = api.post(
        base,
        {"filter": {"values": {"model": ["gpt-4o", "gpt-4"]}, "properties": {"amount": "1"}}},
        format="json",
    )
    assert duplicate.json()["error_details"] == {"values": ["value_already_exists"]}
    unknown = api.post(
        base,
        {"filter": {"values": {"region": ["eu"]}, "properties": {"amount": "1"}}},
        format="json",
    )
    assert unknown.json()["error_details"] == {"values": ["invalid_filter_values"]}
    bad_price = api.put(
        f"{base}/{row['lago_id']}", {"filter": {"properties": {"amount": "x"}}}, format="json"
    )
    assert bad_price.json()["error_details"] == {"properties.amount": ["invalid_amount"]}

    updated = api.put(
        f"{base}/{row['lago_id']}",
        {"filter": {"properties": {"amount": "0.04"}, "invoice_display_name": None}},
        format="json",
    ).json()["filter"]
    assert updated["properties"] == {"amount": "0.04"}
    assert updated["invoice_display_name"] is None
    assert updated["values"] == {"model": ["gpt-4", "gpt-4o"]}

    deleted = api.delete(f"{base}/{row['lago_id']}")
    assert deleted.status_code == 200
    assert api.get(base).json()["filters"] == []
    assert api.get(f"{base}/{row['lago_id']}").status_code == 404


def test_cascade_updates_reach_overrides_that_did_not_change_the_field(api, catalog):
    metric, plan = catalog
    parent = plan.charges.get(code="tokens_std")
    same = plan_override_create(parent=plan, overrides={})
    mine = {"id": str(parent.lago_id), "properties": {"amount": "0.5"}}
    own = plan_override_create(parent=plan, overrides={"charges": [mine]})

    # without cascade_updates the overrides keep everything
    api.put(
        "/api/v1/plans/pro/charges/tokens_std",
        {"charge": {"properties": {"amount": "0.02"}}},
        format="json",
    )
    assert same.charges.get().properties == {"amount": "0.01"}

    # an override in step with the parent's current price follows a cascaded change
    Charge.objects.filter(plan=same).update(properties={"amount": "0.02"})
    api.put(
        "/api/v1/plans/pro/charges/tokens_std",
        {"charge": {"properties": {"amount": "0.04"}, "cascade_updates": True}},
        format="json",
    )
    assert same.charges.get().properties == {"amount": "0.04"}  # followed
    assert own.charges.get().properties == {"amount": "0.5"}  # its own price kept

    created = api.post(
        "/api/v1/plans/pro/charges",
        _charge_body(metric, code="extra", cascade_updates=True),
        format="json",
    ).json()["charge"]
    copies = Charge.objects.live().filter(parent__lago_id=created["lago_id"])
    assert sorted(c.plan_id for c in copies) == sorted([same.pk, own.pk])
    assert all(c.code == "extra" and c.properties == {"amount": "0.02"} for c in copies)

    api.post(
        "/api/v1/plans/pro/charges/extra/filters",
        {
            "filter": {
                "values": {"model": ["mini"]},
                "properties": {"amount": "0.001"},
                "cascade_updates": True,
            }
        },
        format="json",
    )
    assert all(c.filters.live().get().values == {"model": ["mini"]} for c in copies)

    api.delete(
        "/api/v1/plans/pro/charges/extra", {"charge": {"cascade_updates": True}}, format="json"
    )
    assert not Charge.objects.live().filter(code="extra").exists()
    assert ChargeFilter.objects.live().count() == 0
