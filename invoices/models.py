"""Invoices, the subscriptions and periods they bill, their fees, and the number series.

Amounts are integers in the currency's minor unit; precise amounts keep full precision. A
finalized invoice never changes (void it and issue a credit note instead).
"""

import uuid

from django.db import models
from django.db.models import Q

from core.auditing import AuditedQuerySet


class Invoice(models.Model):
    class InvoiceType(models.TextChoices):
        SUBSCRIPTION = "subscription", "subscription"
        ONE_OFF = "one_off", "one-off"
        CREDIT = "credit", "credit (wallet top-up)"
        PROGRESSIVE_BILLING = "progressive_billing", "progressive billing"

    class Status(models.TextChoices):
        DRAFT = "draft", "draft"
        FINALIZED = "finalized", "finalized"
        VOIDED = "voided", "voided"
        CLOSED = "closed", "closed (zero amount, skipped)"  # internal: never shown in the API
        DELETED = "deleted", "deleted (a draft deleted through the API)"  # internal too

    class PaymentStatus(models.TextChoices):
        PENDING = "pending", "pending"
        SUCCEEDED = "succeeded", "succeeded"
        FAILED = "failed", "failed"

    # Invoices whose fees bill nothing: later billing does as if they had never been made.
    NOT_BILLED = ("voided", "deleted")

    lago_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="invoices"
    )
    invoice_type = models.CharField(
        max_length=32, choices=InvoiceType.choices, default=InvoiceType.SUBSCRIPTION
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    payment_status = models.CharField(
        max_length=16, choices=PaymentStatus.choices, default=PaymentStatus.PENDING
    )
    payment_overdue = models.BooleanField(default=False)
    payment_dispute_lost_at = models.DateTimeField(null=True, blank=True)
    # When payment_status last changed (the fees' succeeded_at / failed_at in Lago's API).
    payment_status_changed_at = models.DateTimeField(null=True, blank=True)
    currency = models.CharField(max_length=3)
    # Gapless number, set at finalization only (PREFIX-YYYYMM-NNNN); never changes afterwards.
    number = models.CharField(max_length=64, null=True, blank=True, unique=True)
    sequential_id = models.PositiveIntegerField(null=True, blank=True)
    issuing_date = models.DateField()
    payment_due_date = models.DateField()
    net_payment_term = models.PositiveIntegerField(default=0)  # days
    finalize_after = models.DateTimeField(null=True, blank=True)  # end of the grace period
    finalized_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    # Totals, minor units. total = sub_total_including_taxes - credit notes - prepaid credits.
    fees_amount_cents = models.BigIntegerField(default=0)
    coupons_amount_cents = models.BigIntegerField(default=0)
    progressive_billing_credit_amount_cents = models.BigIntegerField(default=0)
    sub_total_excluding_taxes_amount_cents = models.BigIntegerField(default=0)
    taxes_amount_cents = models.BigIntegerField(default=0)
    sub_total_including_taxes_amount_cents = models.BigIntegerField(default=0)
    credit_notes_amount_cents = models.BigIntegerField(default=0)
    prepaid_credit_amount_cents = models.BigIntegerField(default=0)
    total_amount_cents = models.BigIntegerField(default=0)
    # Received by manual payments (Lago's total_paid_amount_cents): lowers the amount due.
    total_paid_amount_cents = models.BigIntegerField(default=0)
    version_number = models.PositiveIntegerField(default=4)
    metadata = models.JSONField(default=list, blank=True)  # [{"id", "key", "value"}]
    # How taxes were decided: customer tax id and whether it validated, reverse charge, notes.
    tax_details = models.JSONField(default=dict, blank=True)
    # Set when the plan had no price in the invoice currency: {"from", "to", "rate", "date"}.
    fx_details = models.JSONField(default=dict, blank=True)
    file = models.FileField(upload_to="invoices/%Y/%m/", blank=True)  # the PDF, once rendered
    email_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AuditedQuerySet.as_manager()

    class Meta:
        permissions = [("void_invoice", "Can void invoices")]
        ordering = ["-issuing_date", "-id"]
        indexes = [
            models.Index(fields=["status", "finalize_after"], name="invoice_drafts_due"),
            models.Index(fields=["customer", "issuing_date"], name="invoice_customer_date"),
            models.Index(fields=["payment_status", "payment_due_date"], name="invoice_unpaid_due"),
        ]

    def __str__(self) -> str:
        return self.number or f"draft {str(self.lago_id)[:8]}"

    @property
    def is_editable(self) -> bool:
        return self.status == self.Status.DRAFT


class InvoiceSubscription(models.Model):
    """One billing of one subscription at one boundary. The unique constraint on (subscription,
    boundary) is what makes period close happen once, whatever fires twice or crashes."""

    class Reason(models.TextChoices):
        STARTING = "subscription_starting", "subscription starting"
        PERIODIC = "subscription_periodic", "end of period"
        TERMINATING = "subscription_terminating", "termination"
        PROGRESSIVE = "progressive_billing", "progressive billing"
        IN_ADVANCE = "in_advance_charge", "pay-in-advance charges"

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="billings")
    subscription = models.ForeignKey(
        "customers.Subscription", on_delete=models.PROTECT, related_name="billings"
    )
    boundary = models.DateTimeField()  # the moment billed: start, period end or termination
    invoicing_reason = models.CharField(max_length=32, choices=Reason.choices)
    from_datetime = models.DateTimeField()  # base-fee period billed
    to_datetime = models.DateTimeField()
    charges_from_datetime = models.DateTimeField()
    charges_to_datetime = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "boundary"],
                condition=Q(
                    invoicing_reason__in=[
                        "subscription_starting",
                        "subscription_periodic",
                        "subscription_terminating",
                    ]
                ),
                name="one_invoice_per_subscription_boundary",
            )
        ]
        indexes = [models.Index(fields=["subscription", "charges_from_datetime"])]

    def __str__(self) -> str:
        return f"{self.subscription_id} @ {self.boundary:%Y-%m-%d %H:%M}"


