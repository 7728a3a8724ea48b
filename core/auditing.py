"""The audit trail: who changed which billing data, when, from where, what changed, and why.

Three pieces, so that no path is forgotten:
- an actor in a context variable, set by the request middleware (staff in the admin, customers
  in the portal), the API key authentication, the Stripe webhook view and a Celery signal
  (tasks); anything else (a management command, the shell) is "system";
- model signals on the audited models (created, updated with before/after, deleted);
- `AuditedQuerySet.update()`, because services move state with `queryset.update()` too.

Entries are written in the same transaction as the change: a rolled-back change leaves no
entry. Personal data (names, e-mails, addresses, tax ids) is recorded as changed, never with
its values, so erasing a customer's personal data never has to touch the append-only trail;
secrets (API key digests, passwords) are never recorded at all."""

import contextvars
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from django.db import models
from moneyed import Money

PERSONAL = "(personal data)"
ALWAYS_SKIPPED = {"updated_at", "created_at"}


@dataclass(frozen=True)
class Actor:
    who: str  # "staff:alice", "api-key:lago_ab12", "task:invoices.bill_subscription"
    source: str  # admin, api, portal, task, webhook, system
    reason: str = ""


SYSTEM = Actor("system", "system")
_current: contextvars.ContextVar[Actor] = contextvars.ContextVar("audit_actor", default=SYSTEM)


def current_actor() -> Actor:
    return _current.get()


def set_actor(actor: Actor) -> contextvars.Token:
    return _current.set(actor)


def reset_actor(token: contextvars.Token) -> None:
    _current.reset(token)


@contextmanager
def acting_as(who: str, source: str, reason: str = ""):
    """Changes made inside are recorded as `who`'s (a reason shows up in each entry)."""
    token = _current.set(Actor(who, source, reason))
    try:
        yield
    finally:
        _current.reset(token)


@contextmanager
def because(reason: str):
    """Attach a reason to the changes made inside, keeping the current actor."""
    actor = _current.get()
    token = _current.set(Actor(actor.who, actor.source, reason))
    try:
        yield
    finally:
        _current.reset(token)


# --- what is audited ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    skipped: frozenset = frozenset()  # never recorded (secrets, bookkeeping)
    personal: frozenset = frozenset()  # recorded as changed, without values


ADDRESS = frozenset(
    {
        "name",
        "firstname",
        "lastname",
        "email",
        "phone",
        "url",
        "legal_name",
        "legal_number",
        "tax_identification_number",
        "address_line1",
        "address_line2",
        "city",
        "state",
        "zipcode",
        "shipping_address",
    }
)

POLICIES = {
    "customers.customer": Policy(personal=ADDRESS),
    "customers.subscription": Policy(),
    "customers.wallet": Policy(),
    "customers.wallettransaction": Policy(),
    "customers.recurringtransactionrule": Policy(),
    "plans.billablemetric": Policy(),
    "plans.plan": Policy(),
    "plans.charge": Policy(),
    "plans.chargefilter": Policy(),
    "plans.commitment": Policy(),
    "plans.usagethreshold": Policy(),
    "plans.addon": Policy(),
    "plans.coupon": Policy(),
    "plans.appliedcoupon": Policy(),
    "plans.planprice": Policy(),
    "plans.chargeprice": Policy(),
    "invoices.invoice": Policy(skipped=frozenset({"file"})),
    "invoices.creditnote": Policy(skipped=frozenset({"file"})),
    "payments.payment": Policy(),
    "payments.refund": Policy(),
    "taxes.tax": Policy(),
    "taxes.taxrule": Policy(),
    "webhooks.webhookendpoint": Policy(),
    "core.apikey": Policy(skipped=frozenset({"digest", "last_used_at"})),
    "core.organization": Policy(),
    "portal.portalaccount": Policy(),
    "auth.user": Policy(
        skipped=frozenset({"password", "last_login"}),
        personal=frozenset({"first_name", "last_name", "email", "username"}),
    ),
    "auth.group": Policy(),
}


def policy_of(model) -> Policy | None:
    return POLICIES.get(model._meta.label_lower)


def _fields(model, policy: Policy) -> list[models.Field]:
    skipped = policy.skipped | ALWAYS_SKIPPED
    return [f for f in model._meta.concrete_fields if f.name not in skipped]


