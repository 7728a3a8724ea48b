"""API keys (stored hashed) and the system heartbeat."""

import uuid

from django.db import models

from core.auditing import AuditedQuerySet


class ApiKey(models.Model):
    """A Bearer key for /api/v1. Only a SHA-256 digest is stored; the raw key is shown once."""

    lago_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200)
    prefix = models.CharField(max_length=16, help_text="First characters, for recognising a key.")
    digest = models.CharField(max_length=64, unique=True, editable=False)  # sha256 hex of the key
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=150, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)  # set once, never cleared

    objects = AuditedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class Heartbeat(models.Model):
    """Last time a named periodic task ran: proof that beat and a worker are alive."""

    name = models.CharField(max_length=50, unique=True)
    last_seen_at = models.DateTimeField()
    runs = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name} @ {self.last_seen_at:%Y-%m-%d %H:%M:%S}"


ORGANIZATION_NAMESPACE = uuid.UUID("6f1d0c39-3e55-4d8a-9a55-1b6f7c7e2d41")


class Organization(models.Model):
    """The seller: one row holding organization-wide defaults (time zone, payment terms, ...)."""

    lago_id = models.UUIDField(default=uuid.uuid4, editable=False)  # Lago's organization id
    name = models.CharField(max_length=255, default="Demo AI Inc.")
    timezone = models.CharField(max_length=64, default="UTC")  # IANA, default for customers
    default_currency = models.CharField(max_length=3, default="USD")
    net_payment_term = models.PositiveIntegerField(default=0)  # days
    invoice_grace_period = models.PositiveIntegerField(default=0)  # days invoices stay draft
    finalize_zero_amount_invoice = models.BooleanField(default=True)
    # Lago's issue_receipts_enabled: a numbered receipt for each succeeded payment.
    issue_receipts_enabled = models.BooleanField(default=False)
    document_locale = models.CharField(max_length=8, default="en")
    invoice_prefix = models.CharField(max_length=10, default="INV")
    email = models.CharField(max_length=255, blank=True)  # shown on invoices, reply-to
    legal_name = models.CharField(max_length=255, blank=True)
    address_line1 = models.CharField(max_length=255, blank=True)
    address_line2 = models.CharField(max_length=255, blank=True)
    city = models.CharField(max_length=255, blank=True)
    zipcode = models.CharField(max_length=64, blank=True)
    state = models.CharField(max_length=255, blank=True)
    country = models.CharField(max_length=2, blank=True)
    tax_identification_number = models.CharField(max_length=255, blank=True)
    legal_number = models.CharField(max_length=255, blank=True)  # stored and shown by the API
    invoice_footer = models.TextField(blank=True)  # stored and shown by the API
    # US states where the seller is registered to collect sales tax (["CA", "NY"]).
    us_tax_states = models.JSONField(default=list, blank=True)
    vies_check_enabled = models.BooleanField(default=False)  # online VAT check; never blocks
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AuditedQuerySet.as_manager()

    class Meta:
        permissions = [
            ("view_dashboard", "Can view the finance dashboard"),
            ("run_bulk_actions", "Can run bulk actions"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def document_number_prefix(self) -> str:
        """Lago's prefix of customer slugs (`<prefix>-001`): the invoice prefix here."""
        return self.invoice_prefix


class FxRate(models.Model):
    """1 `base` = `rate` `quote` on `date` (e.g. the ECB's daily reference rates, base EUR)."""

    base = models.CharField(max_length=3)
    quote = models.CharField(max_length=3)
    rate = models.DecimalField(max_digits=24, decimal_places=10)
    date = models.DateField()
    source = models.CharField(max_length=32, default="manual")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "base", "quote"]
        verbose_name = "FX rate"
        constraints = [
            models.UniqueConstraint(fields=["base", "quote", "date"], name="fx_rate_per_day")
        ]
        indexes = [models.Index(fields=["base", "quote", "date"])]

    def __str__(self) -> str:
        return f"1 {self.base} = {self.rate} {self.quote} ({self.date})"


class AuditEntry(models.Model):
    """Who changed what, when, from where, and why: written by core.auditing for every change
    to billing data (admin, API, portal, tasks, webhooks). Append-only: no admin edits, and on
    PostgreSQL a trigger refuses UPDATE and DELETE."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.CharField(max_length=255)  # "staff:alice", "api-key:lago_ab12 (ci)"
    source = models.CharField(max_length=16, default="system", db_index=True)
    action = models.CharField(max_length=64)  # created, updated, deleted, or a named action
    object_type = models.CharField(max_length=64)  # "invoices.invoice"
    object_id = models.CharField(max_length=64)  # the object's primary key
    object_repr = models.CharField(max_length=255, blank=True)
    changes = models.JSONField(default=dict, blank=True)  # {field: [before, after]}
    reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]
        permissions = [("export_auditentry", "Can export the audit trail")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.action} {self.object_repr}"


class BulkJob(models.Model):
    """A long action run by a Celery task (bill now, finalize drafts, retry payments, delete a
    plan): the page shows its progress while it runs. Each item is done by the same idempotent
    service as one at a time, so a job run twice changes nothing more."""

    class Kind(models.TextChoices):
        BILL_NOW = "bill_now", "bill subscriptions now"
        FINALIZE = "finalize", "finalize drafts"
        RETRY_PAYMENTS = "retry_payments", "retry payments"
        DELETE_PLAN = "delete_plan", "delete a plan"

    class Status(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        DONE = "done", "done"

    kind = models.CharField(max_length=32, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    object_ids = models.JSONField(default=list)
    target_id = models.BigIntegerField(null=True, blank=True)  # what the job is about (a plan)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)  # [{"id": …, "error": "…"}]
    created_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = AuditedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def percent(self) -> int:
        return 100 if not self.total else (self.done + self.failed) * 100 // self.total


class ApiLog(models.Model):
    """One write request to /api/v1 (POST, PUT, PATCH, DELETE; Lago's API logs), recorded
    after its response by `core.api_log.ApiLogMiddleware`: bodies truncated and redacted, the
    key by its prefix only, never the Authorization header. Deleted after
    API_LOG_RETENTION_DAYS by the beat task `core.purge_api_logs`."""

    request_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    api_key_prefix = models.CharField(max_length=16, blank=True)
    client = models.CharField(max_length=255, blank=True)  # the User-Agent
    http_method = models.CharField(max_length=8)  # post, put, patch, delete
    http_status = models.PositiveSmallIntegerField()
    request_origin = models.CharField(max_length=255)  # scheme://host
    request_path = models.CharField(max_length=1000)
    request_body = models.TextField(blank=True)
    request_response = models.TextField(blank=True)
    api_version = models.CharField(max_length=8, default="v1")
    logged_at = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-logged_at", "-id"]
        verbose_name = "API log"

    def __str__(self) -> str:
        return f"{self.http_method.upper()} {self.request_path} {self.http_status}"
