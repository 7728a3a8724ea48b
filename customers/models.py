"""Customers and their subscriptions.

Subscriptions live here rather than in plans/: a subscription is the customer's contract (its
dates, status and history of plan changes); the plan is only what it points to.
"""

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.auditing import AuditedQuerySet, LiveQuerySet


class Customer(models.Model):
    """Who is billed. Timezone and currency drive billing periods and invoice amounts."""

    class CustomerType(models.TextChoices):
        COMPANY = "company", "company"
        INDIVIDUAL = "individual", "individual"

    class ZeroAmountInvoices(models.TextChoices):
        INHERIT = "inherit", "inherit from organization"
        FINALIZE = "finalize", "finalize"
        SKIP = "skip", "skip"

    lago_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    external_id = models.CharField(max_length=255)
    name = models.CharField(max_length=255, blank=True)
    firstname = models.CharField(max_length=255, blank=True)
    lastname = models.CharField(max_length=255, blank=True)
    customer_type = models.CharField(max_length=16, choices=CustomerType.choices, blank=True)
    email = models.CharField(max_length=1024, blank=True)  # Lago allows a comma-separated list
    phone = models.CharField(max_length=64, blank=True)
    url = models.CharField(max_length=1024, blank=True)
    legal_name = models.CharField(max_length=255, blank=True)
    legal_number = models.CharField(max_length=255, blank=True)
    tax_identification_number = models.CharField(max_length=255, blank=True)
    address_line1 = models.CharField(max_length=255, blank=True)
    address_line2 = models.CharField(max_length=255, blank=True)
    city = models.CharField(max_length=255, blank=True)
    state = models.CharField(max_length=255, blank=True)
    zipcode = models.CharField(max_length=64, blank=True)
    country = models.CharField(max_length=2, blank=True)  # ISO 3166-1 alpha-2
    shipping_address = models.JSONField(default=dict, blank=True)
    currency = models.CharField(max_length=3, blank=True)  # set by the first subscription if empty
    timezone = models.CharField(max_length=64, blank=True)  # IANA; empty = organization's
    net_payment_term = models.PositiveIntegerField(null=True, blank=True)  # days; null = org's
    invoice_grace_period = models.PositiveIntegerField(null=True, blank=True)  # days; null = org's
    finalize_zero_amount_invoice = models.CharField(
        max_length=16, choices=ZeroAmountInvoices.choices, default=ZeroAmountInvoices.INHERIT
    )
    document_locale = models.CharField(max_length=8, blank=True)  # en, fr, de, ...
    payment_provider = models.CharField(max_length=32, blank=True)  # "stripe" or empty
    payment_provider_code = models.CharField(max_length=255, blank=True)
    provider_customer_id = models.CharField(max_length=255, blank=True)
    sync_with_provider = models.BooleanField(default=False)
    # The provider's id of the default payment method (pm_…); never card data.
    provider_payment_method_id = models.CharField(max_length=255, blank=True)
    personal_data_erased_at = models.DateTimeField(null=True, blank=True)  # GDPR erasure
    tax_codes = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = LiveQuerySet.as_manager()

    class Meta:
        permissions = [("manage_personal_data", "Can export or erase a customer's personal data")]
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                condition=Q(deleted_at__isnull=True),
                name="customer_external_id_live_uniq",
            )
        ]

    def __str__(self) -> str:
        return self.name or self.external_id

    @property
    def display_name(self) -> str:
        full = f"{self.firstname} {self.lastname}".strip()
        return self.name or full or self.external_id


