"""Named hooks: how a lower layer starts work that a higher layer owns, without importing it.

Apps import only their own modules and lower layers (docs/architecture.md). Where a lower layer
must trigger higher work (new usage -> in-advance billing, catalog change -> cache reset,
invoice finalized -> collection), the lower layer calls `run(name, ...)` and the higher layer
registers its receiver with `register(name, fn)` from its AppConfig.ready(). Unlike Django
signals, every hook is declared here, with what it carries, so this dict is the one place that
lists them; `register` and `run` refuse undeclared names (a typo fails at startup, not silently).
Receivers run synchronously in the caller's transaction, in registration order; a receiver that
needs to wait for the commit uses transaction.on_commit itself.
"""

from collections.abc import Callable

HOOKS: dict[str, str] = {}

_receivers: dict[str, list[Callable]] = {}


class UnknownHook(LookupError):
    """A hook name not declared in HOOKS."""


def declare(name: str, description: str) -> None:
    """Declare a hook (only in this module's list below, so the list stays the one place)."""
    HOOKS[name] = description


def register(name: str, receiver: Callable) -> None:
    """Add a receiver, once (AppConfig.ready may run twice in tests)."""
    if name not in HOOKS:
        raise UnknownHook(name)
    receivers = _receivers.setdefault(name, [])
    if receiver not in receivers:
        receivers.append(receiver)


def run(name: str, **kwargs) -> list:
    """Call every receiver of `name` with the keyword arguments; their results, in order."""
    if name not in HOOKS:
        raise UnknownHook(name)
    return [receiver(**kwargs) for receiver in _receivers.get(name, [])]


def receivers(name: str) -> list[Callable]:
    """The receivers registered for `name` (for tests and the architecture check)."""
    return list(_receivers.get(name, []))


# The hooks, lowest layer that runs them first. Keep one line each: name, then what it carries.
declare("usage.events_stored", "events stored: external_subscription_ids (set of str)")
declare("catalog.changed", "a metric or plan changed: organization_id (caches to reset)")
declare("subscription.terminated", "a subscription ended: subscription (bill what it owes)")
declare("customer.saved", "a customer was created or updated: customer (provider sync)")
declare("invoice.finalized", "an invoice was finalized: invoice (collection of its amount due)")
declare("credit_note.refund_due", "a credit note with a refund: credit_note (pay it back)")
# Hooks added later go below, one declare() per line.
declare("wallet.usage_owed", "balances read: customer, currency, now -> owed cents by fee key")
declare("wallet.credits_purchased", "paid top-up: wallet, credits, now -> its finalized invoice")
declare("subscription.started", "a subscription became active: subscription, now (bill it)")
declare("usage.late_events", "events {key: (sub id, timestamp)}, now -> {key: finalized invoice}")
declare("usage.invoiced_usage", "lifetime usage: subscription, before -> usage cents invoiced")
declare("feature.changed", "feature created/updated/deleted: webhook_type, feature (its JSON)")
