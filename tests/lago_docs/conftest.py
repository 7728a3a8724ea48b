"""Replaying Lago's documented worked examples through the public API only.

`lago` is a thin driver over the authenticated DRF client: it creates metrics, plans,
customers and subscriptions with Lago's JSON shapes, sends events, reads current usage and
invoices, and moves the clock the way beat does (`time_machine.travel(..., tick=False)` around
`activate_due_subscriptions` and `bill_due_subscriptions`). Nothing here calls a service.

Pages are quoted as https://getlago.com/docs/guide/... (read from the getlago/lago-doc
snapshot 0cf60715, 2026-08-22, which serves those pages)."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine

from customers.tasks import activate_due_subscriptions
from invoices.tasks import bill_due_subscriptions


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


class Lago:
    """What a Lago API user does, one call each, asserting the call succeeded."""

    def __init__(self, api, on_commit):
        self.api = api
        self.on_commit = on_commit  # run after-commit work (follow-ups, webhooks) as in production
        self.metrics: dict[str, str] = {}
        self.sequence = 0

    # --- plumbing -----------------------------------------------------------------------
    def _ok(self, response, root=None):
        assert response.status_code == 200, (response.status_code, response.content[:2000])
        body = response.json()
        return body[root] if root else body

    def post(self, path, body, root=None, moment=None):
        if moment is None:
            with self.on_commit(execute=True):
                return self._ok(self.api.post(f"/api/v1/{path}", body, format="json"), root)
        with time_machine.travel(moment, tick=False), self.on_commit(execute=True):
            return self._ok(self.api.post(f"/api/v1/{path}", body, format="json"), root)

    def get(self, path, root=None, moment=None):
        if moment is None:
            return self._ok(self.api.get(f"/api/v1/{path}"), root)
        with time_machine.travel(moment, tick=False):
            return self._ok(self.api.get(f"/api/v1/{path}"), root)

    # --- catalog ------------------------------------------------------------------------
    def metric(self, code, aggregation_type="sum_agg", field_name=None, **extra) -> str:
        body = {"name": code.replace("_", " ").title(), "code": code}
        body["aggregation_type"] = aggregation_type
        if field_name:
            body["field_name"] = field_name
        metric = self.post(
            "billable_metrics", {"billable_metric": {**body, **extra}}, "billable_metric"
        )
        self.metrics[code] = metric["lago_id"]
        return metric["lago_id"]

    def charge(self, metric_code, charge_model="standard", properties=None, **extra) -> dict:
        return {
            "billable_metric_id": self.metrics[metric_code],
            "charge_model": charge_model,
            "properties": properties if properties is not None else {},
            **extra,
        }

    def plan(self, code, amount_cents=0, charges=(), interval="monthly", currency="USD", **extra):
        body = {
            "name": code.replace("_", " ").title(),
            "code": code,
            "interval": interval,
            "amount_cents": amount_cents,
            "amount_currency": currency,
            "pay_in_advance": False,
            "charges": list(charges),
            **extra,
        }
        return self.post("plans", {"plan": body}, "plan")

    def tax(self, code, rate, **extra):
        body = {"code": code, "name": code, "rate": rate, **extra}
        return self.post("taxes", {"tax": body}, "tax")

    # --- customers and subscriptions ----------------------------------------------------
    def customer(self, external_id="cust", currency="USD", **extra):
        body = {"external_id": external_id, "name": external_id.title(), "currency": currency}
        return self.post("customers", {"customer": {**body, **extra}}, "customer")

    def subscribe(self, moment, plan_code, external_id="sub", customer="cust", **extra):
        body = {
            "external_customer_id": customer,
            "plan_code": plan_code,
            "external_id": external_id,
            **extra,
        }
        return self.post("subscriptions", {"subscription": body}, "subscription", moment)

    def terminate(self, moment, external_id="sub", query=""):
        with time_machine.travel(moment, tick=False), self.on_commit(execute=True):
            response = self.api.delete(f"/api/v1/subscriptions/{external_id}{query}")
        return self._ok(response, "subscription")

    # --- usage --------------------------------------------------------------------------
    def event(self, moment, code, properties=None, subscription="sub", tx=None, **extra):
        """One event at `moment`, sent at that moment (beat and follow-ups see that clock)."""
        self.sequence += 1
        body = {
            "transaction_id": tx or f"{code}-{self.sequence}",
            "external_subscription_id": subscription,
            "code": code,
            "timestamp": moment.isoformat(),
            "properties": properties or {},
            **extra,
        }
        return self.post("events", {"event": body}, "event", moment)

    def events(self, moment, code, count, properties=None, subscription="sub"):
        """`count` identical events at `moment`, in one POST /events/batch."""
        batch = []
        for _ in range(count):
            self.sequence += 1
            batch.append(
                {
                    "transaction_id": f"{code}-{self.sequence}",
                    "external_subscription_id": subscription,
                    "code": code,
                    "timestamp": moment.isoformat(),
                    "properties": properties or {},
                }
            )
        return self.post("events/batch", {"events": batch}, "events", moment)

    def usage(self, moment, customer="cust", subscription="sub"):
        path = f"customers/{customer}/current_usage?external_subscription_id={subscription}"
        return self.get(path, "customer_usage", moment)

    # --- the clock and invoices ---------------------------------------------------------
    def beat(self, moment):
        """What beat does at `moment`: activate due subscriptions, bill what is due."""
        with time_machine.travel(moment, tick=False), self.on_commit(execute=True):
            activate_due_subscriptions()
            bill_due_subscriptions()

    def invoices(self, customer="cust", **filters) -> list[dict]:
        query = "&".join(
            f"{k}={v}" for k, v in {"external_customer_id": customer, **filters}.items()
        )
        found = self.get(f"invoices?{query}&per_page=1000", "invoices")
        return sorted(
            found, key=lambda i: (i["issuing_date"], i["sequential_id"] or 0, i["created_at"])
        )

    def invoice(self, lago_id) -> dict:
        return self.get(f"invoices/{lago_id}", "invoice")

    def credit_notes(self, customer="cust") -> list[dict]:
        found = self.get(f"credit_notes?external_customer_id={customer}", "credit_notes")
        return sorted(found, key=lambda n: n["created_at"])


def fees_by_type(invoice: dict) -> dict[str, int]:
    """{item type (charge code for charges): amount_cents}, summed."""
    out: dict[str, int] = {}
    for fee in invoice["fees"]:
        key = fee["item"]["code"] if fee["item"]["type"] == "charge" else fee["item"]["type"]
        out[key] = out.get(key, 0) + fee["amount_cents"]
    return out


def units(value) -> Decimal:
    return Decimal(str(value))


@pytest.fixture(autouse=True)
def no_documents(monkeypatch):
    """Finalized invoices are rendered to PDF and e-mailed after commit; these pages check
    amounts, so that (slow) step is skipped."""
    monkeypatch.setattr("invoices.documents.invoice_pdf_store", lambda *, invoice: invoice)
    monkeypatch.setattr("invoices.documents.invoice_email_send", lambda **kwargs: False)


@pytest.fixture
def lago(api, django_capture_on_commit_callbacks) -> Lago:
    return Lago(api, django_capture_on_commit_callbacks)