class CustomerMetadata(models.Model):
    """Free key/value pairs on a customer, optionally printed on invoices."""

    lago_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="metadata")
    key = models.CharField(max_length=255)
    value = models.CharField(max_length=1024, blank=True)
    display_in_invoice = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["key"]
        verbose_name_plural = "customer metadata"
        constraints = [
            models.UniqueConstraint(fields=["customer", "key"], name="customer_metadata_key_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.key}={self.value}"


class Subscription(models.Model):
    """A customer on a plan. external_id is stable across plan changes: an upgrade terminates
    this row and starts a new one with the same external_id (previous_subscription links them)."""

    class Status(models.TextChoices):
        PENDING = "pending", "pending"
        ACTIVE = "active", "active"
        TERMINATED = "terminated", "terminated"
        CANCELED = "canceled", "canceled"

    class BillingTime(models.TextChoices):
        CALENDAR = "calendar", "calendar"
        ANNIVERSARY = "anniversary", "anniversary"

    class OnTerminationCreditNote(models.TextChoices):
        """What happens to the unused days of a base fee paid in advance (Lago's values)."""

        CREDIT = "credit", "credit the customer"
        REFUND = "refund", "refund what was paid, credit the rest"
        OFFSET = "offset", "refund what was paid, offset the rest on the invoice"
        SKIP = "skip", "nothing"

    class OnTerminationInvoice(models.TextChoices):
        """Whether termination issues a closing invoice (arrears fee and usage not billed yet)."""

        GENERATE = "generate", "generate"
        SKIP = "skip", "skip"

    lago_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    external_id = models.CharField(max_length=255, db_index=True)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="subscriptions")
    plan = models.ForeignKey("plans.Plan", on_delete=models.PROTECT, related_name="subscriptions")
    name = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    billing_time = models.CharField(
        max_length=16, choices=BillingTime.choices, default=BillingTime.CALENDAR
    )
    subscription_at = models.DateTimeField()  # when it was asked to start
    started_at = models.DateTimeField(null=True, blank=True)  # set on activation
    ending_at = models.DateTimeField(null=True, blank=True)  # planned automatic termination
    terminated_at = models.DateTimeField(null=True, blank=True)
    canceled_at = models.DateTimeField(null=True, blank=True)
    trial_ended_at = models.DateTimeField(null=True, blank=True)
    # Termination behaviour (Lago): blank credit-note choice = credit, for in-advance plans only.
    on_termination_credit_note = models.CharField(
        max_length=8, choices=OnTerminationCreditNote.choices, blank=True
    )
    on_termination_invoice = models.CharField(
        max_length=8, choices=OnTerminationInvoice.choices, default=OnTerminationInvoice.GENERATE
    )
    # The next moment to bill (a period end, or the start for a pay-in-advance base fee);
    # beat bills every active subscription whose next_billing_at has passed. Null = nothing due.
    next_billing_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # The subscription this one replaces (upgrade: terminated; downgrade: still active until its
    # period ends, this row waiting as pending).
    previous_subscription = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="next_subscriptions",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AuditedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # At most one active and one pending row per external id (a downgrade waits as pending).
            models.UniqueConstraint(
                fields=["external_id"], condition=Q(status="active"), name="one_active_sub"
            ),
            models.UniqueConstraint(
                fields=["external_id"], condition=Q(status="pending"), name="one_pending_sub"
            ),
        ]
        indexes = [models.Index(fields=["status", "customer"])]

    def __str__(self) -> str:
        return f"{self.external_id} ({self.status})"


# --- wallets (prepaid credits) ---------------------------------------------------------------

CREDIT_DIGITS = {"max_digits": 30, "decimal_places": 5}  # Lago's precision for credits


