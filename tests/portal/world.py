"""A small billing world for portal tests, built through the real services and API: an AI API
plan (1M tokens included, then per token; gpt-4 dearer), two customers with usage last month
(invoiced) and this month, a wallet, and portal logins."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import time_machine
from django.contrib.auth import get_user_model

from customers.models import Customer, Subscription
from customers.services import customer_upsert, subscription_create
from customers.wallets import wallet_create
from invoices.models import Invoice
from invoices.services import subscription_bill_due
from plans.models import Plan
from portal.models import PortalAccount
from tests.factories import make_metric, make_plan

PASSWORD = "correct horse battery staple 7"


@dataclass
class World:
    now: datetime
    acme: Customer
    other: Customer
    acme_invoice: Invoice
    other_invoice: Invoice
    plan: Plan


def month_start(moment: datetime) -> datetime:
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def ai_plan() -> Plan:
    tokens = make_metric(
        "tokens",
        "sum_agg",
        field_name="tokens",
        filters=[{"key": "model", "values": ["gpt-4", "small"]}],
    )
    calls = make_metric("api_calls", "count_agg")
    included_then = lambda price: {  # noqa: E731
        "graduated_ranges": [
            {"from_value": 0, "to_value": 1_000_000, "per_unit_amount": "0", "flat_amount": "0"},
            {
                "from_value": 1_000_001,
                "to_value": None,
                "per_unit_amount": price,
                "flat_amount": "0",
            },
        ]
    }
    return make_plan(
        "ai_pro",
        10_000,
        charges=[
            {
                "billable_metric_id": str(tokens.lago_id),
                "charge_model": "graduated",
                "invoice_display_name": "Tokens",
                "properties": included_then("0.00002"),
                "filters": [
                    {
                        "values": {"model": ["gpt-4"]},
                        "invoice_display_name": "GPT-4 tokens",
                        "properties": {
                            "graduated_ranges": [
                                {
                                    "from_value": 0,
                                    "to_value": None,
                                    "per_unit_amount": "0.00006",
                                    "flat_amount": "0",
                                }
                            ]
                        },
                    }
                ],
            },
            {
                "billable_metric_id": str(calls.lago_id),
                "charge_model": "standard",
                "invoice_display_name": "API calls",
                "properties": {"amount": "0.001"},
            },
        ],
        name="AI Pro",
    )


def _events(api, subscription: str, start: datetime, days: int, per_day: int, prefix: str):
    events = []
    for day in range(days):
        moment = start + timedelta(days=day, hours=1)
        for n in range(2):
            model = "gpt-4" if n == 0 else "small"
            events.append(
                {
                    "transaction_id": f"{prefix}-{day}-{n}",
                    "external_subscription_id": subscription,
                    "code": "tokens",
                    "timestamp": moment.timestamp(),
                    "properties": {"tokens": per_day, "model": model},
                }
            )
        events.append(
            {
                "transaction_id": f"{prefix}-{day}-call",
                "external_subscription_id": subscription,
                "code": "api_calls",
                "timestamp": moment.timestamp(),
            }
        )
    for i in range(0, len(events), 100):
        response = api.post("/api/v1/events/batch", {"events": events[i : i + 100]}, format="json")
        assert response.status_code == 200, response.content


def build_world(api, now: datetime) -> World:
    """Subscriptions from last month's first day; last month billed; usage up to `now`."""
    this_month = month_start(now)
    last_month = month_start(this_month - timedelta(days=1))
    with time_machine.travel(last_month + timedelta(minutes=1), tick=False):
        plan = ai_plan()
        customers = {}
        for external_id, name, country, locale in (
            ("acme", "Acme AI", "US", "en"),
            ("other", "Other Corp", "FR", "fr"),
        ):
            customers[external_id], _ = customer_upsert(
                data={
                    "external_id": external_id,
                    "name": name,
                    "email": f"billing@{external_id}.example",
                    "country": country,
                    "currency": "USD",
                    "billing_configuration": {"document_locale": locale},
                }
            )
            subscription_create(
                data={
                    "external_customer_id": external_id,
                    "plan_code": "ai_pro",
                    "external_id": f"{external_id}_main",
                }
            )
        wallet_create(
            data={
                "external_customer_id": "acme",
                "rate_amount": "1",
                "currency": "USD",
                "granted_credits": "25",
                "name": "Prepaid",
            }
        )
        wallet_create(
            data={
                "external_customer_id": "other",
                "rate_amount": "1",
                "currency": "USD",
                "granted_credits": "5",
                "name": "Other's wallet",
            }
        )
    with time_machine.travel(this_month + timedelta(minutes=1), tick=False):
        _events(api, "acme_main", last_month, 20, 40_000, "acme-past")
        _events(api, "other_main", last_month, 20, 10_000, "other-past")
    with time_machine.travel(this_month + timedelta(minutes=5), tick=False):
        for subscription in Subscription.objects.filter(status="active"):
            subscription_bill_due(subscription_id=subscription.pk)
    days = max(1, (now - this_month).days)
    with time_machine.travel(now, tick=False):
        _events(api, "acme_main", this_month, days, 30_000, "acme-now")
    acme, other = customers["acme"], customers["other"]
    return World(
        now=now,
        acme=acme,
        other=other,
        acme_invoice=Invoice.objects.get(customer=acme, invoice_type="subscription"),
        other_invoice=Invoice.objects.get(customer=other, invoice_type="subscription"),
        plan=plan,
    )


def portal_user(customer: Customer, email: str, password: str = PASSWORD):
    user = get_user_model().objects.create_user(username=email, email=email, password=password)
    PortalAccount.objects.create(user=user, customer=customer)
    return user


def frozen(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)