class Fee(models.Model):
    """One line of an invoice."""

    class FeeType(models.TextChoices):
        SUBSCRIPTION = "subscription", "base fee"
        CHARGE = "charge", "usage charge"
        COMMITMENT = "commitment", "minimum commitment true-up"
        ADD_ON = "add_on", "add-on"
        CREDIT = "credit", "credit"
        FIXED_CHARGE = "fixed_charge", "fixed charge"

    lago_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="fees")
    subscription = models.ForeignKey(
        "customers.Subscription", null=True, blank=True, on_delete=models.PROTECT
    )
    charge = models.ForeignKey("plans.Charge", null=True, blank=True, on_delete=models.PROTECT)
    charge_filter = models.ForeignKey(
        "plans.ChargeFilter", null=True, blank=True, on_delete=models.PROTECT
    )
    true_up_parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="true_ups"
    )
    fixed_charge = models.ForeignKey(
        "plans.FixedCharge", null=True, blank=True, on_delete=models.PROTECT
    )
    fee_type = models.CharField(max_length=16, choices=FeeType.choices)
    description = models.CharField(max_length=255, blank=True)
    invoice_display_name = models.CharField(max_length=255, blank=True)
    grouped_by = models.JSONField(default=dict, blank=True)
    units = models.DecimalField(max_digits=38, decimal_places=12, default=0)
    total_aggregated_units = models.DecimalField(max_digits=38, decimal_places=12, default=0)
    events_count = models.BigIntegerField(default=0)
    precise_unit_amount = models.DecimalField(max_digits=38, decimal_places=15, default=0)
    precise_amount = models.DecimalField(max_digits=38, decimal_places=15, default=0)  # major
    amount_cents = models.BigIntegerField(default=0)  # minor units, rounded once (core.money)
    amount_currency = models.CharField(max_length=3)
    # This fee's share of the invoice's coupons (minor units); taxes apply to the rest.
    coupons_amount_cents = models.BigIntegerField(default=0)
    precise_coupons_amount_cents = models.DecimalField(max_digits=38, decimal_places=15, default=0)
    taxes_amount_cents = models.BigIntegerField(default=0)
    amount_details = models.JSONField(default=dict, blank=True)
    from_datetime = models.DateTimeField(null=True, blank=True)
    to_datetime = models.DateTimeField(null=True, blank=True)
    pay_in_advance = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.invoice_display_name or self.description or self.fee_type


class NumberSequence(models.Model):
    """The last invoice number used per prefix and month; locked while a number is taken."""

    prefix = models.CharField(max_length=20)
    period = models.CharField(max_length=6)  # YYYYMM
    last_value = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["prefix", "period"], name="number_sequence_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.prefix}-{self.period}: {self.last_value}"


