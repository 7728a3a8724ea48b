"""Every wallet traceable: replay each wallet's settled history and record which inbound
credits each existing outbound took, in the order customers.wallets.ledger uses today
(granted before purchased, then oldest first, among the inbounds settled by then). Money is
shared as ledger.cents_parts does; a self-contained copy, as migrations must not import code
that changes later."""

from decimal import ROUND_HALF_UP, Decimal

from django.db import migrations

from core.money import currency_exponent

ZERO = Decimal(0)


def _cents(amount: Decimal, exponent: int) -> int:
    return int(Decimal(amount).scaleb(exponent).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _replay(wallet, Tx, Consumption) -> list:
    rows = list(
        Tx.objects.filter(wallet_id=wallet.pk, status="settled").order_by(
            "settled_at", "created_at", "id"
        )
    )
    exponent = currency_exponent(wallet.currency)  # ISO 4217 minor units
    remaining: dict = {}
    keys: dict = {}
    found = []
    for row in rows:
        if row.transaction_type == "inbound":
            remaining[row.pk] = row.credit_amount
            keys[row.pk] = (0 if row.transaction_status == "granted" else 1, row.created_at, row.pk)
            continue
        left, parts = row.credit_amount, []
        for pk in sorted((pk for pk, r in remaining.items() if r > 0), key=keys.__getitem__):
            if left <= 0:
                break
            take = min(remaining[pk], left)
            remaining[pk] -= take
            left -= take
            parts.append((pk, take))
        total = _cents(row.amount, exponent)
        running, previous = ZERO, 0
        for index, (pk, take) in enumerate(parts):
            running += take
            last = index == len(parts) - 1
            cumulative = (
                total if last else min(total, _cents(running * wallet.rate_amount, exponent))
            )
            found.append(
                Consumption(
                    inbound_id=pk,
                    outbound_id=row.pk,
                    credit_amount=take,
                    amount_cents=cumulative - previous,
                    created_at=row.created_at,
                )
            )
            previous = cumulative
    return found


def backfill(apps, schema_editor):
    Wallet = apps.get_model("customers", "Wallet")
    Tx = apps.get_model("customers", "WalletTransaction")
    Consumption = apps.get_model("customers", "WalletTransactionConsumption")
    for wallet in Wallet.objects.order_by("pk").iterator():
        Consumption.objects.bulk_create(_replay(wallet, Tx, Consumption), batch_size=1000)


def forget(apps, schema_editor):
    apps.get_model("customers", "WalletTransactionConsumption").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("customers", "0011_wallet_transaction_consumptions")]

    operations = [migrations.RunPython(backfill, forget)]
