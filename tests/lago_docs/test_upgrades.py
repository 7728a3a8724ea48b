"""Lago's upgrades and downgrades page: an upgrade applies at once (the old plan is billed for the
days before the upgrade day, the new plan from it), a downgrade at the end of the period."""

import pytest

from tests.lago_docs.conftest import at, fees_by_type

pytestmark = pytest.mark.django_db


def _plans(lago, pay_in_advance=False):
    lago.customer(currency="EUR")
    lago.plan("plan_a", 10000, currency="EUR", pay_in_advance=pay_in_advance)
    lago.plan("plan_b", 20000, currency="EUR", pay_in_advance=pay_in_advance)


def test_upgrade_in_arrears_january_15th(lago):
    """https://getlago.com/docs/guide/subscriptions/upgrades-downgrades#subscription-paid-in-arrears

    Plan A (€100/month, in arrears, calendar) from January 1st, upgraded to Plan B (€200/month)
    on January 15th: on January 15th an invoice for Plan A, 14 days = €45.16 (14/31 x €100,
    4516 cents); at the end of January an invoice for Plan B, 17 days = €109.68 (17/31 x €200,
    10968 cents). Replayed in January 2025 (31 days); the upgrade is made at 10:00 on the 15th.
    """
    _plans(lago)
    lago.subscribe(at(2025, 1, 1), "plan_a")
    upgraded = lago.subscribe(at(2025, 1, 15, 10), "plan_b")
    assert (upgraded["status"], upgraded["plan_code"]) == ("active", "plan_b")
    [plan_a] = lago.invoices()
    assert plan_a["issuing_date"] == "2025-01-15"
    assert fees_by_type(plan_a) == {"subscription": 4516}
    lago.beat(at(2025, 2, 1, 0, 5))
    _, plan_b = lago.invoices()
    assert fees_by_type(plan_b) == {"subscription": 10968}
    assert plan_b["billing_periods"][0]["subscription_from_datetime"].startswith("2025-01-15")


def test_upgrade_in_advance_credits_the_unused_days(lago):
    """https://getlago.com/docs/guide/subscriptions/upgrades-downgrades#subscription-paid-in-advance

    Paid in advance, an upgrade issues a credit note for the unused days remaining on the
    former plan. The page gives no amounts for this case; its example applied in advance
    (January 2025): Plan A's €100 was invoiced on January 1st; upgraded on January 15th, the
    unused days are January 15th-31st (the new plan runs from the upgrade day, as in the arrears
    example): 17/31 x €100 = €54.84 (5484 cents) credited; Plan B is invoiced at once for the
    same 17 days: 17/31 x €200 = €109.68 (10968 cents).
    """
    _plans(lago, pay_in_advance=True)
    lago.subscribe(at(2025, 1, 1), "plan_a")
    [january_a] = lago.invoices()
    assert fees_by_type(january_a) == {"subscription": 10000}
    lago.subscribe(at(2025, 1, 15, 10), "plan_b")
    later = [fees_by_type(i) for i in lago.invoices()[1:]]
    assert [f for f in later if f] == [{"subscription": 10968}]  # (old plan: nothing more due)
    [note] = lago.credit_notes()
    assert note["lago_invoice_id"] == january_a["lago_id"]
    assert (note["total_amount_cents"], note["credit_amount_cents"]) == (5484, 5484)


def test_downgrade_applies_at_the_end_of_the_period(lago):
    """https://getlago.com/docs/guide/subscriptions/upgrades-downgrades#downgrades-behavior

    A downgrade (the new plan's fee is lower) applies at the end of the current billing period;
    until then the new plan is pending. Replayed: Plan B (€200, arrears) from January 1st,
    2025, downgraded to Plan A (€100) on January 15th -> pending; January is billed on Plan B in
    full (€200), February on Plan A (€100).
    """
    _plans(lago)
    lago.subscribe(at(2025, 1, 1), "plan_b")
    pending = lago.subscribe(at(2025, 1, 15, 10), "plan_a")
    assert (pending["status"], pending["plan_code"]) == ("pending", "plan_a")
    active = lago.get("subscriptions/sub", "subscription", at(2025, 1, 20))
    assert (active["plan_code"], active["next_plan_code"]) == ("plan_b", "plan_a")
    lago.beat(at(2025, 2, 1, 0, 5))
    lago.beat(at(2025, 3, 1, 0, 5))
    january, february = lago.invoices()
    assert fees_by_type(january) == {"subscription": 20000}
    assert fees_by_type(february) == {"subscription": 10000}
    assert (
        february["billing_periods"][0]["lago_plan_id"]
        != january["billing_periods"][0]["lago_plan_id"]
    )


def test_equal_daily_fee_is_an_upgrade(lago):
    """https://getlago.com/docs/guide/subscriptions/upgrades-downgrades#upgrades-behavior

    An upgrade is a new plan whose fee, on a daily basis, equals or exceeds the previous plan's,
    whatever the usage prices: a plan at the same €100 is applied at once, not at the period's
    end.
    """
    _plans(lago)
    lago.plan("plan_a_bis", 10000, currency="EUR")
    lago.subscribe(at(2025, 1, 1), "plan_a")
    changed = lago.subscribe(at(2025, 1, 15, 10), "plan_a_bis")
    assert (changed["status"], changed["plan_code"]) == ("active", "plan_a_bis")
