"""One subscription's charges and their overrides (Lago 1.51):
/subscriptions/{external_id}/charges[/{charge_code}] and .../filters[/{filter_id}], checked
against Lago's OpenAPI response schemas, and billed: a subscription with an override and one
without, same plan, same usage, same period, each to the cent."""

import pytest
import time_machine
from django.urls import reverse

from customers.models import Subscription
from customers.services import customer_upsert
from invoices.models import Fee
from plans.models import Charge, ChargeFilter, Plan
from plans.services import plan_update
from tests.billing_clock import at, run_beat, subscribe
from tests.compat.test_lago_openapi_credit_notes import spec, unexpected  # noqa: F401
from tests.factories import make_metric, make_plan, standard_charge
from usage.services import events_ingest

pytestmark = pytest.mark.django_db

BASE = "/api/v1/subscriptions/sub_a/charges"


@pytest.fixture
def setup():
    """Plan pro: $10.00 a month in arrears; tokens at $0.01, gpt-4 tokens at $0.03.
    Two subscriptions from January 1, 2025, one customer each."""
    metric = make_metric("tokens", filters=[{"key": "model", "values": ["gpt-4", "mini"]}])
    charge = standard_charge(
        metric,
        "0.01",
        code="tokens_std",
        filters=[{"values": {"model": ["gpt-4"]}, "properties": {"amount": "0.03"}}],
    )
    plan = make_plan("pro", 1000, charges=[charge])
    for name in ("a", "b"):
        customer_upsert(data={"external_id": f"cust_{name}", "currency": "USD"})
        subscribe(at(2025, 1, 1), "pro", external_id=f"sub_{name}", customer=f"cust_{name}")
    return plan


def _plan_of(external_id: str) -> Plan:
    return Subscription.objects.get(external_id=external_id).plan


def test_list_and_retrieve_are_the_plans_charges_until_overridden(api, setup, spec):  # noqa: F811
    listed = api.get(BASE)
    assert listed.status_code == 200
    assert unexpected(spec, "ChargesPaginated", listed.json()) == []
    [charge] = listed.json()["charges"]
    catalog = setup.charges.get()
    assert (charge["lago_id"], charge["code"]) == (str(catalog.lago_id), "tokens_std")
    one = api.get(f"{BASE}/tokens_std").json()
    assert unexpected(spec, "Charge", one) == []
    assert one["charge"] == charge
    assert api.get(f"{BASE}/nope").json() == {
        "status": 404,
        "error": "Not Found",
        "code": "charge_not_found",
    }
    assert api.get("/api/v1/subscriptions/nope/charges").json()["code"] == "subscription_not_found"
    # Lago looks for the active subscription unless told otherwise
    pending = api.get(f"{BASE}?subscription_status=pending")
    assert pending.json()["code"] == "subscription_not_found"


