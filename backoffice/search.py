"""The admin's global search: customers by external id, name or e-mail; invoices and credit
notes by number; subscriptions by external id; events by transaction id. Each part uses an
index (or a short table) and shows only what the staff member may view."""

from dataclasses import dataclass

from django.urls import reverse

LIMIT = 20


@dataclass
class Hit:
    label: str
    url: str


def _customers(q: str) -> list[Hit]:
    from django.db.models import Q

    from customers.models import Customer

    rows = Customer.objects.filter(
        Q(external_id__iexact=q) | Q(email__icontains=q) | Q(name__icontains=q)
    ).order_by("external_id")[:LIMIT]
    return [
        Hit(
            f"{c.external_id} — {c.display_name} ({c.email})",
            reverse("admin:customers_customer_change", args=[c.pk]),
        )
        for c in rows
    ]


def _invoices(q: str) -> list[Hit]:
    from invoices.models import Invoice

    rows = Invoice.objects.filter(number__icontains=q).select_related("customer")[:LIMIT]
    return [
        Hit(
            f"{i.number} — {i.customer.external_id}, {i.status}",
            reverse("admin:invoices_invoice_change", args=[i.pk]),
        )
        for i in rows
    ]


def _credit_notes(q: str) -> list[Hit]:
    from invoices.models import CreditNote

    rows = CreditNote.objects.filter(number__icontains=q)[:LIMIT]
    return [Hit(n.number, reverse("admin:invoices_creditnote_change", args=[n.pk])) for n in rows]


def _subscriptions(q: str) -> list[Hit]:
    from customers.models import Subscription

    rows = Subscription.objects.filter(external_id__iexact=q).select_related("customer")[:LIMIT]
    return [
        Hit(
            f"{s.external_id} — {s.customer.external_id}, {s.status}",
            reverse("admin:customers_subscription_change", args=[s.pk]),
        )
        for s in rows
    ]


def _events(q: str) -> list[Hit]:
    from usage.models import EventKey

    rows = EventKey.objects.filter(transaction_id=q).order_by("-created_at")[:LIMIT]
    changelist = reverse("admin:usage_event_changelist")
    return [
        Hit(
            f"{k.transaction_id} — {k.code} on {k.external_subscription_id} at {k.timestamp:%c}",
            f"{changelist}?external_subscription_id={k.external_subscription_id}"
            f"&transaction_id={k.transaction_id}",
        )
        for k in rows
    ]


SECTIONS = [
    ("Customers", "customers.view_customer", _customers),
    ("Subscriptions", "customers.view_subscription", _subscriptions),
    ("Invoices", "invoices.view_invoice", _invoices),
    ("Credit notes", "invoices.view_creditnote", _credit_notes),
    ("Events", "usage.view_event", _events),
]


def global_search(q: str, user) -> list[tuple[str, list[Hit]]]:
    q = (q or "").strip()
    if len(q) < 2:
        return []
    return [(title, find(q)) for title, permission, find in SECTIONS if user.has_perm(permission)]
