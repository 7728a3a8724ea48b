"""Payments of invoices through the provider, its webhook events, refunds, and differences
found by reconciliation. Only provider ids are stored — never card data."""

import uuid

from django.db import models

from core import display
from core.auditing import AuditedQuerySet


class Payment(models.Model):
    """Money received for an invoice. A `provider` payment is the collection of one invoice
    through its provider: one row per invoice (a constraint), several attempts (each its own
    PaymentIntent). A `manual` payment is one recorded by hand (Lago's POST /payments), any
    number per invoice, succeeded from the start. Status only moves forward: a succeeded
    payment never goes back."""

    class Kind(models.TextChoices):
        PROVIDER = "provider", "through the payment provider"
        MANUAL = "manual", "recorded by hand"

    class Status(models.TextChoices):
        PENDING = "pending", "pending"
        PROCESSING = "processing", "processing"
        REQUIRES_ACTION = "requires_action", "requires action (3-D Secure)"
        FAILED = "failed", "failed"
        SUCCEEDED = "succeeded", "succeeded"

    lago_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    invoice = models.ForeignKey(  # None for the payment of a payment request
        "invoices.Invoice",
        on_delete=models.PROTECT,
        related_name="payments",
        null=True,
        blank=True,
    )
    payment_request = models.ForeignKey(
        "payments.PaymentRequest",
        on_delete=models.PROTECT,
        related_name="payments",
        null=True,
        blank=True,
    )
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.PROVIDER)
    reference = models.CharField(max_length=40, blank=True)  # a manual payment's (Lago)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="payments"
    )
    provider = models.CharField(max_length=16, default="stripe")
    provider_payment_id = models.CharField(max_length=255, blank=True, db_index=True)  # pi_…
    provider_charge_id = models.CharField(max_length=255, blank=True)  # ch_…
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    amount_cents = models.BigIntegerField()  # minor units
    currency = models.CharField(max_length=3)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_retry_at = models.DateTimeField(null=True, blank=True, db_index=True)
    disputed_at = models.DateTimeField(null=True, blank=True)
    dispute_status = models.CharField(max_length=32, blank=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)
    # When Stripe reached the status we hold (its event's `created`, or our clock, to the
    # second, for a synchronous answer): an older event about the same intent is not applied.
    provider_status_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AuditedQuerySet.as_manager()

    class Meta:
        permissions = [("retry_payment", "Can retry payments")]
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["invoice"],
                condition=models.Q(kind="provider"),
                name="one_provider_payment_per_invoice",
            )
        ]

    def __str__(self) -> str:
        return f"{self.invoice} {self.status}"

    def attempt_key(self) -> str:
        """Idempotency key of the current attempt, derived from our row (never random)."""
        return f"payment-{self.lago_id}-{self.attempts}"


class StripeEvent(models.Model):
    """Each provider event id once: a replayed webhook finds its row and does nothing. An
    event older (Stripe's `created`) than one already recorded for the same object (payment
    intent, charge, refund, dispute) is recorded but not applied."""

    event_id = models.CharField(max_length=255, unique=True)
    event_type = models.CharField(max_length=128)
    object_id = models.CharField(max_length=255, blank=True, db_index=True)  # data.object.id
    provider_created_at = models.DateTimeField(null=True, blank=True)  # the event's `created`
    rank = models.PositiveSmallIntegerField(default=0)  # orders events of the same second
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"


class Refund(models.Model):
    """The refund part of a credit note, sent to the provider against the invoice's payment."""

    class Status(models.TextChoices):
        PENDING = "pending", "pending"
        SUCCEEDED = "succeeded", "succeeded"
        FAILED = "failed", "failed"

    lago_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    credit_note = models.OneToOneField(
        "invoices.CreditNote", on_delete=models.PROTECT, related_name="refund"
    )
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    provider_refund_id = models.CharField(max_length=255, blank=True, db_index=True)
    amount_cents = models.BigIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AuditedQuerySet.as_manager()

    def __str__(self) -> str:
        return f"refund {self.amount_cents} for {self.credit_note}"


class ReconciliationIssue(models.Model):
    """A difference between the provider's PaymentIntents and our payment rows."""

    class Kind(models.TextChoices):
        UNKNOWN_AT_US = "unknown_at_us", "payment at Stripe unknown here"
        STATUS_MISMATCH = "status_mismatch", "status differs"
        AMOUNT_MISMATCH = "amount_mismatch", "amount differs"

    kind = models.CharField(max_length=32, choices=Kind.choices)
    provider_payment_id = models.CharField(max_length=255)
    payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.CASCADE)
    details = models.TextField()
    found_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-found_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "provider_payment_id"],
                condition=models.Q(resolved_at__isnull=True),
                name="one_open_issue_per_payment_and_kind",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.provider_payment_id}"


class PaymentReceipt(models.Model):
    """Lago's payment receipt: issued once per succeeded payment when the organization's
    `issue_receipts_enabled` is on, numbered PREFIX-RCPT-NNNNNN in one gapless series."""

    lago_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    payment = models.OneToOneField(Payment, on_delete=models.PROTECT, related_name="receipt")
    sequential_id = models.PositiveIntegerField()
    number = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.number


class PaymentMethod(models.Model):
    """A customer's payment method at its provider (Lago's payment_methods): only the
    provider's id is kept, never card data. Recorded when the customer adds one through our
    setup page; at most one default per customer; deleted rows stay (deleted_at)."""

    lago_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="payment_methods"
    )
    provider = models.CharField(max_length=16)
    provider_method_id = models.CharField(max_length=255)  # pm_…
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "provider_method_id"],
                condition=models.Q(deleted_at__isnull=True),
                name="one_live_row_per_payment_method",
            ),
            models.UniqueConstraint(
                fields=["customer"],
                condition=models.Q(is_default=True, deleted_at__isnull=True),
                name="one_default_payment_method_per_customer",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.provider_method_id}"


class PaymentRequest(models.Model):
    """Lago's payment request (dunning): a customer's overdue invoices gathered into one
    amount, collected at once through the provider; its payment settles them all."""

    class PaymentStatus(models.TextChoices):
        PENDING = "pending", "pending"
        SUCCEEDED = "succeeded", "succeeded"
        FAILED = "failed", "failed"

    lago_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="payment_requests"
    )
    email = models.CharField(max_length=255, blank=True)
    amount_cents = models.BigIntegerField()  # the invoices' amounts due when requested
    currency = models.CharField(max_length=3)
    payment_status = models.CharField(
        max_length=16, choices=PaymentStatus.choices, default=PaymentStatus.PENDING
    )
    invoices = models.ManyToManyField("invoices.Invoice", related_name="payment_requests")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AuditedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"request {str(self.lago_id)[:8]} {display.money(self.amount_cents, self.currency)}"

    @property
    def number(self) -> str:
        """What a provider shows as the payable's number (an invoice has one; a request not)."""
        return ""
