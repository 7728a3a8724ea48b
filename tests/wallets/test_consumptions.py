"""Which inbound credits each outbound transaction took (Lago's WalletTransactionConsumption):
recorded with every outbound under the wallet lock, granted before purchased then oldest first;
GET /wallet_transactions/{id}/consumptions and /fundings; the backfill of older ledgers."""

from decimal import Decimal

import pytest
import time_machine
from django.apps import apps as django_apps

from customers.models import Wallet, WalletTransaction, WalletTransactionConsumption
from customers.wallets import wallet_terminate, wallet_top_up
from customers.wallets.ledger import cents_parts, fifo_parts
from invoices.services.wallets import wallets_apply
from tests.openapi_check import spec_errors
from tests.wallets.conftest import at, balance, close, new_wallet, send
from tests.wallets.test_prepaid_credits import pay

pytestmark = pytest.mark.django_db
Consumption = WalletTransactionConsumption
# Lago's serializer sends payment_method_id null without a payment method; the spec says string.
GAPS = (r"(.*/)?payment_method/payment_method_id: None is not of type 'string'",)


def fundings(outbound: WalletTransaction) -> list[tuple]:
    rows = outbound.fundings.select_related("inbound").order_by("id")
    return [(r.inbound.transaction_status, r.credit_amount, r.amount_cents) for r in rows]


def remaining(wallet: Wallet) -> Decimal:
    """Σ inbound credits - Σ consumptions: equals the balance when every outbound is funded."""
    inbound = WalletTransaction.objects.filter(
        wallet=wallet, status="settled", transaction_type="inbound"
    )
    taken = Consumption.objects.filter(inbound__wallet=wallet)
    return sum((r.credit_amount for r in inbound), Decimal(0)) - sum(
        (c.credit_amount for c in taken), Decimal(0)
    )


def world(subscription):
    """Purchased 20 credits (paid) on Apr 1, then 10 granted on Apr 2, at 1.5 USD a credit;
    April's invoice ($10 base + $20 of tokens = $30.00) takes 20 credits."""
    wallet = new_wallet(rate_amount="1.5")
    with time_machine.travel(at(2024, 4, 1, 9), tick=False):
        [purchase] = wallet_top_up(wallet=wallet, paid_credits="20")
        pay(purchase.invoice)
    with time_machine.travel(at(2024, 4, 2), tick=False):
        [grant] = wallet_top_up(wallet=wallet, granted_credits="10")
    send(at(2024, 4, 10), 2000)
    invoice = close(subscription, at(2024, 5, 1, 0, 5))
    assert wallets_apply(invoice=invoice, now=at(2024, 5, 1, 0, 6)) == 3000
    [spent] = WalletTransaction.objects.filter(invoice=invoice, transaction_type="outbound")
    return wallet, WalletTransaction.objects.get(pk=purchase.pk), grant, spent


def test_granted_first_then_oldest_and_money_adds_up(subscription):
    wallet, _, _, spent = world(subscription)
    assert spent.credit_amount == 20 and spent.amount == Decimal("30.00")
    # the 10 granted credits go first although the purchase is older; 10 of 20 purchased next
    assert fundings(spent) == [("granted", Decimal(10), 1500), ("purchased", Decimal(10), 1500)]
    assert remaining(wallet) == balance(wallet) == 10
    with time_machine.travel(at(2024, 5, 2), tick=False):
        terminated = wallet_terminate(wallet=wallet)
    void = WalletTransaction.objects.get(wallet=terminated, transaction_status="voided")
    assert fundings(void) == [("purchased", Decimal(10), 1500)]
    assert remaining(wallet) == balance(wallet) == 0


def test_consumptions_and_fundings_endpoints(api, subscription):
    _, purchase, grant, spent = world(subscription)
    body = api.get(f"/api/v1/wallet_transactions/{purchase.lago_id}/consumptions").json()
    [row] = body["wallet_transaction_consumptions"]
    assert (row["amount_cents"], row["credit_amount"]) == (1500, "10.0")
    assert row["wallet_transaction"]["lago_id"] == str(spent.lago_id)
    assert row["wallet_transaction"]["transaction_type"] == "outbound"
    assert body["meta"]["total_count"] == 1
    assert spec_errors("WalletTransactionConsumptionsPaginated", body, GAPS) == []
    body = api.get(f"/api/v1/wallet_transactions/{spent.lago_id}/fundings").json()
    rows = body["wallet_transaction_fundings"]
    assert sorted((r["wallet_transaction"]["lago_id"], r["amount_cents"]) for r in rows) == sorted(
        [(str(grant.lago_id), 1500), (str(purchase.lago_id), 1500)]
    )
    assert spec_errors("WalletTransactionFundingsPaginated", body, GAPS) == []
    page = api.get(f"/api/v1/wallet_transactions/{spent.lago_id}/fundings?per_page=1").json()
    assert len(page["wallet_transaction_fundings"]) == 1 and page["meta"]["total_pages"] == 2


