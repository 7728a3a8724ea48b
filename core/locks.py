"""Row locks for services, in the spirit of Saleor's `lock_objects.py`.

Every write that must re-check state under concurrency starts by locking its rows here, so the
lock clause is written once: `select_for_update(of=("self",))` locks the rows of the queried
table only, never the rows of a table joined in by `select_related` (use plain
`select_for_update()` where a join's rows must be locked too). On SQLite, which has no row
locks, these are ordinary queries (the whole database is locked by a write transaction).

Lock order. A transaction that locks rows of several kinds takes them in this one order, so two
writers never wait for each other in a cycle (a deadlock):

    customer -> subscription -> invoice -> wallet

Several rows of one kind are locked in primary-key order (`lock(..., order_by="pk")`).

This module is kernel: it takes a model or a queryset and knows no domain model. The named
helpers (`lock_customer`, `lock_subscription`, `lock_invoice`, `lock_wallets`) live with their
models, in `customers/locks.py` and `invoices/locks.py`.
"""

from django.db import models

LOCK_ORDER = ("customer", "subscription", "invoice", "wallet")


def lock(model_or_queryset, **filters) -> models.QuerySet:
    """A queryset whose rows, filtered by `filters`, are locked until the transaction ends
    (evaluate it inside `transaction.atomic`)."""
    return _queryset(model_or_queryset).select_for_update(of=("self",)).filter(**filters)


def lock_one(model_or_queryset, pk):
    """The one row with this primary key, locked (DoesNotExist as `get` when there is none)."""
    return lock(model_or_queryset).get(pk=pk)


def _queryset(model_or_queryset) -> models.QuerySet:
    if isinstance(model_or_queryset, models.QuerySet):
        return model_or_queryset
    return model_or_queryset._default_manager.all()
