"""The wallet seams of issue 15: customers.wallets imports no higher layer; the invoices app
answers the two wallet hooks, and the balances and paid top-ups go through them."""

import ast
from pathlib import Path

import pytest

from core import hooks
from customers.wallets import wallet_balances, wallet_top_up
from invoices.services.wallet_topups import wallet_credit_invoice
from invoices.services.wallets import wallet_usage_owed
from tests.wallets.conftest import START, at, new_wallet, send

PACKAGE = Path(__file__).resolve().parents[2] / "customers" / "wallets"
HIGHER = ("usage", "invoices", "payments", "portal", "backoffice")


def imported_apps(path: Path) -> set[str]:
    """Top-level package of every import in a module, inside functions too."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def test_the_wallet_package_imports_no_higher_layer():
    modules = sorted(PACKAGE.glob("*.py"))
    assert [m.name for m in modules][:2] == ["__init__.py", "alerts.py"]
    upward = {m.name: imported_apps(m) & set(HIGHER) for m in modules}
    assert {name: apps for name, apps in upward.items() if apps} == {}


def test_the_invoices_app_answers_both_wallet_hooks():
    assert hooks.receivers("wallet.usage_owed") == [wallet_usage_owed]
    assert hooks.receivers("wallet.credits_purchased") == [wallet_credit_invoice]


@pytest.fixture
def another_debt():
    """A second `wallet.usage_owed` receiver for the duration of a test: $3.00 of images."""

    def owed(*, customer, currency, now):
        return {("charge", "images"): 300}

    hooks.register("wallet.usage_owed", owed)
    yield owed
    hooks._receivers["wallet.usage_owed"].remove(owed)


@pytest.mark.django_db
def test_the_ongoing_balance_subtracts_what_every_receiver_says_is_owed(subscription, another_debt):
    wallet = new_wallet(granted_credits="10")
    send(at(2024, 4, 5), 500)  # $5.00 of tokens, answered by the invoices app
    balances = wallet_balances(wallet, now=at(2024, 4, 6))
    assert balances.balance_cents == 1000
    assert balances.ongoing_usage_balance_cents == 800  # $5.00 + $3.00
    assert balances.ongoing_balance_cents == 200


@pytest.fixture
def no_invoicing():
    """The invoices app's credit-invoice receiver taken away for the duration of a test."""
    receivers = hooks._receivers["wallet.credits_purchased"]
    receivers.remove(wallet_credit_invoice)
    yield
    receivers.append(wallet_credit_invoice)


@pytest.mark.django_db
def test_a_paid_top_up_without_the_invoicing_receiver_fails_and_writes_nothing(
    customer, no_invoicing
):
    wallet = new_wallet(granted_credits="1")
    with pytest.raises(RuntimeError, match="has 0 receivers"):
        wallet_top_up(wallet=wallet, paid_credits="5", now=START)
    assert list(wallet.transactions.values_list("transaction_status", flat=True)) == ["granted"]
