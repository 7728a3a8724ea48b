"""The JSON of customers and subscriptions (Lago's wire format), for the API and for webhooks
alike: one renderer per resource, so a webhook shows what the API shows."""

from datetime import timedelta

from django.utils import timezone

from core.api.formats import decimal_str, iso
from core.money import to_minor_units
from core.selectors import organization_get
from customers.models import (
    Customer,
    RecurringTransactionRule,
    Subscription,
    Wallet,
    WalletTransaction,
)
from customers.selectors import customer_timezone, subscription_current_period
from customers.services import downgrade_date
from customers.wallets import WalletBalances, wallet_balances
from customers.wallets.ledger import with_consumed
from plans import privileges as privilege_rules
from plans.periods import local_date
from plans.serializers import privilege_json

ONE_SECOND = timedelta(seconds=1)  # Lago shows period ends as 23:59:59 of the last day


def customer_json(customer: Customer, *, slug_prefix: str | None = None) -> dict:
    """Lago's Customer; `slug` is Lago's `<document number prefix>-<sequential id, 3 digits>`
    (pass the prefix when rendering many customers: one organization read)."""
    prefix = slug_prefix or organization_get().document_number_prefix
    return {
        "lago_id": str(customer.lago_id),
        "external_id": customer.external_id,
        "sequential_id": customer.pk,
        "slug": f"{prefix}-{customer.pk:03d}",
        "name": customer.name or None,
        "firstname": customer.firstname or None,
        "lastname": customer.lastname or None,
        "customer_type": customer.customer_type or None,
        "email": customer.email or None,
        "phone": customer.phone or None,
        "url": customer.url or None,
        "legal_name": customer.legal_name or None,
        "legal_number": customer.legal_number or None,
        "tax_identification_number": customer.tax_identification_number or None,
        "address_line1": customer.address_line1 or None,
        "address_line2": customer.address_line2 or None,
        "city": customer.city or None,
        "state": customer.state or None,
        "zipcode": customer.zipcode or None,
        "country": customer.country or None,
        "currency": customer.currency or None,
        "timezone": customer.timezone or None,
        "applicable_timezone": customer_timezone(customer),
        "net_payment_term": customer.net_payment_term,
        "finalize_zero_amount_invoice": customer.finalize_zero_amount_invoice,
        "shipping_address": _shipping_address(customer),
        "billing_configuration": {
            "invoice_grace_period": customer.invoice_grace_period,
            "payment_provider": customer.payment_provider or None,
            "payment_provider_code": customer.payment_provider_code or None,
            "provider_customer_id": customer.provider_customer_id or None,
            "sync_with_provider": customer.sync_with_provider,
            "document_locale": customer.document_locale or None,
        },
        "metadata": [
            {
                "lago_id": str(item.lago_id),
                "key": item.key,
                "value": item.value,
                "display_in_invoice": item.display_in_invoice,
                "created_at": iso(item.created_at),
            }
            for item in customer.metadata.all()
        ],
        "tax_codes": customer.tax_codes,
        "taxes": [],
        "error_details": [],
        "created_at": iso(customer.created_at),
        "updated_at": iso(customer.updated_at),
    }


SHIPPING_FIELDS = ("address_line1", "address_line2", "city", "zipcode", "state", "country")


def _shipping_address(customer: Customer) -> dict:
    """Lago always sends the shipping address as an object, its unknown fields null."""
    given = customer.shipping_address or {}
    return {field: given.get(field) or None for field in SHIPPING_FIELDS}


