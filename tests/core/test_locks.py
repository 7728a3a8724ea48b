"""The lock helper: rows of the queried table only, filtered, in the caller's order."""

import re
from pathlib import Path

import pytest
from django.db import connection, transaction

from core.locks import LOCK_ORDER, lock, lock_one
from customers.locks import lock_customer
from customers.models import Customer

pytestmark = pytest.mark.django_db


def test_lock_takes_a_model_or_a_queryset_and_locks_only_its_own_table():
    by_model = lock(Customer, external_id="c1")
    by_queryset = lock(Customer.objects.live(), external_id="c1")
    for queryset in (by_model, by_queryset):
        assert queryset.query.select_for_update is True
        assert queryset.query.select_for_update_of == ("self",)


def test_lock_one_returns_the_row_with_that_primary_key():
    customer = Customer.objects.create(external_id="c1", name="Ada")
    with transaction.atomic():
        assert lock_one(Customer, customer.pk) == customer
        assert lock_customer(customer.pk).name == "Ada"


def test_lock_one_raises_does_not_exist_for_a_missing_row():
    with pytest.raises(Customer.DoesNotExist), transaction.atomic():
        lock_one(Customer, 999_999)


def test_the_documented_lock_order_is_customer_subscription_invoice_wallet():
    assert LOCK_ORDER == ("customer", "subscription", "invoice", "wallet")


@pytest.mark.postgres
def test_on_postgresql_the_lock_clause_names_only_the_queried_table():
    sql, _ = lock(Customer, external_id="c1").query.sql_with_params()
    assert connection.vendor == "postgresql"
    assert sql.endswith('FOR UPDATE OF "customers_customer"')


def test_services_lock_one_row_through_the_helper():
    """`Model.objects.select_for_update().get(pk=...)` is written once, in core/locks.py; the
    remaining direct clauses lock joined rows on purpose or a filtered set."""
    root = Path(__file__).resolve().parents[2]
    pattern = re.compile(r"\.objects\.select_for_update\(\)\.get\(pk=")
    offenders = [
        path.relative_to(root).as_posix()
        for path in root.glob("*/**/*.py")
        if not path.relative_to(root).as_posix().startswith((".venv/", "tests/"))
        and pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