def test_override_makes_a_child_plan_once_and_leaves_the_others(api, setup, spec):  # noqa: F811
    response = api.put(
        f"{BASE}/tokens_std",
        {
            "charge": {
                "properties": {"amount": "0.02"},
                "min_amount_cents": 5000,
                "invoice_display_name": "Tokens (negotiated)",
                "tax_codes": [],
                "charge_model": "package",  # not overridable: ignored
            }
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert unexpected(spec, "Charge", response.json()) == []
    charge = response.json()["charge"]
    catalog = setup.charges.get()
    assert charge["lago_parent_id"] == str(catalog.lago_id)
    assert charge["lago_id"] != str(catalog.lago_id)
    assert (charge["code"], charge["charge_model"]) == ("tokens_std", "standard")
    assert charge["properties"] == {"amount": "0.02"}
    assert charge["min_amount_cents"] == 5000
    assert charge["invoice_display_name"] == "Tokens (negotiated)"
    assert charge["filters"][0]["properties"] == {"amount": "0.03"}  # copied from the plan

    child = _plan_of("sub_a")
    assert child.parent_id == setup.pk
    assert _plan_of("sub_b") == setup
    assert catalog.properties == {"amount": "0.01"} and catalog.min_amount_cents == 0
    assert api.get(f"{BASE}/tokens_std").json()["charge"] == charge
    # the plan's code and the catalog stay as they were
    assert api.get("/api/v1/subscriptions/sub_a").json()["subscription"]["plan_code"] == "pro"
    assert api.get("/api/v1/plans/pro/charges/tokens_std").json()["charge"]["properties"] == {
        "amount": "0.01"
    }

    again = api.put(
        f"{BASE}/tokens_std", {"charge": {"properties": {"amount": "0.025"}}}, format="json"
    ).json()["charge"]
    assert again["lago_id"] == charge["lago_id"]  # changed in place
    assert again["min_amount_cents"] == 5000  # kept
    assert _plan_of("sub_a") == child
    assert Plan.objects.filter(parent=setup).count() == 1


def test_a_refused_override_writes_nothing(api, setup):
    response = api.put(
        f"{BASE}/tokens_std",
        {"charge": {"properties": {"amount": "-1"}, "min_amount_cents": -5}},
        format="json",
    )
    assert response.status_code == 422
    assert response.json()["error_details"] == {
        "properties.amount": ["invalid_amount"],
        "min_amount_cents": ["value_is_invalid"],
    }
    assert _plan_of("sub_a") == setup
    assert Plan.objects.count() == 1
    assert api.put(f"{BASE}/nope", {"charge": {}}, format="json").status_code == 404
    assert Plan.objects.count() == 1


def test_filter_overrides(api, setup, spec):  # noqa: F811
    catalog_filter = setup.charges.get().filters.get()
    filters = f"{BASE}/tokens_std/filters"
    listed = api.get(filters).json()
    assert unexpected(spec, "ChargeFiltersPaginated", listed) == []
    assert [f["lago_id"] for f in listed["filters"]] == [str(catalog_filter.lago_id)]

    # the plan's filter id names the filter; the subscription's own copy changes
    updated = api.put(
        f"{filters}/{catalog_filter.lago_id}",
        {"filter": {"properties": {"amount": "0.025"}}},
        format="json",
    )
    assert updated.status_code == 200, updated.json()
    assert unexpected(spec, "ChargeFilterResponse", updated.json()) == []
    own = updated.json()["filter"]
    assert own["lago_id"] != str(catalog_filter.lago_id)
    assert (own["values"], own["properties"]) == ({"model": ["gpt-4"]}, {"amount": "0.025"})
    catalog_filter.refresh_from_db()
    assert catalog_filter.properties == {"amount": "0.03"}
    assert _plan_of("sub_a").parent_id == setup.pk

    created = api.post(
        filters,
        {"filter": {"values": {"model": ["mini"]}, "properties": {"amount": "0.001"}}},
        format="json",
    )
    assert created.status_code == 200, created.json()
    mini = created.json()["filter"]
    duplicate = api.post(
        filters,
        {"filter": {"values": {"model": ["mini"]}, "properties": {"amount": "1"}}},
        format="json",
    )
    assert duplicate.json()["error_details"] == {"values": ["value_already_exists"]}
    assert api.get(f"{filters}/{mini['lago_id']}").json()["filter"] == mini
    deleted = api.delete(f"{filters}/{mini['lago_id']}")
    assert deleted.status_code == 200
    assert [f["lago_id"] for f in api.get(filters).json()["filters"]] == [own["lago_id"]]
    # the other subscription still sees the plan's filter only
    other = api.get("/api/v1/subscriptions/sub_b/charges/tokens_std/filters").json()
    assert [f["lago_id"] for f in other["filters"]] == [str(catalog_filter.lago_id)]
    assert ChargeFilter.objects.live().filter(charge__plan=setup).count() == 1


def test_delete_of_a_filter_on_a_subscription_without_override_makes_one(api, setup):
    catalog_filter = setup.charges.get().filters.get()
    response = api.delete(
        f"/api/v1/subscriptions/sub_b/charges/tokens_std/filters/{catalog_filter.lago_id}"
    )
    assert response.status_code == 200
    child = _plan_of("sub_b")
    assert child.parent_id == setup.pk
    assert not ChargeFilter.objects.live().filter(charge__plan=child).exists()
    assert ChargeFilter.objects.live().filter(pk=catalog_filter.pk).exists()


def _send(external_id: str, model: str, tokens: int, moment) -> None:
    events_ingest(
        raws=[
            {
                "transaction_id": f"{external_id}-{model}",
                "external_subscription_id": external_id,
                "code": "tokens",
                "timestamp": moment.isoformat(),
                "properties": {"value": tokens, "model": model},
            }
        ],
        now=moment,
    )


def test_the_invoice_of_the_overridden_subscription_uses_the_override(api, setup):
    with time_machine.travel(at(2025, 1, 5), tick=False):
        overridden = api.put(
            f"{BASE}/tokens_std",
            {"charge": {"properties": {"amount": "0.02"}, "min_amount_cents": 5000}},
            format="json",
        )
        assert overridden.status_code == 200
        # from now on the subscription's filters are its own copies (Lago: ids of its plan)
        [own] = overridden.json()["charge"]["filters"]
        changed = api.put(
            f"{BASE}/tokens_std/filters/{own['lago_id']}",
            {"filter": {"properties": {"amount": "0.025"}}},
            format="json",
        )
        assert changed.status_code == 200
    for external_id in ("sub_a", "sub_b"):
        _send(external_id, "mini", 1000, at(2025, 1, 10))
        _send(external_id, "gpt-4", 200, at(2025, 1, 12))

    invoices = run_beat(at(2025, 2, 1, 0, 5))
    by_sub = {i.billings.get().subscription.external_id: i for i in invoices}

    def lines(invoice):
        return sorted(
            (
                f.fee_type,
                "/".join(f.charge_filter.values["model"]) if f.charge_filter_id else "",
                f.amount_cents,
            )
            for f in invoice.fees.all()
        )

    # without override: base $10.00; 1,000 x $0.01 = $10.00; 200 gpt-4 x $0.03 = $6.00
    assert lines(by_sub["sub_b"]) == sorted(
        [("subscription", "", 1000), ("charge", "", 1000), ("charge", "gpt-4", 600)]
    )
    assert (by_sub["sub_b"].fees_amount_cents, by_sub["sub_b"].total_amount_cents) == (2600, 2600)
    # with override: base $10.00; 1,000 x $0.02 = $20.00; 200 gpt-4 x $0.025 = $5.00; the
    # charge's $50.00 minimum tops $25.00 of usage up by $25.00 (the whole month was used)
    assert lines(by_sub["sub_a"]) == sorted(
        [
            ("subscription", "", 1000),
            ("charge", "", 2000),
            ("charge", "gpt-4", 500),
            ("charge", "", 2500),
        ]
    )
    assert (by_sub["sub_a"].fees_amount_cents, by_sub["sub_a"].total_amount_cents) == (6000, 6000)
    true_up = by_sub["sub_a"].fees.get(amount_details__true_up=True)
    assert true_up.charge.plan.parent_id == setup.pk
    assert Charge.objects.live().filter(plan=setup).get().min_amount_cents == 0


def test_the_first_override_copies_thresholds_and_prices(api, setup):
    plan_update(
        plan=setup,
        data={
            "usage_thresholds": [
                {"amount_cents": 10000},
                {"amount_cents": 5000, "recurring": True},
            ],
            "prices": [
                {
                    "currency": "EUR",
                    "amount_cents": 900,
                    "charges": [{"charge_code": "tokens_std", "properties": {"amount": "0.009"}}],
                }
            ],
        },
    )
    api.put(f"{BASE}/tokens_std", {"charge": {"invoice_display_name": "T"}}, format="json")
    child = _plan_of("sub_a")
    assert sorted(child.usage_thresholds.values_list("amount_cents", "recurring")) == [
        (5000, True),
        (10000, False),
    ]
    assert list(child.prices.values_list("currency", "amount_cents")) == [("EUR", 900)]
    [price] = child.charges.get().prices.all()
    assert (price.currency, price.properties) == ("EUR", {"amount": "0.009"})


def test_in_advance_usage_billed_before_the_first_override_is_not_billed_again(
    api, django_capture_on_commit_callbacks
):
    """Calls at $0.25 each, billed in advance. 4 calls (100) on April 10; on April 12 the
    subscription's first override moves it to its own copy of the plan; 2 more calls on
    April 14 bill 50, not 150: what was billed counts per catalog charge, not per copy."""
    calls = make_metric("calls", field_name="units")
    make_plan("adv", 0, charges=[standard_charge(calls, "0.25", pay_in_advance=True)])
    customer_upsert(data={"external_id": "cust_c", "currency": "USD"})
    subscribe(at(2024, 4, 1), "adv", external_id="sub_c", customer="cust_c")

    def call(moment, units):
        raw = {
            "transaction_id": f"c-{moment.day}",
            "external_subscription_id": "sub_c",
            "code": "calls",
            "timestamp": moment.isoformat(),
            "properties": {"units": units},
        }
        capture = django_capture_on_commit_callbacks(execute=True)
        with time_machine.travel(moment, tick=False), capture:
            events_ingest(raws=[raw])

    call(at(2024, 4, 10, 12), 4)
    with time_machine.travel(at(2024, 4, 12), tick=False):
        response = api.put(
            "/api/v1/subscriptions/sub_c/charges/calls",
            {"charge": {"invoice_display_name": "API calls"}},
            format="json",
        )
    assert response.status_code == 200
    call(at(2024, 4, 14, 12), 2)
    [may] = run_beat(at(2024, 5, 1, 0, 5))
    fees = Fee.objects.filter(fee_type="charge").order_by("pk")
    assert [(f.invoice_display_name, f.units, f.amount_cents) for f in fees] == [
        ("Calls", 4, 100),
        ("API calls", 2, 50),
    ]
    assert may.fees.filter(fee_type="charge").count() == 0  # nothing left to sweep


def test_the_subscription_admin_shows_what_is_overridden(api, setup, admin_client):
    api.put(f"{BASE}/tokens_std", {"charge": {"min_amount_cents": 5000}}, format="json")
    pages = {}
    for external_id in ("sub_a", "sub_b"):
        subscription = Subscription.objects.get(external_id=external_id)
        url = reverse("admin:customers_subscription_change", args=[subscription.pk])
        pages[external_id] = admin_client.get(url).content.decode()
    assert "tokens_std" in pages["sub_a"] and "tokens_std" in pages["sub_b"]
    assert "overridden: min_amount_cents" in pages["sub_a"]
    assert "as the plan" in pages["sub_b"] and "overridden" not in pages["sub_b"]


def test_a_subscription_created_with_plan_overrides_keeps_its_one_copy(api, setup):
    catalog = setup.charges.get()
    customer_upsert(data={"external_id": "cust_c", "currency": "USD"})
    overrides = {"charges": [{"id": str(catalog.lago_id), "properties": {"amount": "0.5"}}]}
    subscribe(
        at(2025, 1, 1), "pro", external_id="sub_c", customer="cust_c", plan_overrides=overrides
    )
    child = _plan_of("sub_c")
    response = api.put(
        "/api/v1/subscriptions/sub_c/charges/tokens_std",
        {"charge": {"min_amount_cents": 100}},
        format="json",
    )
    charge = response.json()["charge"]
    assert (charge["properties"], charge["min_amount_cents"]) == ({"amount": "0.5"}, 100)
    assert _plan_of("sub_c") == child
    assert Plan.objects.filter(parent=setup).count() == 1