def test_wrong_direction_and_unknown_transaction(api, subscription):
    _, purchase, _, spent = world(subscription)
    for url in (f"{spent.lago_id}/consumptions", f"{purchase.lago_id}/fundings"):
        response = api.get(f"/api/v1/wallet_transactions/{url}")
        assert response.status_code == 422
        assert response.json()["error_details"] == {
            "transaction_type": ["invalid_transaction_type"]
        }
    for lago_id in ("nope", "6f1c2a4e-0000-4000-8000-000000000000"):
        response = api.get(f"/api/v1/wallet_transactions/{lago_id}/fundings")
        assert (response.status_code, response.json()["code"]) == (
            404,
            "wallet_transaction_not_found",
        )


def test_a_void_of_a_top_up_and_pending_purchases_are_not_consumed(customer):
    wallet = new_wallet(granted_credits="5")
    wallet_top_up(wallet=wallet, paid_credits="50")  # pending: not available
    [void] = wallet_top_up(wallet=wallet, voided_credits="5")
    assert fundings(void) == [("granted", Decimal(5), 500)]
    assert remaining(wallet) == balance(wallet) == 0


def test_fifo_parts_and_cents_parts_are_exact():
    available = [(1, Decimal("0.33333")), (2, Decimal("1")), (3, Decimal("4"))]
    assert fifo_parts(available, Decimal("1.2")) == [
        (1, Decimal("0.33333")),
        (2, Decimal("0.86667")),
    ]
    assert fifo_parts(available, Decimal("9")) == available  # takes what there is
    wallet = Wallet(rate_amount=Decimal("0.7"), currency="USD")
    parts = [Decimal("0.33333"), Decimal("0.33333"), Decimal("0.33334")]
    shares = cents_parts(parts, 70, wallet)
    assert sum(shares) == 70 and min(shares) >= 0
    assert shares == [23, 24, 23]  # running totals 23.33→23, 46.67→47, closes on 70
    yen = Wallet(rate_amount=Decimal("100"), currency="JPY")
    assert cents_parts([Decimal("0.5"), Decimal("0.5")], 100, yen) == [50, 50]


def test_backfill_replays_the_ledger_as_it_was_written(subscription):
    wallet, *_ = world(subscription)
    with time_machine.travel(at(2024, 5, 2), tick=False):
        wallet_terminate(wallet=wallet)
    live = sorted(
        Consumption.objects.values_list("inbound", "outbound", "credit_amount", "amount_cents")
    )
    Consumption.objects.all().delete()
    backfill = __import__(
        "customers.migrations.0012_backfill_wallet_transaction_consumptions", fromlist=["backfill"]
    ).backfill
    backfill(django_apps, None)
    replayed = sorted(
        Consumption.objects.values_list("inbound", "outbound", "credit_amount", "amount_cents")
    )
    assert replayed == live and len(live) == 3


def test_inbound_transactions_show_what_is_left(api, subscription):
    wallet, purchase, grant, spent = world(subscription)
    shown = api.get(f"/api/v1/wallet_transactions/{purchase.lago_id}").json()["wallet_transaction"]
    assert (shown["remaining_credit_amount"], shown["remaining_amount_cents"]) == ("10.0", 1500)
    assert spec_errors("WalletTransactionObject", shown, GAPS) == []
    listed = api.get(f"/api/v1/wallets/{wallet.lago_id}/wallet_transactions").json()
    by_id = {row["lago_id"]: row for row in listed["wallet_transactions"]}
    assert by_id[str(grant.lago_id)]["remaining_credit_amount"] == "0.0"
    assert by_id[str(grant.lago_id)]["remaining_amount_cents"] == 0
    assert by_id[str(purchase.lago_id)]["remaining_amount_cents"] == 1500
    assert by_id[str(spent.lago_id)]["remaining_amount_cents"] is None