def _plain(value, field: models.Field | None = None):
    """A value as JSON can hold it, exactly (Decimals and dates as strings); a Decimal at its
    column's scale, so that 5.5 and 5.5000 read the same before and after."""
    if isinstance(value, Money):
        value = value.amount  # django-money: the currency is a column of its own
    if isinstance(value, Decimal) and isinstance(field, models.DecimalField):
        return str(value.quantize(Decimal(1).scaleb(-field.decimal_places)))
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, models.fields.files.FieldFile):
        return value.name or None
    return value


def snapshot(instance, policy: Policy) -> dict:
    return {
        f.attname: _plain(getattr(instance, f.attname), f) for f in _fields(type(instance), policy)
    }


def diff(before: dict | None, after: dict | None, policy: Policy) -> dict:
    """{field: [before, after]} of what changed; personal fields without their values."""
    before, after = before or {}, after or {}
    changes = {}
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        name = key.removesuffix("_id")
        if key in policy.personal or name in policy.personal:
            changes[key] = [PERSONAL if old else None, PERSONAL if new else None]
        else:
            changes[key] = [old, new]
    return changes


def record(model, object_id, object_repr: str, action: str, changes: dict):
    """One entry, attributed to the current actor."""
    from core.models import AuditEntry

    actor = current_actor()
    return AuditEntry.objects.create(
        actor=actor.who[:255],
        source=actor.source,
        reason=actor.reason[:500],
        action=action,
        object_type=model._meta.label_lower,
        object_id=str(object_id),
        object_repr=object_repr[:255],
        changes=changes,
    )


# --- queryset.update() -------------------------------------------------------------------------


class AuditedQuerySet(models.QuerySet):
    """`update()` that records, per row, the fields it changed (before/after). Two extra
    queries per call, on the audited models only; hot paths (events) do not go through it."""

    def update(self, **kwargs):
        policy = policy_of(self.model)
        if policy is None:
            return super().update(**kwargs)
        names = [
            self.model._meta.get_field(name).attname
            for name in kwargs
            if name not in policy.skipped | ALWAYS_SKIPPED
        ]
        if not names:
            return super().update(**kwargs)
        before = {row["pk"]: row for row in self.values("pk", *names)}
        count = super().update(**kwargs)
        if before:
            fields = {f.attname: f for f in self.model._meta.concrete_fields}
            rows = self.model._base_manager.filter(pk__in=before).values("pk", *names)
            for row in rows:
                old = {k: _plain(v, fields[k]) for k, v in before[row["pk"]].items() if k != "pk"}
                new = {k: _plain(v, fields[k]) for k, v in row.items() if k != "pk"}
                changes = diff(old, new, policy)
                if changes:
                    record(
                        self.model,
                        row["pk"],
                        f"{self.model._meta.verbose_name} {row['pk']}",
                        "updated",
                        changes,
                    )
        return count


class LiveQuerySet(AuditedQuerySet):
    """Soft-deletable rows (customers, catalog): `live()` leaves the deleted ones out."""

    def live(self):
        return self.filter(deleted_at__isnull=True)


# --- signals -------------------------------------------------------------------------------------


def _before_save(sender, instance, raw=False, **kwargs):
    policy = policy_of(sender)
    if policy is None or raw or instance._state.adding or instance.pk is None:
        return
    old = sender._base_manager.filter(pk=instance.pk).first()
    instance._audit_before = snapshot(old, policy) if old is not None else None


def _after_save(sender, instance, created, raw=False, **kwargs):
    policy = policy_of(sender)
    if policy is None or raw:
        return
    before = None if created else getattr(instance, "_audit_before", None)
    changes = diff(before, snapshot(instance, policy), policy)
    instance._audit_before = None
    if created or changes:
        record(
            sender,
            _object_id(instance),
            str(instance),
            "created" if created else "updated",
            changes,
        )


def _after_delete(sender, instance, **kwargs):
    policy = policy_of(sender)
    if policy is None:
        return
    record(
        sender,
        _object_id(instance),
        str(instance),
        "deleted",
        diff(snapshot(instance, policy), None, policy),
    )


def _object_id(instance) -> str:
    return str(instance.pk)


def connect() -> None:
    """Called once from CoreConfig.ready()."""
    from django.apps import apps
    from django.db.models.signals import post_delete, post_save, pre_save

    for label in POLICIES:
        model = apps.get_model(label)
        pre_save.connect(_before_save, sender=model, dispatch_uid=f"audit-pre-{label}")
        post_save.connect(_after_save, sender=model, dispatch_uid=f"audit-post-{label}")
        post_delete.connect(_after_delete, sender=model, dispatch_uid=f"audit-del-{label}")
