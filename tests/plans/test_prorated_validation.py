"""Where `prorated: true` is allowed (Lago's Charge#validate_prorated): recurring metrics only;
in arrears with standard, graduated or volume; in advance with standard only; never with
weighted_sum. Refused with 422 on the field and Lago's reason code, in the API and the admin."""

import itertools

import pytest
from django.urls import reverse

from plans.models import Charge
from tests.factories import make_metric, make_plan
from tests.plans.test_admin_catalog import PLAN_FORM, _charge_fields

pytestmark = pytest.mark.django_db
CODE = "invalid_billable_metric_or_charge_model"
RANGES = [
    {"from_value": 0, "to_value": 10, "per_unit_amount": "1", "flat_amount": "0"},
    {"from_value": 11, "to_value": None, "per_unit_amount": "0.5", "flat_amount": "0"},
]
PROPERTIES = {
    "standard": {"amount": "1"},
    "graduated": {"graduated_ranges": RANGES},
    "volume": {"volume_ranges": RANGES},
    "package": {"amount": "1", "package_size": 10, "free_units": 0},
    "percentage": {"rate": "1"},
}
METRICS = [  # (aggregation, recurring)
    ("sum_agg", True),
    ("unique_count_agg", True),
    ("weighted_sum_agg", True),
    ("sum_agg", False),
    ("unique_count_agg", False),
    ("count_agg", False),
]


def _allowed(aggregation, recurring, model, in_advance) -> bool:
    if not recurring or aggregation == "weighted_sum_agg":
        return False
    return model == "standard" if in_advance else model in ("standard", "graduated", "volume")


@pytest.mark.parametrize(
    ("metric", "model", "in_advance"),
    list(itertools.product(METRICS, PROPERTIES, [False, True])),
)
def test_prorated_is_refused_where_lago_refuses_it(api, metric, model, in_advance):
    aggregation, recurring = metric
    billable = make_metric("m", aggregation, recurring=recurring)
    charge = {
        "billable_metric_id": str(billable.lago_id),
        "charge_model": model,
        "properties": PROPERTIES[model],
        "pay_in_advance": in_advance,
        "prorated": True,
    }
    plan = {"name": "P", "code": "p", "interval": "monthly", "amount_cents": 0}
    response = api.post(
        "/api/v1/plans", {"plan": {**plan, "amount_currency": "USD", "charges": [charge]}}
    )
    errors = response.json().get("error_details", {}) if response.status_code == 422 else {}
    if _allowed(aggregation, recurring, model, in_advance):
        assert response.status_code == 200, response.json()
        assert Charge.objects.get().prorated is True
        assert response.json()["plan"]["charges"][0]["prorated"] is True
    else:
        assert response.status_code == 422
        assert errors["charges.0.prorated"] == [CODE]


def test_an_update_checks_the_stored_prorated_flag_against_the_new_model(api):
    seats = make_metric("seats", "sum_agg", recurring=True)
    charge = {
        "billable_metric_id": str(seats.lago_id),
        "charge_model": "standard",
        "properties": {"amount": "10"},
        "prorated": True,
    }
    make_plan("team", charges=[charge])
    package = {
        "code": "seats",
        "billable_metric_id": str(seats.lago_id),
        "charge_model": "package",
        "properties": PROPERTIES["package"],
    }
    response = api.put("/api/v1/plans/team", {"plan": {"charges": [package]}})
    assert response.status_code == 422
    assert response.json()["error_details"] == {"charges.0.prorated": [CODE]}
    assert Charge.objects.get().charge_model == "standard"  # nothing written
    allowed = api.put("/api/v1/plans/team", {"plan": {"charges": [{**package, "prorated": False}]}})
    assert allowed.status_code == 200, allowed.json()
    assert (Charge.objects.get().charge_model, Charge.objects.get().prorated) == ("package", False)


def test_the_admin_form_refuses_prorated_on_a_metered_metric(admin_client):
    metric = make_metric("tokens")  # sum_agg, not recurring
    form = {
        **PLAN_FORM,
        **_charge_fields(metric, charge_model="standard", amount="1", prorated="on"),
    }
    response = admin_client.post(reverse("admin:plans_plan_add"), form)
    assert response.status_code == 200
    assert CODE in response.content.decode()
    assert not Charge.objects.exists()


def test_the_admin_form_accepts_prorated_on_a_recurring_metric(admin_client):
    metric = make_metric("seats", recurring=True)
    form = {
        **PLAN_FORM,
        **_charge_fields(metric, charge_model="standard", amount="1", prorated="on"),
    }
    response = admin_client.post(reverse("admin:plans_plan_add"), form)
    assert response.status_code == 302
    assert Charge.objects.get().prorated is True
