"""The demo loader of `make run`: every run on the same var/ works and adds only what is new."""

from datetime import UTC, datetime

import time_machine

from backoffice.demo import _demo_events, demo_load
from customers.entitlements import subscription_entitlements
from customers.models import Subscription
from usage.models import Event
from usage.services import events_ingest

SCALE = 0.1  # a tenth of the events: the same code paths, quickly


def _load(moment: datetime) -> list[str]:
    with time_machine.travel(moment, tick=False):
        return list(demo_load(usage_scale=SCALE))


def _usage_line(lines: list[str]) -> str:
    return next(line for line in lines if line.startswith("Usage events:"))


def test_a_second_run_later_the_same_day_adds_only_the_new_events(db):
    first_run = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
    second_run = datetime(2026, 3, 10, 17, 45, tzinfo=UTC)
    first = _load(first_run)
    before = {e.transaction_id: e.properties for e in Event.objects.all()}

    second = _load(second_run)

    expected = {e["transaction_id"]: e for e in _demo_events(second_run, SCALE)}
    new = {tid for tid in expected if tid not in before}
    assert new, "the day's later events arrive with the second run"
    assert all(expected[tid]["timestamp"] >= first_run.isoformat() for tid in new)
    assert _usage_line(first) == f"Usage events: {len(before)} stored, 0 already there."
    assert _usage_line(second) == f"Usage events: {len(new)} stored, {len(before)} already there."
    # What the first run stored is unchanged, and the database holds exactly the demo's events.
    after = {e.transaction_id: e.properties for e in Event.objects.all()}
    assert {tid: after[tid] for tid in before} == before
    assert set(after) == set(expected)
    # as drawn; a metric with an expression adds its computed field (Lago stores it too)
    assert all(after[tid] | e["properties"] == after[tid] for tid, e in expected.items())
    # a feature on the plans, one subscription's override, created once
    assert "Entitlements: feature seats on 3 plans, acme_ai_main overridden to 50 seats." in first
    assert "Entitlements exist (feature seats)." in second
    subscription = Subscription.objects.get(external_id="acme_ai_main", status="active")
    (seats,) = subscription_entitlements(subscription)
    assert {p.privilege.code: (p.value, p.plan_value) for p in seats.privileges} == {
        "max": ("50", "20"),
        "sso": ("true", "true"),
        "support": ("business", "business"),
    }


def test_a_run_the_next_month_works_too(db):
    _load(datetime(2026, 1, 31, 14, 0, tzinfo=UTC))
    second = _load(datetime(2026, 2, 1, 8, 0, tzinfo=UTC))
    assert "0 stored" not in _usage_line(second)


def test_an_event_drawn_the_same_whatever_the_moment_of_the_run():
    early = {e["transaction_id"]: e for e in _demo_events(datetime(2026, 3, 10, 1, tzinfo=UTC))}
    late = {e["transaction_id"]: e for e in _demo_events(datetime(2026, 3, 10, 23, tzinfo=UTC))}
    assert early and set(early) < set(late)
    assert all(late[tid] == event for tid, event in early.items())


def test_events_an_earlier_demo_stored_with_other_contents_are_kept(db):
    """A var/ filled before the fix may hold some of today's ids with other properties."""
    moment = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    event = next(e for e in _demo_events(moment, SCALE) if e["code"] == "llm_tokens")
    stale = event | {"properties": {"tokens": 1, "model": "gpt-4o-mini"}}
    with time_machine.travel(moment, tick=False):
        events_ingest(raws=[stale])

    lines = _load(moment)

    assert "1 kept as an earlier demo stored them" in _usage_line(lines)
    kept = Event.objects.get(transaction_id=event["transaction_id"])
    assert kept.properties == stale["properties"]
