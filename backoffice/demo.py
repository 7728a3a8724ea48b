"""The demo data set shown by `make run`: an AI API company, its catalog and its customers.

Each capability adds its part here; every step is idempotent (looked up by code/external id),
and goes through the same services as the API.
"""

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from djmoney.money import Money

from core.errors import ValidationFailed
from core.models import ApiKey
from core.services import api_key_create
from customers.entitlements import subscription_entitlements_update
from customers.models import Customer, Subscription
from customers.services import customer_upsert, subscription_create
from plans.models import BillableMetric, Feature, Plan
from plans.selectors import plan_get
from plans.services import billable_metric_create, billable_metric_update, plan_create
from plans.services.entitlements import plan_entitlements_update
from plans.services.features import feature_create
from usage.services import events_ingest

DEMO_KEY_NAME = "demo"

METRICS = [
    {
        "name": "LLM tokens",
        "code": "llm_tokens",
        "description": "Input + output tokens, by model.",
        "aggregation_type": "sum_agg",
        "field_name": "tokens",
        "filters": [{"key": "model", "values": ["gpt-4o", "gpt-4o-mini", "llama-3-70b"]}],
    },
    {
        "name": "GPU seconds",
        "code": "gpu_seconds",
        "description": "Seconds of dedicated GPU time.",
        "aggregation_type": "sum_agg",
        "field_name": "seconds",
        "rounding_function": "ceil",
        "rounding_precision": 0,
    },
    {
        "name": "API calls",
        "code": "api_calls",
        "description": "Requests to the API.",
        "aggregation_type": "count_agg",
    },
    {
        "name": "Fine-tuned models hosted",
        "code": "hosted_models",
        "description": "Distinct fine-tuned models kept deployed (recurring).",
        "aggregation_type": "unique_count_agg",
        "field_name": "model_id",
        "recurring": True,
    },
    {
        "name": "Transcription minutes",
        "code": "audio_minutes",
        "description": "Audio transcribed; events carry duration_ms, an expression makes minutes.",
        "aggregation_type": "sum_agg",
        "field_name": "minutes",
        "expression": "round(event.properties.duration_ms / 60000, 2)",
    },
]


# What each unit costs the demo company to serve (inference, GPU rental, hosting), so the
# dashboard's gross margin has something to show: revenue minus units x unit cost.
UNIT_COSTS = {
    "llm_tokens": "0.000004",  # $4 per million tokens
    "gpu_seconds": "0.0003",  # about $1.08 per GPU hour
    "api_calls": "0.00002",  # $0.20 per 10,000 requests
    "hosted_models": "6",  # per model kept deployed for the month
    "audio_minutes": "0.002",  # speech-to-text inference per minute
}


def _included_then(per_unit: str, included: int) -> dict:
    """Lago's way of saying "N units included, then a price per unit": a free first tier."""
    return {
        "graduated_ranges": [
            {"from_value": 0, "to_value": included, "per_unit_amount": "0", "flat_amount": "0"},
            {
                "from_value": included + 1,
                "to_value": None,
                "per_unit_amount": per_unit,
                "flat_amount": "0",
            },
        ]
    }


