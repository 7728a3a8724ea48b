"""Lago's prorated vs fully-billed charges (recurring metrics): a unit added mid-period costs the
days it existed when the charge is prorated, the full price otherwise."""

import pytest

from tests.lago_docs.conftest import at, fees_by_type

pytestmark = pytest.mark.django_db


JULY_2024 = at(2024, 7, 1)


def _seats(lago, amount, prorated, pay_in_advance=False, start=JULY_2024):
    lago.metric("seats", "unique_count_agg", "seat_id", recurring=True)
    lago.customer()
    charge = lago.charge(
        "seats",
        "standard",
        {"amount": amount},
        prorated=prorated,
        pay_in_advance=pay_in_advance,
    )
    lago.plan("startup", 0, charges=[charge])
    lago.subscribe(start, "startup")


def test_prorated_seat_added_july_10th(lago):
    """https://getlago.com/docs/guide/plans/charges/prorated-vs-full#prorated-charges

    A prorated Seats charge at $10 per seat; a seat added on July 10th is billed for 22 days:
    the page writes "(1 Seat x $10), used for 22 days = $7.33", i.e. 22/30. Adaptation: July
    has 31 days (July 10th-31st is the page's 22 days), so applied to the real period, July
    2024, the seat costs 22/31 x $10 = $7.0968 -> $7.10 (710 cents) on the August 1st invoice;
    August bills the seat in full ($10).
    """
    _seats(lago, "10", prorated=True)
    lago.event(at(2024, 7, 10, 9), "seats", {"seat_id": "seat_1"})
    lago.beat(at(2024, 8, 1, 0, 5))
    lago.beat(at(2024, 9, 1, 0, 5))
    july, august = lago.invoices()
    assert fees_by_type(july) == {"seats": 710}
    assert fees_by_type(august) == {"seats": 1000}


def test_fully_billed_seat_added_july_10th(lago):
    """https://getlago.com/docs/guide/plans/charges/prorated-vs-full#fully-billed-charges

    The same seat, charge not prorated: "(1 Seat x $10), used for 22 days = $10." (1000 cents),
    July 2024.
    """
    _seats(lago, "10", prorated=False)
    lago.event(at(2024, 7, 10, 9), "seats", {"seat_id": "seat_1"})
    lago.beat(at(2024, 8, 1, 0, 5))
    [july] = lago.invoices()
    assert fees_by_type(july) == {"seats": 1000}


def test_prorated_seat_paid_in_advance_billed_at_once(lago):
    """https://getlago.com/docs/guide/plans/charges/prorated-vs-full#prorated-charges (API tab:
    a standard charge, pay_in_advance true, prorated true)

    In advance, the seat added on July 10th is invoiced when the event arrives, prorated for
    its 22 days; July 2024 has 31 days: 22/31 x $10 = $7.10 (710 cents).
    """
    _seats(lago, "10", prorated=True, pay_in_advance=True)
    lago.event(at(2024, 7, 10, 9), "seats", {"seat_id": "seat_1"})
    [invoice] = lago.invoices()
    assert invoice["issuing_date"] == "2024-07-10"
    assert fees_by_type(invoice) == {"seats": 710}


def test_seat_at_30_added_january_16th_is_15_48(lago):
    """https://getlago.com/docs/guide/revenue-recognition/how-it-works/usage-based-charges#recurring-usage-such-as-seats

    A customer adds 1 seat at $30/month on January 16; January has 31 days, the seat is active
    16 days (January 16-31): $30 / 31 x 16 = $15.48 (1548 cents). The page is about revenue
    recognition; the amount is the prorated charge's, checked here on the February 1st invoice
    of a prorated Seats charge (January 2025).
    """
    _seats(lago, "30", prorated=True, start=at(2025, 1, 1))
    lago.event(at(2025, 1, 16, 11), "seats", {"seat_id": "seat_1"})
    lago.beat(at(2025, 2, 1, 0, 5))
    [january] = lago.invoices()
    assert fees_by_type(january) == {"seats": 1548}


def test_recurring_count_user_added_september_15_removed_october_22(lago):
    """https://getlago.com/changelog/recurring-count (Lago changelog, 2022)

    A user added on September 15th is billed at the end of September for the days of activity
    (September 15th-30th: 16 of 30 days); deleted on October 22nd, it is billed for October
    1st-22nd (22 of 31 days). The changelog gives no price: at $30 per user per month that is
    $16.00 (1600 cents) for September and 22/31 x $30 = $21.29 (2129 cents) for October, with
    the unique-count metric recurring and the charge prorated (today's form of the recurring
    count).
    """
    _seats(lago, "30", prorated=True, start=at(2022, 9, 1))
    lago.event(at(2022, 9, 15, 10), "seats", {"seat_id": "user_1"})
    lago.beat(at(2022, 10, 1, 0, 5))
    lago.event(at(2022, 10, 22, 10), "seats", {"seat_id": "user_1", "operation_type": "remove"})
    lago.beat(at(2022, 11, 1, 0, 5))
    september, october = lago.invoices()
    assert fees_by_type(september) == {"seats": 1600}
    assert fees_by_type(october) == {"seats": 2129}
