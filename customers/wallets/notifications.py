"""Wallet webhooks: wallet.* and wallet_transaction.* messages, rendered as the API renders them."""

from customers.models import Wallet, WalletTransaction


def _wanted(webhook_type: str) -> bool:
    """Someone listens (rendering a wallet prices current usage: skip it when nobody does)."""
    from webhooks.models import WebhookEndpoint

    return any(e.wants(webhook_type) for e in WebhookEndpoint.objects.filter(is_active=True))


def notify_wallet(webhook_type: str, wallet: Wallet, balances=None) -> None:
    from customers.serializers import wallet_json
    from webhooks.services import webhook_send

    if _wanted(webhook_type):
        data = wallet_json(wallet, balances)
        webhook_send(webhook_type=webhook_type, object_type="wallet", data=data)


def notify_transactions(webhook_type: str, rows: list[WalletTransaction]) -> None:
    from customers.serializers import wallet_transaction_json
    from webhooks.services import webhook_send

    if rows and _wanted(webhook_type):
        for row in rows:
            data = wallet_transaction_json(row)
            webhook_send(webhook_type=webhook_type, object_type="wallet_transaction", data=data)