def _plans(metric_ids: dict[str, str]) -> list[dict]:
    tokens, gpu = metric_ids["llm_tokens"], metric_ids["gpu_seconds"]
    calls, hosted = metric_ids["api_calls"], metric_ids["hosted_models"]
    audio = metric_ids["audio_minutes"]
    return [
        {
            "name": "Starter",
            "code": "starter",
            "description": "$50/month including 500,000 tokens, then $0.01 per 1,000 tokens.",
            "interval": "monthly",
            "amount_cents": 5000,
            "amount_currency": "USD",
            "pay_in_advance": True,
            "charges": [
                {
                    "billable_metric_id": tokens,
                    "charge_model": "graduated",
                    "invoice_display_name": "Tokens",
                    "properties": _included_then("0.00001", 500_000),
                },
            ],
        },
        {
            "name": "Pro",
            "code": "pro",
            "description": "$100/month including 1,000,000 tokens, then $0.02 per 1,000 tokens; "
            "GPT-4o tokens at $0.03 per 1,000; GPU time and API calls metered.",
            "interval": "monthly",
            "amount_cents": 10000,
            "amount_currency": "USD",
            "pay_in_advance": True,
            "charges": [
                {
                    "billable_metric_id": tokens,
                    "charge_model": "graduated",
                    "invoice_display_name": "Tokens",
                    "properties": _included_then("0.00002", 1_000_000),
                    "filters": [
                        {
                            "invoice_display_name": "GPT-4o tokens",
                            "values": {"model": ["gpt-4o"]},
                            "properties": {
                                "graduated_ranges": [
                                    {
                                        "from_value": 0,
                                        "to_value": None,
                                        "per_unit_amount": "0.00003",
                                        "flat_amount": "0",
                                    }
                                ]
                            },
                        }
                    ],
                },
                {
                    "billable_metric_id": gpu,
                    "charge_model": "standard",
                    "invoice_display_name": "GPU time",
                    "properties": {"amount": "0.0008"},
                },
                {
                    "billable_metric_id": calls,
                    "charge_model": "package",
                    "invoice_display_name": "API calls",
                    "properties": {"amount": "1", "package_size": 10_000, "free_units": 100_000},
                },
                {
                    "billable_metric_id": hosted,
                    "charge_model": "standard",
                    "invoice_display_name": "Hosted fine-tuned models",
                    "properties": {"amount": "20"},
                },
                {
                    "billable_metric_id": audio,
                    "charge_model": "standard",
                    "invoice_display_name": "Transcription",
                    "properties": {"amount": "0.006"},
                },
            ],
        },
        {
            "name": "Enterprise (yearly)",
            "code": "enterprise_yearly",
            "description": "$12,000/year in advance, usage billed monthly, "
            "$24,000 minimum commitment a year.",
            "interval": "yearly",
            "amount_cents": 1_200_000,
            "amount_currency": "USD",
            "pay_in_advance": True,
            "bill_charges_monthly": True,
            "minimum_commitment": {"amount_cents": 2_400_000},
            "usage_thresholds": [{"amount_cents": 500_000, "threshold_display_name": "$5,000"}],
            "charges": [
                {
                    "billable_metric_id": tokens,
                    "charge_model": "volume",
                    "invoice_display_name": "Tokens (volume)",
                    "properties": {
                        "volume_ranges": [
                            {
                                "from_value": 0,
                                "to_value": 100_000_000,
                                "per_unit_amount": "0.000015",
                                "flat_amount": "0",
                            },
                            {
                                "from_value": 100_000_001,
                                "to_value": None,
                                "per_unit_amount": "0.00001",
                                "flat_amount": "0",
                            },
                        ]
                    },
                },
                {
                    "billable_metric_id": gpu,
                    "charge_model": "standard",
                    "properties": {"amount": "0.0006"},
                },
            ],
        },
    ]


CUSTOMERS = [
    {
        "external_id": "acme_ai",
        "name": "Acme AI Labs",
        "customer_type": "company",
        "email": "billing@acme-ai.example",
        "legal_name": "Acme AI Labs Inc.",
        "address_line1": "1 Market St",
        "city": "San Francisco",
        "state": "CA",
        "zipcode": "94105",
        "country": "US",
        "currency": "USD",
        "timezone": "America/Los_Angeles",
        "net_payment_term": 30,
        "plan": "pro",
    },
    {
        "external_id": "nimbus_health",
        "name": "Nimbus Health GmbH",
        "customer_type": "company",
        "email": "finance@nimbus.example",
        "address_line1": "Friedrichstr. 10",
        "city": "Berlin",
        "zipcode": "10117",
        "country": "DE",
        "currency": "USD",
        "timezone": "Europe/Berlin",
        "billing_configuration": {"document_locale": "de"},
        "plan": "starter",
    },
    {
        "external_id": "orbit_search",
        "name": "Orbit Search",
        "customer_type": "company",
        "email": "ap@orbit.example",
        "country": "US",
        "currency": "USD",
        "timezone": "America/New_York",
        "plan": "enterprise_yearly",
    },
    {
        "external_id": "jane_dev",
        "firstname": "Jane",
        "lastname": "Doe",
        "customer_type": "individual",
        "email": "jane@example.com",
        "country": "GB",
        "plan": "starter",
    },
]


