"""Prorated charges end to end: catalog and events through the public API, the clock moved, the
beat run, the invoice's fees (amount, Lago's units and unit amount, the per-day arithmetic).

Lago's page: https://getlago.com/docs/guide/plans/charges/prorated-vs-full.md"""

from decimal import Decimal

import pytest
import time_machine

from customers.models import Subscription
from customers.services import subscription_terminate
from invoices.documents import invoice_html_render
from invoices.models import Invoice
from tests.factories import make_metric, make_plan
from tests.invoices.test_period_close import at, fees, run_beat, subscribe
from usage.services import events_ingest

pytestmark = pytest.mark.django_db
DOC_URL = "https://getlago.com/docs/guide/plans/charges/prorated-vs-full.md"


def seat_event(api, moment, seat, external_id="sub", remove=False):
    properties = {"seat_id": seat, **({"operation_type": "remove"} if remove else {})}
    with time_machine.travel(moment, tick=False):
        response = api.post(
            "/api/v1/events",
            {
                "event": {
                    "transaction_id": f"{seat}-{moment.isoformat()}-{remove}",
                    "external_subscription_id": external_id,
                    "code": "seats",
                    "timestamp": moment.isoformat(),
                    "properties": properties,
                }
            },
        )
    assert response.status_code == 200, response.json()


def create_seat_plan(api, charges, moment=None, aggregation="unique_count_agg"):
    """A recurring seats metric and a $0 monthly plan with `charges` (model, properties, extra),
    through the API."""
    with time_machine.travel(moment or at(2024, 1, 1), tick=False):
        metric = api.post(
            "/api/v1/billable_metrics",
            {
                "billable_metric": {
                    "name": "Seats",
                    "code": "seats",
                    "aggregation_type": aggregation,
                    "field_name": "seat_id",
                    "recurring": True,
                }
            },
        ).json()["billable_metric"]
        response = api.post(
            "/api/v1/plans",
            {
                "plan": {
                    "name": "Team",
                    "code": "team",
                    "interval": "monthly",
                    "amount_cents": 0,
                    "amount_currency": "USD",
                    "charges": [
                        {
                            "billable_metric_id": metric["lago_id"],
                            "charge_model": model,
                            "properties": properties,
                            **extra,
                        }
                        for model, properties, extra in charges
                    ],
                }
            },
        )
    assert response.status_code == 200, response.json()
    return response.json()["plan"]


def subscribe_api(api, moment, external_id="sub", **extra):
    with time_machine.travel(moment, tick=False):
        response = api.post(
            "/api/v1/subscriptions",
            {
                "subscription": {
                    "external_customer_id": "cust",
                    "plan_code": "team",
                    "external_id": external_id,
                    **extra,
                }
            },
        )
    assert response.status_code == 200, response.json()


PRORATED_SEAT = ("standard", {"amount": "10"}, {"prorated": True})


def test_the_issues_seat_added_22_days_before_the_end_of_a_30_day_month_bills_733(api):
    """The issue: a $10 seat added 22 days before the end of a 30-day period bills
    22/30 x $10 = $7.3333... = $7.33, not $10."""
    create_seat_plan(api, [PRORATED_SEAT])
    subscribe_api(api, at(2024, 9, 1))
    seat_event(api, at(2024, 9, 9, 10), "alice")  # September 9-30: 22 days
    # current usage: the amount the period will bill if nothing changes, the full units (Lago)
    with time_machine.travel(at(2024, 9, 15), tick=False):
        usage = api.get("/api/v1/customers/cust/current_usage?external_subscription_id=sub")
    [charge] = usage.json()["customer_usage"]["charges_usage"]
    assert (charge["amount_cents"], charge["units"]) == (733, "1.0")

    with time_machine.travel(at(2024, 9, 15), tick=False):
        projected = api.get("/api/v1/customers/cust/projected_usage?external_subscription_id=sub")
    [charge] = projected.json()["customer_projected_usage"]["charges_usage"]
    assert (charge["projected_amount_cents"], charge["projected_units"]) == (733, "1.0")

    [invoice] = run_beat(at(2024, 10, 1, 0, 5))
    assert fees(invoice) == [("charge", "Seats", Decimal(1), 733)]
    body = api.get(f"/api/v1/invoices/{invoice.lago_id}").json()["invoice"]
    [fee] = body["fees"]
    assert (fee["units"], fee["amount_cents"]) == ("1.0", 733)
    unit_amount = Decimal(fee["precise_unit_amount"])  # per full unit (SQLite keeps 15 digits)
    assert unit_amount.quantize(Decimal("0.000001")) == Decimal("7.333333")
    assert fee["amount_details"]["period_days"] == "30"
    [line] = fee["amount_details"]["prorated"]
    assert (line["units"], line["days"], line["period_days"], line["per_unit_amount"]) == (
        "1",
        22,
        30,
        "10",
    )
    assert "1 \u00d7 22/30 days \u00d7 $10.00" in invoice_html_render(invoice=invoice)


