"""API keys (stored hashed) and the system heartbeat."""

import uuid

from django.db import models


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