def demo_api_key() -> Iterator[str]:
    """A demo API key, printed the first time only (only its hash is kept)."""
    if ApiKey.objects.filter(name=DEMO_KEY_NAME, revoked_at__isnull=True).exists():
        yield "Demo API key exists (its raw value was printed when created)."
        return
    _, raw_key = api_key_create(name=DEMO_KEY_NAME, created_by="load_demo")
    yield f"Demo API key (shown once): {raw_key}"


def demo_catalog() -> Iterator[str]:
    for data in METRICS:
        if not BillableMetric.objects.live().filter(code=data["code"]).exists():
            billable_metric_create(data=data)
    for code, cost in UNIT_COSTS.items():  # also on a demo loaded before the costs existed
        metric = BillableMetric.objects.live().filter(code=code, unit_cost__isnull=True).first()
        if metric is not None:
            billable_metric_update(metric=metric, data={"unit_cost": Money(cost, "USD")})
    metric_ids = {m.code: str(m.lago_id) for m in BillableMetric.objects.live()}
    for data in _plans(metric_ids):
        if not Plan.objects.live().filter(code=data["code"], parent__isnull=True).exists():
            plan_create(data=data)
    yield f"Catalog: {len(METRICS)} metrics, {Plan.objects.live().count()} plans."


def _demo_start(now: datetime) -> datetime:
    """The first day of the previous month: one closed month and the current one."""
    first = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return (first - timedelta(days=1)).replace(day=1)


def _local_month_start(now: datetime, tz: str) -> datetime:
    """Midnight of the first day of the previous month in the customer's zone, in UTC."""
    local = now.astimezone(ZoneInfo(tz))
    first = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    previous = (first - timedelta(days=1)).replace(day=1)
    return datetime(previous.year, previous.month, 1, tzinfo=ZoneInfo(tz)).astimezone(UTC)


def demo_customers(now: datetime | None = None) -> Iterator[str]:
    """Customers subscribed since the start of the previous month (in their time zone)."""
    now = now or datetime.now(UTC)
    for data in CUSTOMERS:
        start = _local_month_start(now, data.get("timezone", "UTC"))
        fields = {k: v for k, v in data.items() if k != "plan"}
        if not Customer.objects.live().filter(external_id=data["external_id"]).exists():
            customer_upsert(data=fields)
        sub_id = f"{data['external_id']}_main"
        if not Subscription.objects.filter(external_id=sub_id).exists():
            subscription_create(
                data={
                    "external_customer_id": data["external_id"],
                    "external_id": sub_id,
                    "plan_code": data["plan"],
                    "subscription_at": start,
                    "name": "Main",
                }
            )
    yield f"Customers: {Customer.objects.live().count()}, subscriptions: " + str(
        Subscription.objects.filter(status="active").count()
    )


# Daily usage profile per subscription: (metric code, events per day, properties maker).
USAGE_PROFILES = {
    "acme_ai_main": [
        ("llm_tokens", 24, lambda r: {"tokens": r.randint(800, 4200), "model": r.choice(MODELS)}),
        ("gpu_seconds", 6, lambda r: {"seconds": round(r.uniform(30, 900), 1)}),
        ("api_calls", 180, lambda r: {}),
        ("audio_minutes", 8, lambda r: {"duration_ms": r.randint(5_000, 600_000)}),
    ],
    "nimbus_health_main": [
        ("llm_tokens", 12, lambda r: {"tokens": r.randint(500, 2500), "model": "gpt-4o-mini"}),
    ],
    "orbit_search_main": [
        ("llm_tokens", 40, lambda r: {"tokens": r.randint(20_000, 90_000), "model": "llama-3-70b"}),
        ("gpu_seconds", 20, lambda r: {"seconds": round(r.uniform(100, 3600), 1)}),
    ],
    "jane_dev_main": [
        ("llm_tokens", 3, lambda r: {"tokens": r.randint(100, 900), "model": "gpt-4o-mini"}),
    ],
}
MODELS = ["gpt-4o", "gpt-4o-mini", "llama-3-70b"]


