"""import_events: CSV and JSON Lines with duplicates and bad rows; --mark-billed usage is never
counted."""

import json
from datetime import UTC, datetime

import pytest
import time_machine
from django.core.management import call_command

from customers.services import subscription_create
from tests.factories import make_metric, make_plan, standard_charge
from usage.models import Event
from usage.reports import current_usage

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def world():
    with time_machine.travel(datetime(2024, 3, 20, tzinfo=UTC), tick=False):
        metric = make_metric("tokens", field_name="tokens")
        make_plan("basic", charges=[standard_charge(metric, "1")])
        subscription_create(
            data={
                "external_customer_id": "c",
                "plan_code": "basic",
                "external_id": "sub",
                "subscription_at": "2024-01-01T00:00Z",
            }
        )
        yield


def test_jsonl_with_duplicates_and_bad_rows(tmp_path, capsys):
    lines = [
        {
            "transaction_id": "a",
            "external_subscription_id": "sub",
            "code": "tokens",
            "timestamp": "2024-01-05T00:00:00Z",
            "properties": {"tokens": 10},
        },
        {
            "transaction_id": "a",
            "external_subscription_id": "sub",
            "code": "tokens",
            "timestamp": "2024-01-05T00:00:00Z",
            "properties": {"tokens": 10},
        },
        {
            "transaction_id": "b",
            "external_subscription_id": "sub",
            "code": "tokens",
            "timestamp": "not a time",
            "properties": {"tokens": 10},
        },
        {
            "transaction_id": "c",
            "external_subscription_id": "sub",
            "code": "tokens",
            "timestamp": "2024-02-05T00:00:00Z",
            "properties": {"tokens": 20},
        },
    ]
    source = tmp_path / "events.jsonl"
    source.write_text("\n".join(json.dumps(line) for line in lines) + "\n{oops\n")
    call_command("import_events", str(source), "--no-progress")
    out = capsys.readouterr().out
    assert "rows: 5  imported: 2  duplicates: 1  unmatched: 0  rejected: 2" in out
    rejected = [json.loads(line) for line in (tmp_path / "events.jsonl.rejected.jsonl").open()]
    assert [(r["line"], r["errors"]) for r in rejected] == [
        (5, {"line": ["invalid_json"]}),
        (3, {"timestamp": ["invalid_format"]}),
    ]
    assert Event.objects.count() == 2
    call_command("import_events", str(source), "--no-progress")  # running it again adds nothing
    assert Event.objects.count() == 2


def test_csv_marked_billed_never_counts(tmp_path, capsys):
    source = tmp_path / "usage.csv"
    source.write_text(
        "transaction_id,external_subscription_id,code,timestamp,tokens,model\n"
        "h1,sub,tokens,2024-03-02T00:00:00Z,500,gpt-4o\n"
        "h2,sub,tokens,2024-03-03T00:00:00Z,many,gpt-4o\n"
    )
    call_command("import_events", str(source), "--mark-billed", "--no-progress")
    assert "imported: 1" in capsys.readouterr().out
    event = Event.objects.get()
    assert event.already_billed and event.properties == {"tokens": "500", "model": "gpt-4o"}
    with time_machine.travel(datetime(2024, 3, 20, tzinfo=UTC), tick=False):
        from customers.models import Subscription

        report = current_usage(Subscription.objects.get(external_id="sub"))
    assert report.amount_cents == 0  # 500 tokens at $1 would be 50,000 cents if counted