class SubscriptionFixedChargeUnits(models.Model):
    """A subscription's own units of one fixed charge of its plan (Lago's
    Subscription::FixedChargeUnitsOverride); without a row the plan's units apply."""

    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="fixed_charge_units"
    )
    fixed_charge = models.ForeignKey(
        "plans.FixedCharge", on_delete=models.CASCADE, related_name="subscription_units"
    )
    units = models.DecimalField(max_digits=30, decimal_places=10)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AuditedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "fixed_charge"], name="one_units_override_per_fixed_charge"
            ),
            models.CheckConstraint(condition=Q(units__gte=0), name="units_override_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.fixed_charge.code}: {self.units}"


class Wallet(models.Model):
    """Prepaid credits of a customer in one currency. The balance is never stored: it is the sum
    of the wallet's settled transactions (customers.wallets computes it in SQL)."""

    class Status(models.TextChoices):
        ACTIVE = "active", "active"
        TERMINATED = "terminated", "terminated"

    lago_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="wallets")
    name = models.CharField(max_length=255, blank=True)
    code = models.CharField(max_length=255)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    currency = models.CharField(max_length=3)
    rate_amount = models.DecimalField(max_digits=30, decimal_places=10)  # major units per credit
    priority = models.PositiveSmallIntegerField(default=50)  # 1-50, lower is consumed first
    expiration_at = models.DateTimeField(null=True, blank=True)
    applies_to_fee_types = models.JSONField(default=list, blank=True)  # empty = every fee type
    applies_to_billable_metric_codes = models.JSONField(default=list, blank=True)
    invoice_requires_successful_payment = models.BooleanField(default=False)
    paid_top_up_min_amount_cents = models.BigIntegerField(null=True, blank=True)
    paid_top_up_max_amount_cents = models.BigIntegerField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    # Set when wallet.depleted_ongoing_balance was sent; cleared by the next inbound settlement.
    depleted_notified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    terminated_at = models.DateTimeField(null=True, blank=True)

    objects = AuditedQuerySet.as_manager()

    class Meta:
        ordering = ["priority", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "code"],
                condition=Q(status="active"),
                name="wallet_code_active_uniq",
            ),
            models.CheckConstraint(condition=Q(rate_amount__gt=0), name="wallet_rate_positive"),
            models.CheckConstraint(
                condition=Q(priority__gte=1, priority__lte=50), name="wallet_priority_range"
            ),
        ]
        indexes = [models.Index(fields=["status", "customer"])]

    def __str__(self) -> str:
        return f"{self.name or self.code} ({self.currency})"


class WalletTransaction(models.Model):
    """One movement of credits. Append-only: only `status` moves (pending → settled | failed)."""

    class TransactionType(models.TextChoices):
        INBOUND = "inbound", "inbound"
        OUTBOUND = "outbound", "outbound"

    class TransactionStatus(models.TextChoices):
        PURCHASED = "purchased", "purchased"
        GRANTED = "granted", "granted"
        VOIDED = "voided", "voided"
        INVOICED = "invoiced", "invoiced"

    class Status(models.TextChoices):
        PENDING = "pending", "pending"
        SETTLED = "settled", "settled"
        FAILED = "failed", "failed"

    class Source(models.TextChoices):
        MANUAL = "manual", "manual"
        INTERVAL = "interval", "interval"
        THRESHOLD = "threshold", "threshold"

    lago_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="transactions")
    transaction_type = models.CharField(max_length=16, choices=TransactionType.choices)
    transaction_status = models.CharField(max_length=16, choices=TransactionStatus.choices)
    status = models.CharField(max_length=16, choices=Status.choices)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.MANUAL)
    credit_amount = models.DecimalField(**CREDIT_DIGITS)  # credits, >= 0
    amount = models.DecimalField(**CREDIT_DIGITS)  # money, major units (credits x rate)
    # The top-up's credit invoice (purchased) or the invoice that consumed the credits (invoiced).
    invoice = models.ForeignKey(
        "invoices.Invoice",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="wallet_transactions",
    )
    # NULL (not "") when absent: the unique constraint applies to keys that were sent.
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    invoice_requires_successful_payment = models.BooleanField(default=False)
    name = models.CharField(max_length=255, blank=True)
    metadata = models.JSONField(default=list, blank=True)  # [{"key": ..., "value": ...}]
    created_at = models.DateTimeField(auto_now_add=True)
    settled_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)

    objects = AuditedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One top-up per key and wallet; its parts (purchased, granted, voided) share the key.
            models.UniqueConstraint(
                fields=["wallet", "idempotency_key", "transaction_status"],
                condition=Q(idempotency_key__isnull=False),
                name="wallet_transaction_idempotency_uniq",
            ),
            models.CheckConstraint(
                condition=Q(credit_amount__gte=0), name="wallet_transaction_credits_non_negative"
            ),
        ]
        indexes = [
            models.Index(fields=["wallet", "status"]),
            models.Index(fields=["invoice", "transaction_type"]),
        ]

    def __str__(self) -> str:
        sign = "+" if self.transaction_type == self.TransactionType.INBOUND else "-"
        return f"{sign}{self.credit_amount} {self.transaction_status} ({self.status})"