def _demo_events(now: datetime, scale: float = 1.0) -> Iterator[dict]:
    """Deterministic events (seeded; transaction ids derived from the day) from the demo start
    until now, so re-running the demo adds only the events of the time since the last run.

    An event's moment and properties are both drawn whether or not it is sent yet: what an event
    is depends on its day and rank alone, never on `now` (skipping a future event before drawing
    its properties shifted the later ones, and a second run the same day re-sent today's ids
    with other contents). Days already over draw exactly what they always did."""
    day = _demo_start(now)
    while day < now:
        for subscription_id, profile in USAGE_PROFILES.items():
            rng = random.Random(f"{subscription_id}-{day:%Y%m%d}")
            for code, per_day, make_properties in profile:
                for n in range(max(1, int(per_day * scale))):
                    moment = day + timedelta(seconds=rng.randint(0, 86_399))
                    properties = make_properties(rng)
                    if moment >= now:
                        continue
                    yield {
                        "transaction_id": f"demo-{subscription_id}-{code}-{day:%Y%m%d}-{n}",
                        "external_subscription_id": subscription_id,
                        "code": code,
                        "timestamp": moment.isoformat(),
                        "properties": properties,
                    }
        day += timedelta(days=1)


# A var/ filled by a demo from before the fix above may hold some of today's ids with other
# contents: those stay as they were (counted), anything else refused is a bug and stops the run.
_KEPT_FROM_EARLIER_DEMO = {"transaction_id": ["value_already_exist"]}


def demo_usage(now: datetime | None = None, scale: float = 1.0) -> Iterator[str]:
    """A month and a half of usage events through the ingestion service (idempotent)."""
    now = now or datetime.now(UTC)
    stored = duplicates = kept = 0
    batch: list[dict] = []

    def send(batch: list[dict]) -> None:
        nonlocal stored, duplicates, kept
        result = events_ingest(raws=batch, now=now, skip_invalid=True)
        refused = {i: e for i, e in result.rejected.items() if e != _KEPT_FROM_EARLIER_DEMO}
        if refused:
            raise ValidationFailed({str(i): errors for i, errors in sorted(refused.items())})
        stored, duplicates = stored + result.stored, duplicates + result.duplicates
        kept += len(result.rejected)

    for event in _demo_events(now, scale):
        batch.append(event)
        if len(batch) == 1000:
            send(batch)
            batch = []
    if batch:
        send(batch)
    line = f"Usage events: {stored} stored, {duplicates} already there"
    if kept:
        line += f", {kept} kept as an earlier demo stored them (same id, other content)"
    yield line + "."


def demo_invoices(now: datetime | None = None) -> Iterator[str]:
    """Invoice the closed month (the demo's subscriptions are backdated, which by default bills
    no past period) and finalize what is due; idempotent like every close."""
    from invoices.models import Invoice
    from invoices.services import subscription_bill_due, subscription_catch_up

    now = now or datetime.now(UTC)
    for subscription in Subscription.objects.filter(status="active", external_id__endswith="_main"):
        subscription_catch_up(subscription=subscription, now=now)
        subscription_bill_due(subscription_id=subscription.pk, now=now)
    yield f"Invoices: {Invoice.objects.exclude(status='closed').count()}."


def demo_plan_change(now: datetime | None = None) -> Iterator[str]:
    """A customer on Starter (paid in advance) since the start of this month upgrades to Pro
    today: Starter's unused days come back as a credit note, which Pro's first invoice uses."""
    from invoices.services import subscription_catch_up

    now = now or datetime.now(UTC)
    if not Customer.objects.live().filter(external_id="lumen_labs").exists():
        customer_upsert(
            data={
                "external_id": "lumen_labs",
                "name": "Lumen Labs",
                "customer_type": "company",
                "email": "billing@lumen.example",
                "country": "US",
                "currency": "USD",
                "timezone": "UTC",
            }
        )
    if not Subscription.objects.filter(external_id="lumen_labs_main").exists():
        data = {"external_customer_id": "lumen_labs", "external_id": "lumen_labs_main"}
        month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        starter = subscription_create(
            data=data | {"plan_code": "starter", "subscription_at": month_start}
        )
        subscription_catch_up(subscription=starter, now=now)
        subscription_create(data=data | {"plan_code": "pro"}, now=now)
    yield "Plan change: Lumen Labs upgraded Starter -> Pro today (credit note for unused days)."


