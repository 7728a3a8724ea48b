"""The catalog announces its changes through core.hooks (`catalog.changed`) and ingestion, a
higher layer, resets its per-process cache: the catalog never imports usage."""

import pytest
from django.db import transaction

from core import hooks
from plans.services import billable_metric_update, plan_update
from tests.factories import make_metric, make_plan, standard_charge
from usage import catalog_cache
from usage.apps import _clear_catalog_cache

pytestmark = pytest.mark.django_db


def test_usage_registers_the_cache_reset_for_catalog_changes():
    assert _clear_catalog_cache in hooks.receivers("catalog.changed")


def test_a_metric_change_reaches_ingestion_once_committed(django_capture_on_commit_callbacks):
    metric = make_metric("tokens", field_name="value")
    assert catalog_cache.metrics_info({"tokens"})["tokens"].field_name == "value"
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        billable_metric_update(metric=metric, data={"field_name": "tokens_used"})
        assert catalog_cache.metrics_info({"tokens"})["tokens"].field_name == "value"
    assert len(callbacks) == 1
    assert catalog_cache.metrics_info({"tokens"})["tokens"].field_name == "tokens_used"


def test_a_new_pricing_group_key_reaches_ingestion_once_committed(
    django_capture_on_commit_callbacks,
):
    metric = make_metric("tokens")
    plan = make_plan(charges=[standard_charge(metric, "0.01")])
    assert catalog_cache.metrics_info({"tokens"})["tokens"].rollup_keys == ()
    charge = standard_charge(metric, "0.01")
    charge["properties"]["pricing_group_keys"] = ["region"]
    with django_capture_on_commit_callbacks(execute=True):
        plan_update(plan=plan, data={"charges": [charge]})
    assert catalog_cache.metrics_info({"tokens"})["tokens"].rollup_keys == ("region",)


def test_a_rolled_back_change_leaves_the_cache_as_it_was(django_capture_on_commit_callbacks):
    metric = make_metric("tokens", field_name="value")
    catalog_cache.metrics_info({"tokens"})
    capture = django_capture_on_commit_callbacks(execute=False)
    with capture as callbacks, pytest.raises(RuntimeError), transaction.atomic():
        billable_metric_update(metric=metric, data={"field_name": "tokens_used"})
        raise RuntimeError("rolled back")
    assert callbacks == []
    assert catalog_cache.metrics_info({"tokens"})["tokens"].field_name == "value"
