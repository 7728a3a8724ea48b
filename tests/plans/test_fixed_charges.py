"""Fixed charges (Lago 1.51): on plans (/plans/{code}/fixed_charges and the plan's nested
`fixed_charges`), a subscription's own units (/subscriptions/{id}/fixed_charges), and their
fees on invoices (fee_type `fixed_charge`), amounts computed by hand to the cent."""

import pytest
import time_machine
from django.urls import reverse

from customers.models import Subscription
from customers.services import customer_upsert, subscription_terminate
from invoices.models import Fee, Invoice
from plans.addons import add_on_create
from plans.models import FixedCharge
from plans.services import plan_override_create
from plans.services.charges import plan_override_copy
from tests.billing_clock import at, run_beat, subscribe
from tests.compat.test_lago_openapi_credit_notes import spec, unexpected  # noqa: F401
from tests.factories import make_plan

pytestmark = pytest.mark.django_db

RANGES = [
    {"from_value": 0, "to_value": 2, "per_unit_amount": "10", "flat_amount": "5"},
    {"from_value": 3, "to_value": None, "per_unit_amount": "4", "flat_amount": "0"},
]

VOLUME = [
    {"from_value": 0, "to_value": 10, "per_unit_amount": "2", "flat_amount": "0"},
    {"from_value": 11, "to_value": None, "per_unit_amount": "1", "flat_amount": "0"},
]


@pytest.fixture
def add_ons():
    seat = add_on_create(
        data={"name": "Seat", "code": "seat", "amount_cents": 2500, "amount_currency": "USD"}
    )
    support = add_on_create(
        data={"name": "Support", "code": "support", "amount_cents": 0, "amount_currency": "USD"}
    )
    return seat, support


@pytest.fixture
def plan(add_ons):
    """$10.00 a month in arrears; seats $25 each (3, prorated); support graduated on 5 units,
    not prorated; a support pack graduated on 5 units, prorated."""
    return make_plan(
        "team",
        1000,
        fixed_charges=[
            {
                "add_on_code": "seat",
                "code": "seats",
                "charge_model": "standard",
                "properties": {"amount": "25"},
                "units": "3",
                "prorated": True,
            },
            {
                "add_on_code": "support",
                "charge_model": "graduated",
                "properties": {"graduated_ranges": RANGES},
                "units": 5,
            },
            {
                "add_on_code": "support",
                "code": "pack",
                "charge_model": "graduated",
                "properties": {"graduated_ranges": RANGES},
                "units": 5,
                "prorated": True,
                "invoice_display_name": "Support pack",
            },
        ],
    )


def test_plan_carries_its_fixed_charges(api, plan, spec):  # noqa: F811
    body = api.get("/api/v1/plans/team").json()["plan"]
    assert [f["code"] for f in body["fixed_charges"]] == ["seats", "support", "pack"]
    seats = body["fixed_charges"][0]
    assert (seats["add_on_code"], seats["units"], seats["prorated"]) == ("seat", 3.0, True)
    listed = api.get("/api/v1/plans/team/fixed_charges").json()
    assert unexpected(spec, "FixedChargesPaginated", listed) == []
    assert [f["code"] for f in listed["fixed_charges"]] == ["pack", "support", "seats"]
    one = api.get("/api/v1/plans/team/fixed_charges/support").json()
    assert unexpected(spec, "FixedCharge", one) == []
    assert one["fixed_charge"]["invoice_display_name"] == "Support"  # the add-on's name