class CreditNote(models.Model):
    """Money given back on a finalized invoice: as credit for the next invoices, as a refund, or
    as an offset of what is still owed on it. Items are amounts of fees before coupons (Lago);
    the fees' coupon shares and taxes follow in proportion (invoices.services.credit_notes)."""

    class Reason(models.TextChoices):
        DUPLICATED_CHARGE = "duplicated_charge", "duplicated charge"
        PRODUCT_UNSATISFACTORY = "product_unsatisfactory", "product unsatisfactory"
        ORDER_CHANGE = "order_change", "order change"
        ORDER_CANCELLATION = "order_cancellation", "order cancellation"
        FRAUDULENT_CHARGE = "fraudulent_charge", "fraudulent charge"
        OTHER = "other", "other"

    class CreditStatus(models.TextChoices):
        AVAILABLE = "available", "available"
        CONSUMED = "consumed", "consumed"
        VOIDED = "voided", "voided"

    class RefundStatus(models.TextChoices):
        PENDING = "pending", "pending"
        SUCCEEDED = "succeeded", "succeeded"
        FAILED = "failed", "failed"

    lago_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="credit_notes")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="credit_notes"
    )
    sequential_id = models.PositiveIntegerField()  # per invoice: INV-…-CN<sequential_id>
    number = models.CharField(max_length=80, unique=True)
    reason = models.CharField(max_length=32, choices=Reason.choices)
    description = models.TextField(blank=True)
    currency = models.CharField(max_length=3)
    credit_status = models.CharField(max_length=16, choices=CreditStatus.choices, blank=True)
    refund_status = models.CharField(max_length=16, choices=RefundStatus.choices, blank=True)
    # Minor units. sub_total_excluding_taxes = round(Σ items - precise coupons adjustment);
    # total = sub_total_excluding_taxes + taxes = credit + refund + offset.
    sub_total_excluding_taxes_amount_cents = models.BigIntegerField(default=0)
    taxes_amount_cents = models.BigIntegerField(default=0)
    total_amount_cents = models.BigIntegerField(default=0)
    credit_amount_cents = models.BigIntegerField(default=0)
    refund_amount_cents = models.BigIntegerField(default=0)
    offset_amount_cents = models.BigIntegerField(default=0)
    coupons_adjustment_amount_cents = models.BigIntegerField(default=0)
    # Unrounded minor units kept to 5 decimals (Lago's decimal(30, 5)); the last credit note of
    # an invoice corrects its taxes by the earlier notes' rounding (taxes - precise taxes).
    precise_coupons_adjustment_amount_cents = models.DecimalField(
        max_digits=30, decimal_places=5, default=0
    )
    precise_taxes_amount_cents = models.DecimalField(max_digits=30, decimal_places=5, default=0)
    taxes_rate = models.DecimalField(max_digits=12, decimal_places=5, default=0)  # percent
    automatic = models.BooleanField(default=False)  # issued by the system (e.g. termination)
    # Issued under the billing operator's limit: counts toward it, per invoice, cumulatively.
    issued_by_operator = models.BooleanField(default=False)
    metadata = models.JSONField(default=dict, blank=True)
    file = models.FileField(upload_to="credit_notes/%Y/%m/", blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AuditedQuerySet.as_manager()

    class Meta:
        permissions = [
            ("issue_large_credit_note", "Can issue credit notes above the operator limit")
        ]
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["invoice", "sequential_id"], name="credit_note_sequence_per_invoice"
            )
        ]

    def __str__(self) -> str:
        return self.number


class CreditNoteItem(models.Model):
    lago_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    credit_note = models.ForeignKey(CreditNote, on_delete=models.CASCADE, related_name="items")
    fee = models.ForeignKey(Fee, on_delete=models.PROTECT, related_name="credit_note_items")
    # Of the fee before coupons and taxes, minor units: the rounded and the given amount.
    amount_cents = models.BigIntegerField()
    precise_amount_cents = models.DecimalField(max_digits=30, decimal_places=5, default=0)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.fee} -{self.amount_cents}"


class CreditNoteAppliedTax(models.Model):
    """One tax of a credit note: the credited items net of their coupon share, taxed at the
    rate the invoice used (Lago's credit_notes_taxes)."""

    lago_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    credit_note = models.ForeignKey(
        CreditNote, on_delete=models.CASCADE, related_name="applied_taxes"
    )
    tax_code = models.CharField(max_length=255)
    tax_name = models.CharField(max_length=255)
    tax_rate = models.DecimalField(max_digits=8, decimal_places=4)  # percent
    tax_description = models.TextField(blank=True)
    base_amount_cents = models.BigIntegerField()
    amount_cents = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["tax_code"]
        constraints = [
            models.UniqueConstraint(fields=["credit_note", "tax_code"], name="credit_note_tax_once")
        ]

    def __str__(self) -> str:
        return f"{self.credit_note_id} {self.tax_code} {self.amount_cents}"


