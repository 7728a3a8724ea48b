"""`manage.py bill_due` reports what its own run did: two runs at once never both report the
same drafts as finalized (PostgreSQL, threads released together: tests/races.py)."""

import io
import re
from datetime import UTC, datetime

import pytest
import time_machine
from django.core.management import call_command

from customers.models import Customer
from customers.services import customer_upsert, subscription_create
from invoices.models import Invoice
from invoices.services import subscription_bill_due
from tests.factories import make_plan
from tests.races import race

DRAFTS = 8


def _drafts_in_grace() -> None:
    """DRAFTS invoices of May 1, each in a two-day grace period (to be finalized May 3)."""
    make_plan("pro", 1000)
    for n in range(DRAFTS):
        customer_upsert(data={"external_id": f"c{n}", "name": f"C{n}", "currency": "USD"})
    Customer.objects.update(invoice_grace_period=2)
    with time_machine.travel(datetime(2024, 4, 1, tzinfo=UTC), tick=False):
        ids = [
            subscription_create(
                data={"external_customer_id": f"c{n}", "plan_code": "pro", "external_id": f"s{n}"}
            ).pk
            for n in range(DRAFTS)
        ]
    for subscription_id in ids:
        subscription_bill_due(subscription_id=subscription_id, now=datetime(2024, 5, 1, tzinfo=UTC))
    assert Invoice.objects.filter(status="draft").count() == DRAFTS


def _bill_due(outputs: list) -> None:
    out = io.StringIO()
    call_command("bill_due", now="2024-05-04T00:00:00Z", stdout=out)
    outputs.append(out.getvalue())


def _finalized(output: str) -> tuple[int, list[str]]:
    count = int(re.search(r"(\d+) draft\(s\) finalized", output).group(1))
    return count, re.findall(r"^finalized (\S+)$", output, re.MULTILINE)


@pytest.mark.django_db
def test_a_second_run_reports_nothing_finalized_again():
    _drafts_in_grace()
    outputs: list[str] = []
    _bill_due(outputs)
    _bill_due(outputs)
    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    assert numbers == [f"INV-202405-000{n}" for n in range(1, DRAFTS + 1)]
    assert _finalized(outputs[0]) == (DRAFTS, numbers)
    assert _finalized(outputs[1]) == (0, [])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_each_report_only_the_drafts_they_finalized():
    _drafts_in_grace()
    outputs: list[str] = []
    assert race([lambda: _bill_due(outputs), lambda: _bill_due(outputs)]) == []
    (first, first_numbers), (second, second_numbers) = map(_finalized, outputs)
    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    assert numbers == [f"INV-202405-000{n}" for n in range(1, DRAFTS + 1)]
    assert first + second == DRAFTS
    assert sorted(first_numbers + second_numbers) == numbers  # each reported once