def test_fixed_charge_crud_and_reason_codes(api, plan, add_ons, spec):  # noqa: F811
    seat, _support = add_ons
    base = "/api/v1/plans/team/fixed_charges"
    created = api.post(
        base,
        {
            "fixed_charge": {
                "add_on_id": str(seat.lago_id),
                "charge_model": "volume",
                "properties": {
                    "volume_ranges": [
                        {
                            "from_value": 0,
                            "to_value": 10,
                            "per_unit_amount": "2",
                            "flat_amount": "0",
                        },
                        {
                            "from_value": 11,
                            "to_value": None,
                            "per_unit_amount": "1",
                            "flat_amount": "0",
                        },
                    ]
                },
                "units": "12",
            }
        },
        format="json",
    )
    assert created.status_code == 200, created.json()
    assert unexpected(spec, "FixedCharge", created.json()) == []
    row = created.json()["fixed_charge"]
    assert (row["code"], row["units"], row["lago_add_on_id"]) == ("seat", 12.0, str(seat.lago_id))

    updated = api.put(f"{base}/seat", {"fixed_charge": {"units": "7.5"}}, format="json")
    assert updated.json()["fixed_charge"]["units"] == 7.5
    assert updated.json()["fixed_charge"]["charge_model"] == "volume"

    for payload, details in [
        ({"units": "-1"}, {"units": ["value_is_invalid"]}),
        ({"charge_model": "package"}, {"charge_model": ["value_is_invalid"]}),
        ({"pay_in_advance": True}, {"pay_in_advance": ["invalid_charge_model"]}),  # volume
        ({"code": "seats"}, {"code": ["value_already_exist"]}),
    ]:
        refused = api.put(f"{base}/seat", {"fixed_charge": payload}, format="json")
        assert refused.status_code == 422, payload
        assert refused.json()["error_details"] == details
    missing = api.post(
        base,
        {"fixed_charge": {"add_on_code": "nope", "charge_model": "standard"}},
        format="json",
    )
    assert missing.json() == {"status": 404, "error": "Not Found", "code": "add_on_not_found"}
    assert api.get(f"{base}/nope").json()["code"] == "fixed_charge_not_found"

    deleted = api.delete(f"{base}/seat")
    assert deleted.status_code == 200
    assert api.get(f"{base}/seat").status_code == 404
    assert FixedCharge.objects.live().filter(plan=plan).count() == 3


def test_nested_fixed_charges_are_validated_with_the_plan(api, add_ons):
    response = api.post(
        "/api/v1/plans",
        {
            "plan": {
                "name": "X",
                "code": "x",
                "interval": "monthly",
                "amount_cents": 0,
                "amount_currency": "USD",
                "fixed_charges": [
                    {"add_on_code": "seat", "charge_model": "standard", "properties": {}},
                    {"add_on_code": "nope", "charge_model": "graduated", "units": "x"},
                ],
            }
        },
        format="json",
    )
    assert response.status_code == 422
    details = response.json()["error_details"]
    assert details["fixed_charges.0.properties.amount"] == ["invalid_amount"]
    assert details["fixed_charges.1.add_on"] == ["add_on_not_found"]
    assert details["fixed_charges.1.units"] == ["value_is_invalid"]
    assert api.get("/api/v1/plans/x").status_code == 404


def test_a_subscriptions_own_units(api, plan, spec):  # noqa: F811
    for name in ("a", "b"):
        customer_upsert(data={"external_id": f"cust_{name}", "currency": "USD"})
        subscribe(at(2025, 1, 1), "team", external_id=f"sub_{name}", customer=f"cust_{name}")
    base = "/api/v1/subscriptions/sub_a/fixed_charges"
    listed = api.get(base).json()
    assert unexpected(spec, "FixedChargesPaginated", listed) == []
    assert {f["code"]: f["units"] for f in listed["fixed_charges"]} == {
        "seats": 3.0,
        "support": 5.0,
        "pack": 5.0,
    }
    changed = api.put(f"{base}/seats", {"fixed_charge": {"units": "4"}}, format="json")
    assert changed.status_code == 200, changed.json()
    assert unexpected(spec, "FixedCharge", changed.json()) == []
    assert changed.json()["fixed_charge"]["units"] == 4.0
    assert api.get(f"{base}/seats").json()["fixed_charge"]["units"] == 4.0
    other = api.get("/api/v1/subscriptions/sub_b/fixed_charges/seats").json()["fixed_charge"]
    assert other["units"] == 3.0
    assert api.get("/api/v1/plans/team/fixed_charges/seats").json()["fixed_charge"]["units"] == 3.0
    refused = api.put(
        f"{base}/seats", {"fixed_charge": {"units": "-2", "properties": {}}}, format="json"
    )
    assert refused.json()["error_details"] == {
        "units": ["value_is_invalid"],
        "properties": ["not_supported"],
    }
    assert api.get(f"{base}/nope").json()["code"] == "fixed_charge_not_found"
    # a later charge override (the subscription's own plan copy) keeps its units
    subscription = Subscription.objects.get(external_id="sub_a")
    subscription.plan = plan_override_copy(parent=plan)
    subscription.save()
    assert api.get(f"{base}/seats").json()["fixed_charge"]["units"] == 4.0


def _fixed_fees(invoice) -> dict:
    return {
        f.amount_details["fixed_charge_code"]: (f.units, f.amount_cents)
        for f in invoice.fees.filter(fee_type=Fee.FeeType.FIXED_CHARGE)
    }