class WalletTransactionConsumption(models.Model):
    """Which inbound credits an outbound transaction took (Lago's WalletTransactionConsumption):
    written with the outbound, under the wallet lock, in Lago's consumption order (granted
    before purchased, then oldest first; customers.wallets.ledger.track_consumption). An
    inbound's remaining credits are its credits minus its consumptions. Append-only."""

    lago_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    inbound = models.ForeignKey(
        WalletTransaction, on_delete=models.PROTECT, related_name="consumptions"
    )
    outbound = models.ForeignKey(
        WalletTransaction, on_delete=models.PROTECT, related_name="fundings"
    )
    credit_amount = models.DecimalField(**CREDIT_DIGITS)  # credits taken from the inbound
    amount_cents = models.BigIntegerField()  # their share of the outbound's money, minor units
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["inbound", "outbound"], name="wallet_consumption_pair_uniq"
            ),
            models.CheckConstraint(
                condition=Q(credit_amount__gt=0), name="wallet_consumption_credits_positive"
            ),
            models.CheckConstraint(
                condition=Q(amount_cents__gte=0), name="wallet_consumption_cents_non_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.credit_amount} of {self.inbound_id} → {self.outbound_id}"


class RecurringTransactionRule(models.Model):
    """Automatic top-up of a wallet: every interval, or when its ongoing balance falls to a
    threshold; `fixed` adds the rule's credits, `target` tops up to target_ongoing_balance."""

    class Trigger(models.TextChoices):
        INTERVAL = "interval", "interval"
        THRESHOLD = "threshold", "threshold"

    class Interval(models.TextChoices):
        WEEKLY = "weekly", "weekly"
        MONTHLY = "monthly", "monthly"
        QUARTERLY = "quarterly", "quarterly"
        SEMIANNUAL = "semiannual", "semiannual"
        YEARLY = "yearly", "yearly"

    class Method(models.TextChoices):
        FIXED = "fixed", "fixed"
        TARGET = "target", "target"

    lago_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    wallet = models.ForeignKey(Wallet, on_delete=models.CASCADE, related_name="recurring_rules")
    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    interval = models.CharField(max_length=16, choices=Interval.choices, blank=True)
    threshold_credits = models.DecimalField(**CREDIT_DIGITS, null=True, blank=True)
    method = models.CharField(max_length=16, choices=Method.choices, default=Method.FIXED)
    paid_credits = models.DecimalField(**CREDIT_DIGITS, default=0)
    granted_credits = models.DecimalField(**CREDIT_DIGITS, default=0)
    target_ongoing_balance = models.DecimalField(**CREDIT_DIGITS, null=True, blank=True)
    grants_target_top_up = models.BooleanField(default=False)  # target top-ups granted, not paid
    ignore_paid_top_up_limits = models.BooleanField(default=False)
    transaction_name = models.CharField(max_length=255, blank=True)
    transaction_metadata = models.JSONField(default=list, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)  # null = when the rule was created
    expiration_at = models.DateTimeField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    runs = models.PositiveIntegerField(default=0)  # top-ups made; part of their idempotency keys
    # Threshold rules fire once per crossing: set when fired, cleared once above the threshold.
    threshold_reached_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AuditedQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.trigger} {self.interval or self.threshold_credits} ({self.method})"


# --- usage alerts (Lago's usage_monitoring) --------------------------------------------------