def demo_fixed_charges_and_overrides(now: datetime | None = None) -> Iterator[str]:
    """Plan Team: $200/month in arrears, tokens metered, seats as a fixed charge ($20 each, 5
    included in the plan, in advance, prorated). Kestrel AI subscribes today with 8 seats of
    its own and a negotiated token price (a charge override: its own copy of the plan)."""
    from customers.charge_overrides import (
        subscription_charge_override,
        subscription_fixed_charge_units_set,
    )
    from plans.addons import add_on_create
    from plans.models import AddOn

    now = now or datetime.now(UTC)
    if not AddOn.objects.live().filter(code="seat").exists():
        add_on_create(
            data={"code": "seat", "name": "Seat", "amount_cents": 2000, "amount_currency": "USD"}
        )
    if not Plan.objects.live().filter(code="team", parent__isnull=True).exists():
        tokens = BillableMetric.objects.live().get(code="llm_tokens")
        plan_create(
            data={
                "name": "Team",
                "code": "team",
                "interval": "monthly",
                "amount_cents": 20000,
                "amount_currency": "USD",
                "charges": [
                    {
                        "billable_metric_id": str(tokens.lago_id),
                        "code": "tokens",
                        "charge_model": "standard",
                        "properties": {"amount": "0.00002"},
                    }
                ],
                "fixed_charges": [
                    {
                        "add_on_code": "seat",
                        "code": "seats",
                        "charge_model": "standard",
                        "properties": {"amount": "20"},
                        "units": "5",
                        "pay_in_advance": True,
                        "prorated": True,
                    }
                ],
            }
        )
    if not Customer.objects.live().filter(external_id="kestrel_ai").exists():
        customer_upsert(
            data={
                "external_id": "kestrel_ai",
                "name": "Kestrel AI",
                "customer_type": "company",
                "country": "US",
                "currency": "USD",
                "timezone": "UTC",
            }
        )
    if not Subscription.objects.filter(external_id="kestrel_ai_main").exists():
        subscription = subscription_create(
            data={
                "external_customer_id": "kestrel_ai",
                "external_id": "kestrel_ai_main",
                "plan_code": "team",
                "name": "Main",
            },
            now=now,
        )
        subscription_fixed_charge_units_set(
            subscription=subscription, code="seats", data={"units": "8"}
        )
        subscription_charge_override(
            subscription=subscription,
            code="tokens",
            data={"properties": {"amount": "0.000015"}, "invoice_display_name": "Tokens"},
        )
    yield "Team plan: Kestrel AI with 8 seats (fixed charge) and its own token price (override)."


def demo_organization() -> Iterator[str]:
    """A US seller registered for sales tax in California and New York."""
    from core.services import organization_update

    organization_update(
        data={
            "name": "Demo AI Inc.",
            "legal_name": "Demo AI Inc.",
            "country": "US",
            "address_line1": "500 Howard St",
            "city": "San Francisco",
            "zipcode": "94105",
            "email": "billing@demo-ai.example",
            "tax_identification_number": "US 12-3456789",
            "us_tax_states": ["CA", "NY"],
        }
    )
    yield "Organization: Demo AI Inc. (US; sales tax in CA and NY)."