def subscription_json(subscription: Subscription) -> dict:
    plan = subscription.plan
    period = subscription_current_period(subscription)
    previous = subscription.previous_subscription
    successor = (
        subscription.next_subscriptions.exclude(status=Subscription.Status.CANCELED)
        .select_related("plan__parent")
        .first()
    )
    return {
        "lago_id": str(subscription.lago_id),
        "external_id": subscription.external_id,
        "lago_customer_id": str(subscription.customer.lago_id),
        "external_customer_id": subscription.customer.external_id,
        "name": subscription.name or None,
        "plan_code": plan.catalog_plan.code,
        "plan_amount_cents": plan.amount_cents,
        "plan_amount_currency": plan.amount_currency,
        "status": subscription.status,
        "billing_time": subscription.billing_time,
        "subscription_at": iso(subscription.subscription_at),
        "started_at": iso(subscription.started_at),
        "ending_at": iso(subscription.ending_at),
        "terminated_at": iso(subscription.terminated_at),
        "canceled_at": iso(subscription.canceled_at),
        "trial_ended_at": iso(subscription.trial_ended_at),
        "created_at": iso(subscription.created_at),
        "previous_plan_code": previous.plan.catalog_plan.code if previous else None,
        "next_plan_code": successor.plan.catalog_plan.code if successor else None,
        "downgrade_plan_date": _downgrade_day(successor),
        "current_billing_period_started_at": iso(period[0]) if period else None,
        "current_billing_period_ending_at": iso(period[1] - ONE_SECOND) if period else None,
        "on_termination_credit_note": subscription.on_termination_credit_note or None,
        "on_termination_invoice": subscription.on_termination_invoice,
    }


def _downgrade_day(successor: Subscription | None) -> str | None:
    """Lago shows the date (customer's zone) a pending downgrade starts."""
    start = downgrade_date(successor) if successor else None
    if start is None:
        return None
    return local_date(start, customer_timezone(successor.customer)).isoformat()


# --- views -----------------------------------------------------------------------------------


def recurring_rule_json(rule: RecurringTransactionRule) -> dict:
    expired = rule.expiration_at is not None and rule.expiration_at <= timezone.now()
    return {
        "lago_id": str(rule.lago_id),
        "trigger": rule.trigger,
        "interval": rule.interval or None,
        "threshold_credits": decimal_str(rule.threshold_credits),
        "method": rule.method,
        "paid_credits": decimal_str(rule.paid_credits),
        "granted_credits": decimal_str(rule.granted_credits),
        "target_ongoing_balance": decimal_str(rule.target_ongoing_balance),
        "grants_target_top_up": rule.grants_target_top_up,
        "ignore_paid_top_up_limits": rule.ignore_paid_top_up_limits,
        # the top-ups a rule makes follow the wallet's setting (customers/wallets/recurring.py)
        "invoice_requires_successful_payment": rule.wallet.invoice_requires_successful_payment,
        "started_at": iso(rule.started_at),
        "expiration_at": iso(rule.expiration_at),
        "status": "terminated" if expired else "active",
        "transaction_name": rule.transaction_name or None,
        "transaction_metadata": rule.transaction_metadata,
        "created_at": iso(rule.created_at),
    }


