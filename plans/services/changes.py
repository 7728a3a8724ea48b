"""Announce catalog changes to whoever caches the catalog, without knowing who that is.

Ingestion (usage, a higher layer) keeps a per-process cache of metrics and charges; the catalog
must not import it, so it runs the declared hook `catalog.changed` once the transaction commits
and usage registers the cache reset (usage/apps.py).
"""

from django.db import transaction

from core import hooks


def _announce() -> None:
    hooks.run("catalog.changed", organization_id=None)  # None: the one organization


def catalog_changed_on_commit() -> None:
    """Run the `catalog.changed` hook after the current transaction commits (never on rollback)."""
    transaction.on_commit(_announce)
