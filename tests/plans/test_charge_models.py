"""The charge-model registry (plans/charge_models.py): one list that the model choices, the
property validation, the pricing dispatch, the admin form, the plan rules and the aggregation
SQL all read."""

from decimal import Decimal

import pytest

from plans import charge_models, pricing
from plans.charge_models import REGISTRY, SPECS, missing_parts, pricer, validator
from plans.charge_properties import validate_properties
from plans.forms import RANGE_KEYS, SCALAR_FIELDS
from plans.models import Charge, ChargeModel
from usage.aggregation import PRORATED_MODELS


def test_every_registered_model_has_a_pricer_and_a_validator():
    assert missing_parts() == []


def test_model_choices_are_the_registry_in_its_order_with_the_same_labels_as_before():
    assert ChargeModel.choices == [
        ("standard", "standard"),
        ("graduated", "graduated"),
        ("volume", "volume"),
        ("package", "package"),
        ("percentage", "percentage"),
        ("graduated_percentage", "graduated percentage"),
        ("dynamic", "dynamic"),
    ]
    assert Charge._meta.get_field("charge_model").choices == ChargeModel.choices
    assert ChargeModel.GRADUATED_PERCENTAGE == "graduated_percentage"


def test_the_admin_form_edits_the_fields_the_registry_lists():
    assert RANGE_KEYS == {
        "graduated": ("graduated_ranges", "per_unit_amount"),
        "volume": ("volume_ranges", "per_unit_amount"),
        "graduated_percentage": ("graduated_percentage_ranges", "rate"),
    }
    assert SCALAR_FIELDS["package"] == ("amount", "package_size", "free_units")
    assert SCALAR_FIELDS["dynamic"] == ()


def test_only_standard_graduated_and_volume_are_prorated_and_only_standard_in_advance():
    assert PRORATED_MODELS == ("standard", "graduated", "volume")
    assert [spec.key for spec in SPECS if spec.prorated_in_advance] == ["standard"]
    assert [spec.key for spec in SPECS if not spec.pay_in_advance] == ["volume"]
    assert REGISTRY["dynamic"].aggregations == frozenset({"sum_agg"})
    assert "latest_agg" not in REGISTRY["percentage"].aggregations


def test_a_tiered_model_is_validated_by_the_shared_range_rules():
    properties = {"volume_ranges": [{"from_value": 0, "to_value": None, "per_unit_amount": "x"}]}
    assert validate_properties("volume", properties) == (
        {"volume_ranges": []},
        {"volume_ranges": ["invalid_amount"]},
    )


def test_the_pricing_dispatch_uses_the_registered_pricer():
    properties = {"amount": "5", "package_size": 10}
    result = pricing.price("package", properties, pricing.UsageInput(Decimal(21)))
    assert (result.amount, result.details["packages"]) == (Decimal(15), 3)
    with pytest.raises(ValueError, match=r"unknown charge model: 'custom'"):
        pricing.price("custom", {}, pricing.UsageInput(Decimal(1)))


def test_registering_a_pricer_or_validator_for_a_model_not_in_the_registry_is_refused():
    with pytest.raises(LookupError, match=r"'custom' is not in plans\.charge_models\.SPECS"):
        pricer("custom")(lambda properties, usage: None)
    with pytest.raises(LookupError, match=r"'custom' is not in plans\.charge_models\.SPECS"):
        validator("custom")(lambda source, out, errors: None)
    assert charge_models.pricer_for("custom") is None
