"""Wallets and prepaid credits, the customer's own ledger: balances, validation, create/update/
terminate, top-ups, alerts, expiry and recurring top-ups.

A wallet's balance is never stored: it is the sum of its settled transactions (inbound -
outbound), computed in SQL. Transactions are append-only; only their status moves
(pending → settled | failed). Every write locks the wallet row first.

One module per verb (ledger, selectors, validation, services, topups, notifications, alerts,
recurring); this package re-exports the names other apps use. What needs a higher layer lives
there: the deduction on invoices in invoices.services.wallets, the settlement of paid top-ups in
invoices.services.wallet_topups; the usage owed and the credit invoice reach this package
through the `wallet.usage_owed` and `wallet.credits_purchased` hooks (docs/architecture.md).
"""

from customers.wallets.alerts import wallets_check_depleted, wallets_expire
from customers.wallets.ledger import (
    cents_to_credits,
    credit_sums,
    credits_of,
    money_amount,
    money_cents,
    share_out,
    wallet_credits,
    wallets_with_credits,
)
from customers.wallets.recurring import due_occurrence, wallets_refresh, wallets_run_recurring
from customers.wallets.selectors import (
    WalletBalances,
    customer_wallet_balances,
    customer_wallet_get,
    customers_with_active_wallets,
    wallet_balances,
    wallet_get,
)
from customers.wallets.services import (
    wallet_create,
    wallet_metadata_set,
    wallet_terminate,
    wallet_update,
)
from customers.wallets.topups import wallet_top_up, wallet_transactions_create
from customers.wallets.validation import parse_credits

__all__ = [
    "WalletBalances",
    "cents_to_credits",
    "credit_sums",
    "credits_of",
    "customer_wallet_balances",
    "customer_wallet_get",
    "customers_with_active_wallets",
    "due_occurrence",
    "money_amount",
    "money_cents",
    "parse_credits",
    "share_out",
    "wallet_balances",
    "wallet_create",
    "wallet_credits",
    "wallet_get",
    "wallet_metadata_set",
    "wallet_terminate",
    "wallet_top_up",
    "wallet_transactions_create",
    "wallet_update",
    "wallets_check_depleted",
    "wallets_expire",
    "wallets_refresh",
    "wallets_run_recurring",
    "wallets_with_credits",
]
