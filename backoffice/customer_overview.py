"""Where a customer stands, for the finance desk: one read of every domain (subscriptions and
their usage against what is included, what is owed and overdue, credits, credit notes, the last
payment, recent events, failed closes). It lives in `backoffice` because it reads every app;
each section comes from that app's own selectors, so the numbers are the ones the portal, the
API and the invoices show."""

from dataclasses import dataclass, field
from datetime import datetime

from customers.models import Customer
from invoices.models import BillingFailure, CreditNote, Invoice
from invoices.selectors import unpaid_invoices_with_due
from payments.models import Payment
from portal.selectors import (
    SubscriptionUsage,
    WalletView,
    amount_due_cents,
    current_period_usage,
    portal_wallets,
)
from usage.models import Event

RECENT = 10


@dataclass
class CustomerOverview:
    customer: Customer
    subscriptions: list[SubscriptionUsage]
    due: dict[str, int]  # minor units per currency, on finalized unpaid invoices
    overdue: dict[str, int]
    open_invoices: list[Invoice]
    wallets: list[WalletView]
    credit_notes: list[CreditNote]
    last_payment: Payment | None
    failed_payments: list[Payment]
    recent_events: list[Event]
    failures: list[BillingFailure]
    other_subscriptions: list = field(default_factory=list)  # pending, terminated


def customer_overview(customer: Customer, now: datetime) -> CustomerOverview:
    """Every section of the customer's page; a bounded number of queries, nothing per event."""
    open_invoices = list(
        unpaid_invoices_with_due()
        .filter(customer=customer)
        .order_by("-payment_overdue", "payment_due_date", "id")[:RECENT]
    )
    return CustomerOverview(
        customer=customer,
        subscriptions=current_period_usage(customer, now),
        due=amount_due_cents(customer),
        overdue=_overdue_cents(customer),
        open_invoices=open_invoices,
        wallets=portal_wallets(customer, now),
        credit_notes=list(
            CreditNote.objects.filter(customer=customer)
            .select_related("invoice")
            .order_by("-created_at", "-id")[:RECENT]
        ),
        last_payment=Payment.objects.filter(customer=customer).order_by("-created_at").first(),
        failed_payments=list(
            Payment.objects.filter(customer=customer, status=Payment.Status.FAILED)
            .select_related("invoice")
            .order_by("-created_at")[:RECENT]
        ),
        recent_events=_recent_events(customer),
        failures=list(
            BillingFailure.objects.filter(subscription__customer=customer, resolved_at=None)
            .select_related("subscription")
            .order_by("-last_failed_at")
        ),
        other_subscriptions=list(
            customer.subscriptions.exclude(status="active")
            .select_related("plan")
            .order_by("-created_at")[:RECENT]
        ),
    )


def _overdue_cents(customer: Customer) -> dict[str, int]:
    rows = unpaid_invoices_with_due().filter(customer=customer, payment_overdue=True)
    totals: dict[str, int] = {}
    for currency, due in rows.values_list("currency", "due_cents"):
        totals[currency] = totals.get(currency, 0) + (due or 0)
    return {currency: cents for currency, cents in totals.items() if cents}


def _recent_events(customer: Customer) -> list[Event]:
    """The latest events of the customer's subscriptions (by their external ids, the indexed
    column), newest first."""
    ids = list(customer.subscriptions.values_list("external_id", flat=True).distinct())
    if not ids:
        return []
    return list(
        Event.objects.filter(external_subscription_id__in=ids).order_by("-timestamp", "-id")[
            :RECENT
        ]
    )