def test_lagos_docs_page_prorated_and_fully_billed_seat_added_on_july_10(api):
    # DOC_URL: a $10 seat added on July 10th, "used for 22 days": prorated "= $7.33", fully
    # billed "= $10". The page divides by 30 while July has 31 days; its rule on the real
    # month: July 10-31 = 22 of 31 days x $10 = $7.0967... = $7.10 (the 30-day case is above).
    create_seat_plan(api, [PRORATED_SEAT, ("standard", {"amount": "10"}, {"code": "seats_full"})])
    subscribe_api(api, at(2024, 7, 1))
    seat_event(api, at(2024, 7, 10, 9), "alice")
    [invoice] = run_beat(at(2024, 8, 1, 0, 5))
    assert [(f.units, f.amount_cents, f.charge.prorated) for f in invoice.fees.all()] == [
        (1, 710, True),
        (1, 1000, False),
    ]


def test_lagos_docs_page_pay_in_advance_prorated_seat_is_billed_at_once(
    api, django_capture_on_commit_callbacks
):
    # DOC_URL, the API tab: a pay-in-advance standard charge with "prorated": true. Each new
    # seat is invoiced when it arrives, for the days left in the period (July: 31 days).
    create_seat_plan(
        api, [("standard", {"amount": "10"}, {"prorated": True, "pay_in_advance": True})]
    )
    subscribe_api(api, at(2024, 7, 1))
    for moment, seat in [
        (at(2024, 7, 10, 9), "alice"),  # 22 of 31 days: $7.0967 -> $7.10
        (at(2024, 7, 20, 9), "bob"),  # 12 of 31 days: $3.8709 -> $3.87
        (at(2024, 7, 21, 9), "bob"),  # a repeated add bills nothing more
    ]:
        with (
            time_machine.travel(moment, tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            seat_event(api, moment, seat)
    with time_machine.travel(at(2024, 7, 25, 9), tick=False):
        estimate = api.post(
            "/api/v1/events/estimate_fees",
            {"event": {"external_subscription_id": "sub", "code": "seats", "properties": {}}},
        )
    # one more seat now: July 25-31, 7 of 31 days x $10 = $2.2580 -> $2.26
    assert [(f["amount_cents"], f["units"]) for f in estimate.json()["fees"]] == [(226, "1")]
    advance = list(Invoice.objects.order_by("pk"))
    assert [fees(i) for i in advance] == [
        [("charge", "Seats", 1, 710)],
        [("charge", "Seats", 1, 387)],  # 1096 (2 seats prorated) - 710 already billed
    ]
    [august] = run_beat(at(2024, 8, 1, 0, 5))
    assert fees(august) == []  # not billed again in arrears


def _sum_seats(moment, seats, external_id="sub"):
    events_ingest(
        raws=[
            {
                "transaction_id": f"{external_id}-{moment.isoformat()}-{seats}",
                "external_subscription_id": external_id,
                "code": "seats",
                "timestamp": moment.isoformat(),
                "properties": {"seats": seats},
            }
        ],
        now=moment,
    )


GRADUATED = {
    "graduated_ranges": [
        {"from_value": 0, "to_value": 5, "per_unit_amount": "10", "flat_amount": "0"},
        {"from_value": 6, "to_value": None, "per_unit_amount": "5", "flat_amount": "0"},
    ]
}


def test_graduated_sum_carried_over_into_a_leap_february():
    seats = make_metric("seats", field_name="seats", recurring=True)
    charge = {
        "billable_metric_id": str(seats.lago_id),
        "charge_model": "graduated",
        "properties": GRADUATED,
        "prorated": True,
    }
    make_plan("team", 0, charges=[charge])
    subscribe(at(2024, 1, 1), plan_code="team")
    _sum_seats(at(2024, 1, 15, 12), 3)  # January 15-31: 17 of 31 days
    [january] = run_beat(at(2024, 2, 1, 0, 5))
    # 3 x 17/31 x $10 = $16.4516 -> $16.45
    assert fees(january) == [("charge", "Seats", 3, 1645)]
    _sum_seats(at(2024, 2, 15, 12), 4)  # February 15-29: 15 of 29 days
    _sum_seats(at(2024, 2, 25, 12), -2)  # 2 leave with 5 days left
    [february] = run_beat(at(2024, 3, 1, 0, 5))
    # seats 1-3 carried, whole month, 1st tier: 3 x 29 x $10 = 870
    # seats 4-5 from the 15th, 1st tier: 2 x 15 x $10 = 300; seats 6-7, 2nd tier: 2 x 15 x $5
    # = 150; the 2 leaving take the top (2nd tier) for their last 5 days: -2 x 5 x $5 = -50
    # (870 + 300 + 150 - 50) / 29 = $43.7931 -> $43.79; the fee's units: 5 at the end
    assert fees(february) == [("charge", "Seats", 5, 4379)]
    fee = february.fees.get()
    assert [(t["units"], t["per_unit_amount"]) for t in fee.amount_details["graduated_ranges"]] == [
        (str(Decimal(117) / 29), "10"),  # 3 x 29 + 2 x 15 unit-days in the 1st tier
        (str(Decimal(20) / 29), "5"),  # 2 x 15 - 2 x 5 in the 2nd
    ]


def test_volume_anniversary_seat_added_mid_period(api):
    volume = {
        "volume_ranges": [
            {"from_value": 0, "to_value": 2, "per_unit_amount": "10", "flat_amount": "0"},
            {"from_value": 3, "to_value": None, "per_unit_amount": "8", "flat_amount": "5"},
        ]
    }
    create_seat_plan(api, [("volume", volume, {"prorated": True})])
    subscribe_api(api, at(2024, 3, 15, 9), billing_time="anniversary")  # Mar 15 - Apr 14
    seat_event(api, at(2024, 3, 15, 10), "a")
    seat_event(api, at(2024, 3, 15, 10, 1), "b")
    seat_event(api, at(2024, 4, 1, 10), "c")  # April 1-14: 14 of 31 days
    [invoice] = run_beat(at(2024, 4, 15, 0, 5))
    # 3 seats at the end: the 2nd tier ($8, $5 flat); (2 x 31 + 14) / 31 x $8 + $5 = $24.6129
    assert fees(invoice) == [("charge", "Seats", 3, 2461)]


def test_a_seat_removed_mid_period_and_a_termination(api):
    create_seat_plan(api, [PRORATED_SEAT])
    subscribe_api(api, at(2024, 4, 1))
    seat_event(api, at(2024, 4, 1, 10), "a")
    seat_event(api, at(2024, 4, 1, 10, 1), "b")
    seat_event(api, at(2024, 4, 10, 10), "b", remove=True)  # April 1-10 (removal day counted)
    [april] = run_beat(at(2024, 5, 1, 0, 5))
    # a: 30 days, b: 10 days: 40/30 x $10 = $13.33; units: 1 seat at the end
    assert fees(april) == [("charge", "Seats", 1, 1333)]
    with time_machine.travel(at(2024, 5, 12, 15), tick=False):
        subscription_terminate(subscription=Subscription.objects.get())
    [final] = list(Invoice.objects.exclude(pk=april.pk))
    # a, carried over, until the termination: May 1-12 = 12 of 31 days x $10 = $3.87
    assert fees(final) == [("charge", "Seats", 1, 387)]


def test_a_half_cent_is_rounded_half_up_once(api):
    create_seat_plan(api, [("standard", {"amount": "0.03"}, {"prorated": True})])
    subscribe_api(api, at(2024, 4, 1))
    for seat in "abc":
        seat_event(api, at(2024, 4, 16, 8), seat)  # April 16-30: 15 of 30 days
    [april] = run_beat(at(2024, 5, 1, 0, 5))
    # 3 x 15/30 x $0.03 = $0.045 exactly: half up, 5 cents (half-even would give 4)
    assert fees(april) == [("charge", "Seats", 3, 5)]
    assert april.fees.get().precise_amount == Decimal("0.045")


def test_days_are_counted_in_the_customers_time_zone(api):
    create_seat_plan(api, [PRORATED_SEAT])
    with time_machine.travel(at(2024, 8, 1), tick=False):
        api.post(
            "/api/v1/customers", {"customer": {"external_id": "cust", "timezone": "Asia/Tokyo"}}
        )
    subscribe_api(api, at(2024, 8, 31, 15))  # September 1st, 00:00 in Tokyo
    seat_event(api, at(2024, 9, 8, 16), "alice")  # September 9th, 01:00 in Tokyo: 22 days
    [invoice] = run_beat(at(2024, 9, 30, 15, 5))  # October 1st, 00:05 in Tokyo
    assert fees(invoice) == [("charge", "Seats", 1, 733)]


def test_upgrade_day_of_a_prorated_seat_is_billed_once(api):
    """A seat present all April on Team ($10/seat, prorated), upgraded to Team plus ($20/seat)
    on Apr 16 at noon: the old plan bills Apr 1-15 (15/30 x $10 = $5.00), the new one Apr 16-30
    (15/30 x $20 = $10.00) — the upgrade day once, as the base fee (Lago)."""
    team = create_seat_plan(api, [("standard", {"amount": "10"}, {"prorated": True})])
    seats_id = team["charges"][0]["lago_billable_metric_id"]
    with time_machine.travel(at(2024, 1, 1), tick=False):
        body = {
            "plan": {
                "name": "Team plus",
                "code": "team_plus",
                "interval": "monthly",
                "amount_cents": 100,
                "amount_currency": "USD",
                "charges": [
                    {
                        "billable_metric_id": seats_id,
                        "charge_model": "standard",
                        "properties": {"amount": "20"},
                        "prorated": True,
                    }
                ],
            }
        }
        assert api.post("/api/v1/plans", body, format="json").status_code == 200
    subscribe(at(2024, 4, 1), plan_code="team")
    seat_event(api, at(2024, 4, 1, 9), "alice")
    subscribe(at(2024, 4, 16, 12), plan_code="team_plus")
    [old_final] = Invoice.objects.all()
    assert [(f.fee_type, f.amount_cents) for f in old_final.fees.all()] == [("charge", 500)]
    [april] = run_beat(at(2024, 5, 1, 0, 5))
    seats = april.fees.get(fee_type="charge")
    assert seats.amount_cents == 1000