class UsageAlert(models.Model):
    """A threshold alert on a subscription's usage (by external id, so it outlives plan
    changes) or on a wallet's balance. Evaluated asynchronously (usage/alerts.py for
    subscriptions, customers/alerts/wallets.py for wallets); each threshold value triggers at
    most once per period (AlertCrossing)."""

    class AlertType(models.TextChoices):
        CURRENT_USAGE_AMOUNT = "current_usage_amount", "current usage amount"
        BM_CURRENT_USAGE_AMOUNT = (
            "billable_metric_current_usage_amount",
            "billable metric current usage amount",
        )
        BM_CURRENT_USAGE_UNITS = (
            "billable_metric_current_usage_units",
            "billable metric current usage units",
        )
        LIFETIME_USAGE_AMOUNT = "lifetime_usage_amount", "lifetime usage amount"
        WALLET_BALANCE_AMOUNT = "wallet_balance_amount", "wallet balance amount"
        WALLET_CREDITS_BALANCE = "wallet_credits_balance", "wallet credits balance"
        WALLET_ONGOING_BALANCE_AMOUNT = (
            "wallet_ongoing_balance_amount",
            "wallet ongoing balance amount",
        )
        WALLET_CREDITS_ONGOING_BALANCE = (
            "wallet_credits_ongoing_balance",
            "wallet credits ongoing balance",
        )

    class Direction(models.TextChoices):
        INCREASING = "increasing", "increasing"
        DECREASING = "decreasing", "decreasing"

    lago_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    alert_type = models.CharField(max_length=40, choices=AlertType.choices)
    code = models.CharField(max_length=255)
    name = models.CharField(max_length=255, blank=True)
    direction = models.CharField(max_length=16, choices=Direction.choices)
    # NULL for a wallet alert (the partial unique constraints and the check need NULL, not "")
    subscription_external_id = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    wallet = models.ForeignKey(
        Wallet, on_delete=models.PROTECT, null=True, blank=True, related_name="alerts"
    )
    billable_metric = models.ForeignKey(
        "plans.BillableMetric", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The value read at the last evaluation, and the period it belongs to (a new period starts
    # from zero for usage alerts).
    previous_value = models.DecimalField(max_digits=30, decimal_places=5, default=0)
    period_start = models.DateTimeField(null=True, blank=True)
    last_processed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)  # Lago discards: history stays

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription_external_id", "code"],
                condition=Q(deleted_at__isnull=True, subscription_external_id__isnull=False),
                name="usage_alert_code_per_subscription_uniq",
            ),
            models.UniqueConstraint(
                fields=["wallet", "code"],
                condition=Q(deleted_at__isnull=True, wallet__isnull=False),
                name="usage_alert_code_per_wallet_uniq",
            ),
            models.UniqueConstraint(
                fields=["subscription_external_id", "alert_type"],
                condition=Q(
                    deleted_at__isnull=True,
                    billable_metric__isnull=True,
                    subscription_external_id__isnull=False,
                ),
                name="usage_alert_type_per_subscription_uniq",
            ),
            models.UniqueConstraint(
                fields=["subscription_external_id", "alert_type", "billable_metric"],
                condition=Q(deleted_at__isnull=True, billable_metric__isnull=False),
                name="usage_alert_type_metric_per_subscription_uniq",
            ),
            models.UniqueConstraint(
                fields=["wallet", "alert_type"],
                condition=Q(deleted_at__isnull=True, wallet__isnull=False),
                name="usage_alert_type_per_wallet_uniq",
            ),
            models.CheckConstraint(
                condition=Q(subscription_external_id__isnull=True, wallet__isnull=False)
                | Q(subscription_external_id__isnull=False, wallet__isnull=True),
                name="usage_alert_one_target",
            ),
        ]
        indexes = [models.Index(fields=["subscription_external_id", "deleted_at"])]

    def __str__(self) -> str:
        return f"{self.code} ({self.alert_type})"


class UsageAlertThreshold(models.Model):
    """One threshold of an alert: a value (cents for amounts, units or credits otherwise); at
    most one recurring threshold, which repeats every `value` after the highest fixed one."""

    alert = models.ForeignKey(UsageAlert, on_delete=models.CASCADE, related_name="thresholds")
    code = models.CharField(max_length=255, blank=True)  # "" is Lago's null
    value = models.DecimalField(max_digits=30, decimal_places=5)
    recurring = models.BooleanField(default=False)

    class Meta:
        ordering = ["value", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["alert"], condition=Q(recurring=True), name="alert_one_recurring_uniq"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code or ''} {self.value}{' (recurring)' if self.recurring else ''}"


