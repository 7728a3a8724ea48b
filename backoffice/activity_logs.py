"""Lago's activity logs, read from the audit trail (`core.models.AuditEntry`, written by
`core.auditing`): the filters as SQL on the entries, and what an entry says in Lago's words.

Mapping (docs/api.md): `activity_id` is the entry's id as a UUID (`UUID(int=id)`, the trail is
append-only and has no UUID column); `activity_type` is `<resource>.<action>` (`invoice.created`,
`billable_metric.updated`); `activity_source` is `api` (API keys), `front` (staff in the admin,
customers in the portal) or `system` (tasks, Stripe webhooks, commands);
`activity_object_changes` the entry's `{field: [before, after]}` (personal data as
"(personal data)", never its values); `activity_object` the `lago_id` and the changed values
after the change (before it, for a deletion; not the internal `id`)."""

import re
import uuid
from collections import defaultdict

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db.models import CharField, Q
from django.db.models.functions import Cast

from core.api.formats import iso
from core.auditing import POLICIES
from core.models import AuditEntry

SOURCES = {"api": ("api",), "front": ("admin", "portal")}
# Where each audited model finds its customer's and its subscription's external ids.
CUSTOMER_PATHS = {
    "customers.customer": "external_id",
    "customers.subscription": "customer__external_id",
    "customers.wallet": "customer__external_id",
    "customers.wallettransaction": "wallet__customer__external_id",
    "customers.recurringtransactionrule": "wallet__customer__external_id",
    "plans.appliedcoupon": "customer__external_id",
    "invoices.invoice": "customer__external_id",
    "invoices.creditnote": "customer__external_id",
    "payments.payment": "customer__external_id",
    "portal.portalaccount": "customer__external_id",
}
SUBSCRIPTION_PATHS = {"customers.subscription": "external_id"}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _model(label: str):
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def _has_lago_id(model) -> bool:
    return model is not None and any(f.name == "lago_id" for f in model._meta.concrete_fields)


def resource_type(label: str) -> str:
    """Lago's class name of the audited model: `Invoice`, `BillableMetric`."""
    model = _model(label)
    return model.__name__ if model else label


LABELS_BY_TYPE = {resource_type(label): label for label in POLICIES}
LABELS_BY_SNAKE = {_snake(name): label for name, label in LABELS_BY_TYPE.items()}


def activity_source(source: str) -> str:
    for name, sources in SOURCES.items():
        if source in sources:
            return name
    return "system"


def activity_id(entry_id: int) -> str:
    return str(uuid.UUID(int=entry_id))


def entry_id(activity: str) -> int | None:
    """The entry's id from its activity_id, None when it is not one of ours."""
    try:
        number = uuid.UUID(activity).int
    except ValueError:
        return None
    return number if 0 < number < 2**63 else None


def _objects(label: str, path: str, value) -> Q:
    """Entries on `label` rows whose `path` is `value` (or in it, for a list)."""
    model = _model(label)
    lookup = f"{path}__in" if isinstance(value, list) else path
    ids = model.objects.filter(**{lookup: value}).values_list(Cast("pk", CharField()), flat=True)
    return Q(object_type=label, object_id__in=ids)