def demo_credits_and_discounts(now: datetime | None = None) -> Iterator[str]:
    """An add-on sold once, a coupon, prepaid credits, a credit note (each created once)."""
    from customers.applied_coupons import applied_coupon_create
    from customers.wallets import wallet_create
    from invoices.models import CreditNote, Invoice
    from invoices.one_off import one_off_invoice_create
    from invoices.services.credit_notes import credit_note_create
    from plans.addons import add_on_create
    from plans.coupons import coupon_create
    from plans.models import AddOn, Coupon

    if not AddOn.objects.live().filter(code="gpu_pack_10h").exists():
        add_on_create(
            data={
                "code": "gpu_pack_10h",
                "name": "GPU-hour pack, 10 h",
                "amount_cents": 25000,
                "amount_currency": "USD",
                "description": "10 hours of dedicated A100 time.",
            }
        )
        one_off_invoice_create(
            data={
                "external_customer_id": "acme_ai",
                "fees": [{"add_on_code": "gpu_pack_10h", "units": 2}],
            }
        )
    if not Coupon.objects.filter(code="launch20").exists():
        coupon_create(
            data={
                "code": "launch20",
                "name": "Launch: 20% off for 3 months",
                "coupon_type": "percentage",
                "percentage_rate": "20",
                "frequency": "recurring",
                "frequency_duration": 3,
            }
        )
        applied_coupon_create(
            data={"external_customer_id": "nimbus_health", "coupon_code": "launch20"}
        )
    customer = Customer.objects.live().get(external_id="jane_dev")
    if not customer.wallets.exists():
        wallet_create(
            data={
                "external_customer_id": "jane_dev",
                "name": "Prepaid credits",
                "currency": "USD",
                "rate_amount": "1",
                "granted_credits": "25",
                "recurring_transaction_rules": [
                    {"trigger": "threshold", "threshold_credits": "5", "granted_credits": "10"}
                ],
            }
        )
    outage = "GPU queue outage on the 12th"
    if not CreditNote.objects.filter(description=outage).exists():
        invoice = (
            Invoice.objects.filter(
                customer__external_id="acme_ai",
                status="finalized",
                invoice_type="subscription",
                total_amount_cents__gt=0,
            )
            .order_by("issuing_date")
            .last()
        )
        if invoice is not None:
            fee = invoice.fees.order_by("-amount_cents").first()
            credit_note_create(
                data={
                    "invoice_id": str(invoice.lago_id),
                    "reason": "product_unsatisfactory",
                    "description": outage,
                    "items": [
                        {"fee_id": str(fee.lago_id), "amount_cents": min(2000, fee.amount_cents)}
                    ],
                }
            )
    yield "Add-on GPU-hour pack sold once, coupon launch20, prepaid credits, a credit note."


DEMO_ALERTS = {
    "acme_ai_main": [
        {
            "alert_type": "current_usage_amount",
            "code": "monthly_spend",
            "name": "Monthly spend",
            "thresholds": [
                {"code": "heads_up", "value": 1000},
                {"code": "every_50", "value": 5000, "recurring": True},
            ],
        },
        {
            "alert_type": "lifetime_usage_amount",
            "code": "lifetime",
            "name": "Lifetime usage",
            "thresholds": [{"code": "first_200", "value": 20000}],
        },
    ],
    "orbit_search_main": [
        {
            "alert_type": "billable_metric_current_usage_units",
            "code": "tokens",
            "name": "LLM tokens this month",
            "billable_metric_code": "llm_tokens",
            "thresholds": [{"value": 1_000_000}, {"value": 10_000_000, "recurring": True}],
        }
    ],
}
DEMO_WALLET_ALERT = {
    "alert_type": "wallet_ongoing_balance_amount",
    "code": "running_low",
    "name": "Prepaid credits running low",
    "thresholds": [{"code": "low", "value": 2000}, {"code": "empty", "value": 0}],
}


def demo_alerts(now: datetime | None = None) -> Iterator[str]:
    """Usage alerts on two subscriptions and on the prepaid wallet (created once), evaluated
    at once (the beat would within a minute)."""
    from customers.alerts.services import alert_create, live_alerts
    from customers.models import Wallet
    from usage.alerts import alerts_process_flagged

    for external_id, alerts in DEMO_ALERTS.items():
        subscription = Subscription.objects.filter(external_id=external_id, status="active").first()
        if (
            subscription is None
            or live_alerts().filter(subscription_external_id=external_id).exists()
        ):
            continue
        for data in alerts:
            alert_create(alertable=subscription, data=data)
    wallet = Wallet.objects.filter(customer__external_id="jane_dev", status="active").first()
    if wallet is not None and not live_alerts().filter(wallet=wallet).exists():
        alert_create(alertable=wallet, data=DEMO_WALLET_ALERT)
    _, triggered = alerts_process_flagged(now=now)
    yield f"Usage alerts: {live_alerts().count()}, {len(triggered)} triggered now."


