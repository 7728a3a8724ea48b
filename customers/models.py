"""Customers and their subscriptions.

Subscriptions live here rather than in plans/: a subscription is the customer's contract (its
dates, status and history of plan changes); the plan is only what it points to.
"""

import uuid

from django.db import models
from django.db.models import Q


class LiveQuerySet(models.QuerySet):
    def live(self):
        return self.filter(deleted_at__isnull=True)


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
    tax_codes = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = LiveQuerySet.as_manager()

    class Meta:
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