def test_fixed_charge_fees_to_the_cent(api, plan):
    for name in ("a", "b"):
        customer_upsert(data={"external_id": f"cust_{name}", "currency": "USD"})
    subscribe(at(2025, 1, 1), "team", external_id="sub_a", customer="cust_a")
    subscribe(at(2025, 1, 10), "team", external_id="sub_b", customer="cust_b")
    with time_machine.travel(at(2025, 1, 12), tick=False):
        api.put(
            "/api/v1/subscriptions/sub_a/fixed_charges/seats",
            {"fixed_charge": {"units": "4"}},
            format="json",
        )
    invoices = run_beat(at(2025, 2, 1, 0, 5))
    by_sub = {i.billings.get().subscription.external_id: i for i in invoices}

    # A, all of January: seats 4 x $25 = $100.00; support (graduated, not prorated) on 5
    # units: 2 x $10 + $5 flat + 3 x $4 = $37.00; the pack the same, 31/31 days = $37.00
    a = by_sub["sub_a"]
    assert _fixed_fees(a) == {"seats": (4, 10000), "support": (5, 3700), "pack": (5, 3700)}
    assert a.fees.get(fee_type="subscription").amount_cents == 1000
    assert (a.fees_amount_cents, a.total_amount_cents) == (18400, 18400)

    # B from January 10: 22 of 31 days. Seats 3 x 25 x 22/31 = 53.2258… -> $53.23; support
    # in full, $37.00; the pack prorated: (2 x 10 + 3 x 4) x 22/31 = 22.7096… + $5 flat
    # (the tiers reached, not prorated) = $27.7096… -> $27.71; base 10 x 22/31 -> $7.10
    b = by_sub["sub_b"]
    assert _fixed_fees(b) == {"seats": (3, 5323), "support": (5, 3700), "pack": (5, 2771)}
    assert b.fees.get(fee_type="subscription").amount_cents == 710
    assert (b.fees_amount_cents, b.total_amount_cents) == (12504, 12504)
    seats = b.fees.get(amount_details__fixed_charge_code="seats")
    assert seats.amount_details["from_date"] == "2025-01-10"
    assert (seats.amount_details["days"], seats.amount_details["period_days"]) == (22, 31)
    assert seats.invoice_display_name == "Seat"

    # A terminated on February 15 (15 of 28 days): seats 4 x 25 x 15/28 = 53.5714… -> $53.57,
    # support in full $37.00, the pack 32 x 15/28 = 17.1428… + 5 = $22.14; base $5.36
    with time_machine.travel(at(2025, 2, 15, 12), tick=False):
        subscription_terminate(subscription=Subscription.objects.get(external_id="sub_a"))
    run_beat(at(2025, 2, 15, 12, 5))
    final = Invoice.objects.filter(billings__invoicing_reason="subscription_terminating").get()
    assert _fixed_fees(final) == {"seats": (4, 5357), "support": (5, 3700), "pack": (5, 2214)}
    assert final.fees_amount_cents == 536 + 5357 + 3700 + 2214
    # the invoice API shows the fee's type and its add-on as the item
    fee = api.get(f"/api/v1/invoices/{final.lago_id}").json()["invoice"]["fees"]
    seats_fee = next(f for f in fee if f["item"]["code"] == "seat")
    assert seats_fee["item"]["type"] == "fixed_charge"
    assert seats_fee["item"]["item_type"] == "AddOn"
    assert seats_fee["item"]["lago_item_id"] == str(
        plan.fixed_charges.get(code="seats").add_on.lago_id
    )
    assert seats_fee["lago_fixed_charge_id"] == str(plan.fixed_charges.get(code="seats").lago_id)
    assert seats_fee["amount_cents"] == 5357


def test_the_plan_admin_lists_its_fixed_charges(plan, admin_client):
    page = admin_client.get(reverse("admin:plans_plan_change", args=[plan.pk])).content.decode()
    assert "seats" in page and "Support" in page