DEMO_FEATURE = {
    "code": "seats",
    "name": "Team seats",
    "description": "Members of the customer's workspace",
    "privileges": [
        {"code": "max", "name": "Maximum", "value_type": "integer"},
        {"code": "sso", "name": "Single sign-on", "value_type": "boolean"},
        {
            "code": "support",
            "name": "Support tier",
            "value_type": "select",
            "config": {"select_options": ["community", "business", "dedicated"]},
        },
    ],
}


def demo_entitlements() -> Iterator[str]:
    """A feature granted by the plans (created once), and one subscription's override."""
    if Feature.objects.filter(code=DEMO_FEATURE["code"]).exists():
        yield "Entitlements exist (feature seats)."
        return
    feature_create(data=DEMO_FEATURE)
    grants = {
        "starter": {"max": 3, "sso": False, "support": "community"},
        "pro": {"max": 20, "sso": True, "support": "business"},
        "enterprise_yearly": {"max": 500, "sso": True, "support": "dedicated"},
    }
    for code, values in grants.items():
        plan_entitlements_update(
            plan=plan_get(code=code), entitlements={"seats": values}, partial=True
        )
    subscription = Subscription.objects.filter(
        external_id="acme_ai_main", status=Subscription.Status.ACTIVE
    ).first()
    if subscription is not None:
        subscription_entitlements_update(
            subscription=subscription, entitlements={"seats": {"max": 50}}
        )
    yield "Entitlements: feature seats on 3 plans, acme_ai_main overridden to 50 seats."


def demo_portal_users() -> Iterator[str]:
    """A portal login per demo customer (its billing e-mail). One random password is made for
    the new logins and printed once, like the demo API key; only its hash is kept."""
    import secrets

    from django.contrib.auth import get_user_model

    from portal.models import PortalAccount

    user_model = get_user_model()
    password, logins, created = secrets.token_urlsafe(9), [], False
    for data in CUSTOMERS:
        customer = Customer.objects.live().get(external_id=data["external_id"])
        email = data["email"]
        if not PortalAccount.objects.filter(customer=customer).exists():
            user = user_model.objects.filter(username=email).first()
            if user is None:
                user = user_model.objects.create_user(email, email, password)
                created = True
            PortalAccount.objects.create(user=user, customer=customer)
        logins.append(email)
    where = f"Portal: {settings.PUBLIC_BASE_URL}/portal/ - logins {', '.join(logins)}"
    if created:
        yield f"{where}; password (shown once): {password}"
    else:
        yield f"{where} (password shown when created; `manage.py changepassword EMAIL` sets one)"


def demo_staff_users() -> Iterator[str]:
    """A staff login per role (finance viewer, billing operator, billing admin), one random
    password printed once; the superuser of `make run` holds every permission anyway."""
    import secrets

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from core import roles

    user_model = get_user_model()
    password, created = secrets.token_urlsafe(9), False
    for username, role in (
        ("viewer", roles.VIEWER),
        ("operator", roles.OPERATOR),
        ("billing_admin", roles.ADMIN),
    ):
        if not user_model.objects.filter(username=username).exists():
            user = user_model.objects.create_user(username, password=password, is_staff=True)
            user.groups.add(Group.objects.get(name=role))
            created = True
    names = "viewer (Finance viewer), operator (Billing operator), billing_admin (Billing admin)"
    if created:
        yield f"Staff logins {names}; password (shown once): {password}"
    else:
        yield f"Staff logins {names} exist (password shown when created)."


def demo_load(usage_scale: float = 1.0, now: datetime | None = None) -> Iterator[str]:
    """Run every demo step at one moment and yield what each did (usage_scale < 1: fewer events,
    for tests; a run must use the scale of the runs before it on the same database)."""
    now = now or datetime.now(UTC)
    yield from demo_api_key()
    yield from demo_organization()
    yield from demo_catalog()
    yield from demo_customers(now)
    yield from demo_usage(now, scale=usage_scale)
    yield from demo_invoices(now)
    yield from demo_plan_change(now)
    yield from demo_fixed_charges_and_overrides(now)
    yield from demo_credits_and_discounts(now)
    yield from demo_alerts(now)
    yield from demo_entitlements()
    yield from demo_portal_users()
    yield from demo_staff_users()
