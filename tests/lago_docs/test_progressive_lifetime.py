"""Lago's progressive billing thresholds follow the subscription's lifetime usage, across
billing periods (see also tests/invoices/test_progressive_billing.py)."""

import pytest

from tests.lago_docs.conftest import at
from tests.lago_docs.test_progressive_billing import _plan, _progressive

pytestmark = pytest.mark.django_db


def test_thresholds_follow_lifetime_usage_across_periods(lago):
    """https://getlago.com/docs/guide/plans/progressive-billing#lifetime-usage

    Thresholds are reached by the subscription's lifetime usage, the total across all billing
    periods: with thresholds $5 and $50, $6 in September bills $6; $6 more in October brings the
    lifetime usage to $12, which crosses no new threshold, so October has no progressive invoice
    (its usage is billed at the period's end); $40 more (lifetime $52) crosses $50.
    """
    _plan(lago, [{"amount_cents": 500}, {"amount_cents": 5000}])
    lago.event(at(2024, 9, 3), "api_calls", {"calls": 6})
    lago.beat(at(2024, 10, 1, 0, 5))
    lago.event(at(2024, 10, 3), "api_calls", {"calls": 6})
    assert [i["total_amount_cents"] for i in _progressive(lago)] == [600]
    lago.event(at(2024, 10, 5), "api_calls", {"calls": 40})
    assert [i["total_amount_cents"] for i in _progressive(lago)] == [600, 4600]