def _last_consumed_at(wallet: Wallet):
    row = (
        wallet.transactions.filter(transaction_status="invoiced", status="settled")
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    return iso(row)


def wallet_json(wallet: Wallet, balances: WalletBalances | None = None) -> dict:
    """Lago's WalletResponse: credits as decimal strings, money as integer cents."""
    balances = balances or wallet_balances(wallet)
    return {
        "lago_id": str(wallet.lago_id),
        "lago_customer_id": str(wallet.customer.lago_id),
        "external_customer_id": wallet.customer.external_id,
        "status": wallet.status,
        "currency": wallet.currency,
        "name": wallet.name or None,
        "code": wallet.code,
        "priority": wallet.priority,
        "rate_amount": decimal_str(wallet.rate_amount),
        "credits_balance": decimal_str(balances.credits_balance),
        "balance_cents": balances.balance_cents,
        "consumed_credits": decimal_str(balances.consumed_credits),
        "ongoing_balance_cents": balances.ongoing_balance_cents,
        "ongoing_usage_balance_cents": balances.ongoing_usage_balance_cents,
        "credits_ongoing_balance": decimal_str(balances.credits_ongoing_balance),
        "credits_ongoing_usage_balance": decimal_str(balances.credits_ongoing_usage_balance),
        "created_at": iso(wallet.created_at),
        "updated_at": iso(wallet.updated_at),
        "expiration_at": iso(wallet.expiration_at),
        "terminated_at": iso(wallet.terminated_at),
        "last_balance_sync_at": iso(timezone.now()),  # computed live, on every read
        "last_consumed_credit_at": _last_consumed_at(wallet),
        "recurring_transaction_rules": [
            recurring_rule_json(rule) for rule in wallet.recurring_rules.all()
        ],
        "applies_to": {
            "fee_types": wallet.applies_to_fee_types,
            "billable_metric_codes": wallet.applies_to_billable_metric_codes,
        },
        "invoice_requires_successful_payment": wallet.invoice_requires_successful_payment,
        "paid_top_up_min_amount_cents": wallet.paid_top_up_min_amount_cents,
        "paid_top_up_max_amount_cents": wallet.paid_top_up_max_amount_cents,
        "metadata": wallet.metadata,
    }


def _remaining(row: WalletTransaction) -> dict:
    """What an inbound transaction has left (its credits and money minus its consumptions),
    null for an outbound one; summed in SQL unless the query annotated `consumed_credits` and
    `consumed_cents` (customers.wallets.ledger.with_consumed)."""
    if row.transaction_type != WalletTransaction.TransactionType.INBOUND:
        return {"remaining_amount_cents": None, "remaining_credit_amount": None}
    if not hasattr(row, "consumed_credits"):
        row = with_consumed(WalletTransaction.objects.filter(pk=row.pk)).get()
    cents = to_minor_units(row.amount, row.wallet.currency) - row.consumed_cents
    return {
        "remaining_amount_cents": cents,
        "remaining_credit_amount": decimal_str(row.credit_amount - row.consumed_credits),
    }


def wallet_transaction_json(row: WalletTransaction) -> dict:
    """Lago's WalletTransactionResponse: credit_amount in credits, amount in major units."""
    return {
        "lago_id": str(row.lago_id),
        "lago_wallet_id": str(row.wallet.lago_id),
        "lago_invoice_id": str(row.invoice.lago_id) if row.invoice_id else None,
        "lago_credit_note_id": None,
        "lago_voided_invoice_id": None,
        "status": row.status,
        "source": row.source,
        "transaction_status": row.transaction_status,
        "transaction_type": row.transaction_type,
        "amount": decimal_str(row.amount),
        "credit_amount": decimal_str(row.credit_amount),
        **_remaining(row),
        "payment_method": {"payment_method_id": None, "payment_method_type": "provider"},
        "priority": row.wallet.priority,
        "invoice_requires_successful_payment": row.invoice_requires_successful_payment,
        "name": row.name or None,
        "metadata": row.metadata,
        "settled_at": iso(row.settled_at),
        "failed_at": iso(row.failed_at),
        "created_at": iso(row.created_at),
    }


def wallet_transaction_consumption_json(row, other: WalletTransaction) -> dict:
    """Lago's WalletTransactionConsumptionObject (or FundingObject): the credits and money one
    inbound gave one outbound, with the transaction on the other side."""
    return {
        "lago_id": str(row.lago_id),
        "amount_cents": row.amount_cents,
        "credit_amount": decimal_str(row.credit_amount),
        "created_at": iso(row.created_at),
        "wallet_transaction": wallet_transaction_json(other),
    }


def subscription_entitlement_json(entitlement) -> dict:
    """One merged entitlement (customers.entitlements.MergedEntitlement), Lago's
    SubscriptionEntitlementSerializer: each privilege's value, plan value and override."""
    feature = entitlement.feature
    privileges = []
    overrides = {}
    for merged in entitlement.privileges:
        privilege, kind = merged.privilege, merged.privilege.value_type
        privileges.append(
            {
                **privilege_json(privilege),
                "value": privilege_rules.cast(merged.value, kind),
                "plan_value": privilege_rules.cast(merged.plan_value, kind),
                "override_value": privilege_rules.cast(merged.override_value, kind),
            }
        )
        if merged.override_value is not None:
            overrides[privilege.code] = privilege_rules.cast(merged.override_value, kind)
    return {
        "code": feature.code,
        "name": feature.name or None,
        "description": feature.description or None,
        "privileges": privileges,
        "overrides": overrides,
    }