class TriggeredAlert(models.Model):
    """One evaluation that crossed thresholds: what the alert.triggered webhook carries."""

    lago_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    alert = models.ForeignKey(UsageAlert, on_delete=models.PROTECT, related_name="triggered")
    subscription = models.ForeignKey(
        Subscription, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    wallet = models.ForeignKey(
        Wallet, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    current_value = models.DecimalField(max_digits=30, decimal_places=5)
    previous_value = models.DecimalField(max_digits=30, decimal_places=5)
    crossed_thresholds = models.JSONField(default=list)  # [{code, value (text), recurring}]
    period_start = models.DateTimeField()
    triggered_at = models.DateTimeField()

    class Meta:
        ordering = ["-triggered_at", "-id"]
        indexes = [models.Index(fields=["triggered_at"])]

    def __str__(self) -> str:
        return f"{self.alert.code} at {self.triggered_at:%Y-%m-%d %H:%M}"


class AlertCrossing(models.Model):
    """A threshold value an alert crossed in a period: the unique constraint makes each one
    trigger once per (alert, value, period), whatever runs concurrently or twice."""

    alert = models.ForeignKey(UsageAlert, on_delete=models.PROTECT, related_name="crossings")
    triggered_alert = models.ForeignKey(
        TriggeredAlert, on_delete=models.PROTECT, related_name="crossings"
    )
    value = models.DecimalField(max_digits=30, decimal_places=5)
    period_start = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["alert", "value", "period_start"], name="alert_crossing_once_per_period"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.alert_id} crossed {self.value} (period {self.period_start:%Y-%m-%d})"


class AlertFlag(models.Model):
    """New usage or a new balance to look at: written set-based after ingestion (by external
    subscription id) or a wallet balance change, claimed and deleted by the evaluation task
    (usage.process_alerts). At most one row per subscription or wallet."""

    # NULL for a wallet's flag
    external_subscription_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    wallet = models.OneToOneField(
        Wallet, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    flagged_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(external_subscription_id__isnull=True, wallet__isnull=False)
                | Q(external_subscription_id__isnull=False, wallet__isnull=True),
                name="alert_flag_one_target",
            ),
        ]

    def __str__(self) -> str:
        return self.external_subscription_id or f"wallet {self.wallet_id}"


# --- entitlements: a subscription's overrides of its plan's features ----------------------------


class SubscriptionEntitlement(models.Model):
    """A feature given to one subscription on top of (or instead of) its plan's: its values
    override the plan's privilege by privilege (Lago's entitlement with a subscription_id)."""

    lago_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="entitlements"
    )
    feature = models.ForeignKey(
        "plans.Feature", on_delete=models.CASCADE, related_name="subscription_entitlements"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "feature"], name="subscription_entitlement_per_feature"
            )
        ]

    def __str__(self) -> str:
        return f"{self.subscription.external_id}: {self.feature.code}"


class SubscriptionEntitlementValue(models.Model):
    """The override of one privilege for one subscription, stored as text (Lago)."""

    entitlement = models.ForeignKey(
        SubscriptionEntitlement, on_delete=models.CASCADE, related_name="values"
    )
    privilege = models.ForeignKey(
        "plans.Privilege", on_delete=models.CASCADE, related_name="subscription_values"
    )
    value = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["entitlement", "privilege"],
                name="subscription_entitlement_value_per_privilege",
            )
        ]

    def __str__(self) -> str:
        return f"{self.privilege.code} = {self.value}"


class SubscriptionFeatureRemoval(models.Model):
    """A plan's feature (or one privilege of it) taken away from one subscription (Lago's
    SubscriptionFeatureRemoval): exactly one of feature and privilege is set."""

    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="entitlement_removals"
    )
    feature = models.ForeignKey(
        "plans.Feature", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    privilege = models.ForeignKey(
        "plans.Privilege", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "feature"],
                condition=Q(feature__isnull=False),
                name="feature_removal_per_subscription",
            ),
            models.UniqueConstraint(
                fields=["subscription", "privilege"],
                condition=Q(privilege__isnull=False),
                name="privilege_removal_per_subscription",
            ),
            models.CheckConstraint(
                condition=Q(feature__isnull=False, privilege__isnull=True)
                | Q(feature__isnull=True, privilege__isnull=False),
                name="removal_of_feature_or_privilege",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subscription.external_id}: without {self.feature or self.privilege}"