class CreditNoteApplication(models.Model):
    """Credit of a credit note consumed by a later invoice (append-only; the note's remaining
    balance is its credit amount minus these)."""

    credit_note = models.ForeignKey(
        CreditNote, on_delete=models.PROTECT, related_name="applications"
    )
    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, related_name="credit_note_applications"
    )
    amount_cents = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["credit_note", "invoice"], name="credit_note_applied_once_per_invoice"
            )
        ]

    def __str__(self) -> str:
        return f"{self.credit_note} → {self.invoice}: {self.amount_cents}"


class AppliedUsageThreshold(models.Model):
    """A usage threshold crossed in one period, billed once by a progressive-billing invoice."""

    subscription = models.ForeignKey(
        "customers.Subscription", on_delete=models.PROTECT, related_name="applied_thresholds"
    )
    usage_threshold = models.ForeignKey("plans.UsageThreshold", on_delete=models.PROTECT)
    # Where its usage is counted from: the subscription's start (lifetime usage, Lago), so a
    # threshold is billed once in the subscription's life (rows made before: their period).
    period_from = models.DateTimeField()
    occurrence = models.PositiveIntegerField(default=1)  # nth crossing of a recurring threshold
    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, related_name="applied_usage_thresholds"
    )
    usage_amount_cents = models.BigIntegerField()  # the period's usage when it was crossed
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "usage_threshold", "period_from", "occurrence"],
                name="threshold_billed_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.subscription_id} threshold {self.usage_threshold_id} #{self.occurrence}"


class LifetimeUsage(models.Model):
    """What a subscription's lifetime usage starts from (Lago's LifetimeUsage
    `historical_usage_amount_cents`: usage billed elsewhere before, set through the API). The
    rest of the lifetime usage is computed, never stored (invoices.services.progressive). A
    row exists only once the amount was set; its lago_id is derived from the subscription's,
    so the API shows the same id before and after."""

    lago_id = models.UUIDField(unique=True, editable=False)
    subscription = models.OneToOneField(
        "customers.Subscription", on_delete=models.CASCADE, related_name="lifetime_usage"
    )
    historical_usage_amount_cents = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(historical_usage_amount_cents__gte=0),
                name="lifetime_usage_historical_non_negative",
            )
        ]

    def __str__(self) -> str:
        return f"{self.subscription_id} historical {self.historical_usage_amount_cents}"


class AppliedTax(models.Model):
    """One tax rate on an invoice: the taxable base and the tax, each the exact sum of the
    per-fee amounts (rounded per fee), for the breakdown on the invoice."""

    lago_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="applied_taxes")
    tax_code = models.CharField(max_length=255)
    tax_name = models.CharField(max_length=255)
    tax_rate = models.DecimalField(max_digits=8, decimal_places=4)  # percent
    fees_amount_cents = models.BigIntegerField()  # taxable base, minor units
    amount_cents = models.BigIntegerField()  # tax, minor units
    mention = models.TextField(blank=True)  # e.g. the reverse-charge legal mention
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["tax_code"]

    def __str__(self) -> str:
        return f"{self.tax_name} {self.tax_rate} %"


class FeeAppliedTax(models.Model):
    """A tax on one fee: base = the fee net of its coupon share; amount rounded once here."""

    lago_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    fee = models.ForeignKey(Fee, on_delete=models.CASCADE, related_name="applied_taxes")
    tax_code = models.CharField(max_length=255)
    tax_name = models.CharField(max_length=255)
    tax_rate = models.DecimalField(max_digits=8, decimal_places=4)
    base_amount_cents = models.BigIntegerField()
    amount_cents = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.fee_id} {self.tax_code} {self.amount_cents}"


class BillingFailure(models.Model):
    """A (subscription, boundary) the period close could not invoice, and why.

    The close bills each subscription on its own: one that fails (a stored event whose sum
    cannot be invoiced, see core/limits.py) is recorded here and left due, so the next run
    tries again, and every other subscription is billed as usual. Resolved once it bills."""

    subscription = models.ForeignKey(
        "customers.Subscription", on_delete=models.CASCADE, related_name="billing_failures"
    )
    boundary = models.DateTimeField()
    invoicing_reason = models.CharField(max_length=32)
    code = models.CharField(max_length=64)  # value_is_out_of_range, invoice_generation_error
    message = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=1)
    first_failed_at = models.DateTimeField()
    last_failed_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "boundary"], name="one_failure_per_subscription_boundary"
            )
        ]
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{self.subscription_id} @ {self.boundary:%Y-%m-%d %H:%M}: {self.code}"
