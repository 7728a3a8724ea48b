"""Webhook endpoints (where we POST) and deliveries (one signed message to one endpoint)."""

import uuid

from django.core.validators import URLValidator
from django.db import models

from core.auditing import AuditedQuerySet

HTTP_URL = URLValidator(schemes=["http", "https"])


class WebhookEndpoint(models.Model):
    """A URL that receives our webhooks, optionally only some event types (empty = all).

    Lago's two signature modes (webhooks/signing.py): "hmac" (the default here), HMAC-SHA256 of
    the raw body under a per-endpoint secret derived from the server's key, never stored; and
    "jwt" (Lago's default), an RS256 JWT carrying the body, signed with the instance's RSA key
    (LAGO_RSA_PRIVATE_KEY, webhooks/keys.py) whose public key the API publishes.
    """

    class SignatureAlgo(models.TextChoices):
        HMAC = "hmac", "HMAC-SHA256"
        JWT = "jwt", "JWT (RS256)"

    lago_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=255, blank=True)
    webhook_url = models.URLField(max_length=1024, validators=[HTTP_URL])
    signature_algo = models.CharField(
        max_length=8, choices=SignatureAlgo.choices, default=SignatureAlgo.HMAC
    )
    event_types = models.JSONField(default=list, blank=True)  # webhook types; empty = all
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AuditedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name or self.webhook_url

    def wants(self, webhook_type: str) -> bool:
        """Subscribed to `webhook_type` (an empty list subscribes to everything)."""
        return self.is_active and (not self.event_types or webhook_type in self.event_types)


class WebhookDelivery(models.Model):
    """One webhook for one endpoint: the exact payload, its attempts and outcome."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        RETRYING = "retrying"

    lago_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    webhook_type = models.CharField(max_length=100)  # "invoice.finalized"
    object_type = models.CharField(max_length=100)  # "invoice"
    payload = models.JSONField()  # the body sent, serialised canonically (services.body_bytes)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)  # HTTP attempts made
    last_response_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # Retrying: when the next attempt is due. Pending: lease of an attempt in flight.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.webhook_type} → {self.endpoint} ({self.status})"