def activity_logs_filtered(
    *,
    from_date=None,
    to_date=None,
    activity_types=(),
    activity_sources=(),
    user_emails=(),
    external_customer_id=None,
    external_subscription_id=None,
    resource_ids=(),
    resource_types=(),
):
    """Audit entries, newest first, with Lago's activity-log filters (days of the entry, UTC,
    both included). Unknown types or emails match nothing."""
    entries = AuditEntry.objects.order_by("-at", "-id")
    nothing = Q(pk__in=[])
    if from_date:
        entries = entries.filter(at__date__gte=from_date)
    if to_date:
        entries = entries.filter(at__date__lte=to_date)
    if activity_types:
        wanted = nothing
        for kind in activity_types:
            resource, _, action = kind.rpartition(".")
            if resource in LABELS_BY_SNAKE and action:
                wanted |= Q(object_type=LABELS_BY_SNAKE[resource], action=action)
        entries = entries.filter(wanted)
    if activity_sources:
        wanted = nothing
        for source in activity_sources:
            if source == "system":
                wanted |= ~Q(source__in=[s for group in SOURCES.values() for s in group])
            else:
                wanted |= Q(source__in=SOURCES[source])
        entries = entries.filter(wanted)
    if user_emails:
        staff = get_user_model().objects.filter(email__in=user_emails)
        actors = [f"staff:{u.get_username()}" for u in staff] + [f"portal:{e}" for e in user_emails]
        entries = entries.filter(actor__in=actors)
    if resource_types:
        entries = entries.filter(
            object_type__in=[LABELS_BY_TYPE[t] for t in resource_types if t in LABELS_BY_TYPE]
        )
    if resource_ids:
        wanted = nothing
        for label in POLICIES:
            if _has_lago_id(_model(label)):
                wanted |= _objects(label, "lago_id", list(resource_ids))
        entries = entries.filter(wanted)
    for value, paths in (
        (external_customer_id, CUSTOMER_PATHS),
        (external_subscription_id, SUBSCRIPTION_PATHS),
    ):
        if value:
            wanted = nothing
            for label, path in paths.items():
                wanted |= _objects(label, path, value)
            entries = entries.filter(wanted)
    return entries


def _links(entries) -> dict:
    """(object_type, object_id) -> {lago_id, customer, subscription}: one query per audited
    model on the page (never one per entry)."""
    ids = defaultdict(set)
    for entry in entries:
        ids[entry.object_type].add(entry.object_id)
    found = {}
    for label, pks in ids.items():
        model = _model(label)
        if model is None:
            continue
        fields = {"pk": "pk"}
        if _has_lago_id(model):
            fields["lago_id"] = "lago_id"
        if label in CUSTOMER_PATHS:
            fields["customer"] = CUSTOMER_PATHS[label]
        if label in SUBSCRIPTION_PATHS:
            fields["subscription"] = SUBSCRIPTION_PATHS[label]
        valid = [pk for pk in pks if pk.isdigit()]
        for row in model.objects.filter(pk__in=valid).values(*fields.values()):
            found[(label, str(row["pk"]))] = {name: row[path] for name, path in fields.items()}
    return found


def _emails(entries) -> dict[str, str]:
    names = {e.actor.removeprefix("staff:") for e in entries if e.actor.startswith("staff:")}
    users = get_user_model().objects.filter(username__in=names).values_list("username", "email")
    return {f"staff:{name}": email for name, email in users if email}


def _side(values, side: int):
    """The value before (0) or after (1) of a `[before, after]` pair; anything else as is."""
    return values[side] if isinstance(values, list) and len(values) == 2 else values


def activity_logs_json(entries, organization_id: str) -> list[dict]:
    """Lago's ActivityLog objects for a page of entries."""
    entries = list(entries)
    links, emails = _links(entries), _emails(entries)
    rows = []
    for entry in entries:
        link = links.get((entry.object_type, entry.object_id), {})
        changes = entry.changes or {}
        side = 0 if entry.action == "deleted" else 1
        lago_id = link.get("lago_id") or (changes.get("lago_id") or [None, None])[side]
        resource_id = str(lago_id) if lago_id else entry.object_id
        user_email = emails.get(entry.actor)
        if entry.actor.startswith("portal:"):
            user_email = entry.actor.removeprefix("portal:")
        resource = resource_type(entry.object_type)
        rows.append(
            {
                "activity_id": activity_id(entry.pk),
                "activity_type": f"{_snake(resource)}.{entry.action}",
                "activity_source": activity_source(entry.source),
                "activity_object": {
                    "lago_id": resource_id,
                    **{f: _side(v, side) for f, v in changes.items() if f != "id"},
                },
                "activity_object_changes": changes if entry.action != "deleted" else None,
                "user_email": user_email,
                "resource_id": resource_id,
                "resource_type": resource,
                "external_customer_id": link.get("customer"),
                "external_subscription_id": link.get("subscription"),
                "organization_id": organization_id,
                "logged_at": iso(entry.at),
                "created_at": iso(entry.at),
            }
        )
    return rows