def test_fixed_charges_in_advance(api, add_ons):
    """Seats $25 each in advance, prorated (2, then 3 for this subscription); a $10 pack in
    advance, in full. From January 10: the start bills 2 x 25 x 22/31 = 35.4838… -> $35.48
    and $10.00; February 1 bills February ahead with the new units: 3 x $25 = $75.00 and
    $10.00. A termination on February 15 bills no fixed charge again (Lago credits nothing)."""
    make_plan(
        "adv",
        0,
        fixed_charges=[
            {
                "add_on_code": "seat",
                "code": "seats",
                "charge_model": "standard",
                "properties": {"amount": "25"},
                "units": "2",
                "pay_in_advance": True,
                "prorated": True,
            },
            {
                "add_on_code": "support",
                "code": "pack",
                "charge_model": "standard",
                "properties": {"amount": "10"},
                "units": "1",
                "pay_in_advance": True,
            },
        ],
    )
    customer_upsert(data={"external_id": "cust_a", "currency": "USD"})
    subscribe(at(2025, 1, 10), "adv", external_id="sub_a", customer="cust_a")
    run_beat(at(2025, 1, 10, 0, 5))
    start = Invoice.objects.get(billings__invoicing_reason="subscription_starting")
    assert _fixed_fees(start) == {"seats": (2, 3548), "pack": (1, 1000)}
    assert start.total_amount_cents == 4548
    assert start.fees.filter(fee_type="subscription").count() == 0  # the base fee is in arrears
    seats = start.fees.get(amount_details__fixed_charge_code="seats")
    assert seats.pay_in_advance
    assert (seats.amount_details["from_date"], seats.amount_details["to_date"]) == (
        "2025-01-10",
        "2025-01-31",
    )

    with time_machine.travel(at(2025, 1, 20), tick=False):
        api.put(
            "/api/v1/subscriptions/sub_a/fixed_charges/seats",
            {"fixed_charge": {"units": "3"}},
            format="json",
        )
        at_once = api.put(
            "/api/v1/subscriptions/sub_a/fixed_charges/seats",
            {"fixed_charge": {"units": "5", "apply_units_immediately": True}},
            format="json",
        )
    assert at_once.json()["error_details"] == {"apply_units_immediately": ["not_supported"]}
    [february] = run_beat(at(2025, 2, 1, 0, 5))
    assert _fixed_fees(february) == {"seats": (3, 7500), "pack": (1, 1000)}
    assert february.total_amount_cents == 8500
    seats = february.fees.get(amount_details__fixed_charge_code="seats")
    assert (seats.amount_details["from_date"], seats.amount_details["to_date"]) == (
        "2025-02-01",
        "2025-02-28",
    )

    with time_machine.travel(at(2025, 2, 15, 12), tick=False):
        subscription_terminate(subscription=Subscription.objects.get(external_id="sub_a"))
    run_beat(at(2025, 2, 15, 12, 5))
    fixed = Fee.objects.filter(fee_type="fixed_charge")
    assert fixed.count() == 4  # nothing billed again at the termination
    assert sum(fixed.values_list("amount_cents", flat=True)) == 3548 + 1000 + 7500 + 1000


def test_lagos_rules_for_fixed_charges_in_advance(api, plan):
    response = api.post(
        "/api/v1/plans/team/fixed_charges",
        {
            "fixed_charge": {
                "add_on_code": "support",
                "code": "grad",
                "charge_model": "graduated",
                "properties": {"graduated_ranges": RANGES},
                "pay_in_advance": True,
                "prorated": True,
            }
        },
        format="json",
    )
    assert response.json()["error_details"] == {"prorated": ["invalid_charge_model"]}


def test_cascade_updates_reach_the_plans_overrides(api, plan):
    child = plan_override_create(parent=plan, overrides={})
    assert sorted(child.fixed_charges.values_list("code", flat=True)) == [
        "pack",
        "seats",
        "support",
    ]
    base = "/api/v1/plans/team/fixed_charges"
    api.put(f"{base}/seats", {"fixed_charge": {"units": "6"}}, format="json")
    assert child.fixed_charges.get(code="seats").units == 3  # no cascade: kept
    FixedCharge.objects.filter(plan=child, code="seats").update(units=6)
    api.put(
        f"{base}/seats",
        {"fixed_charge": {"units": "7", "cascade_updates": True}},
        format="json",
    )
    assert child.fixed_charges.get(code="seats").units == 7  # it had the parent's: follows
    api.post(
        base,
        {
            "fixed_charge": {
                "add_on_code": "seat",
                "code": "extra",
                "charge_model": "standard",
                "properties": {"amount": "1"},
                "cascade_updates": True,
            }
        },
        format="json",
    )
    assert child.fixed_charges.live().get(code="extra").parent.plan == plan
    api.delete(f"{base}/extra", {"fixed_charge": {"cascade_updates": True}}, format="json")
    assert not FixedCharge.objects.live().filter(code="extra").exists()
