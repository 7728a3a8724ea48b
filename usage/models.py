"""Usage events and their deduplication keys.

Events are append-only. On PostgreSQL the events table is partitioned by month on `timestamp`
(see migrations/0002); a unique index on a partitioned table must include the partition key, and a
retried event may carry another timestamp, so exactly-once is enforced by a separate, unpartitioned
`EventKey` table: one row per (external_subscription_id, transaction_id), inserted in the same
transaction as the event.
"""

from django.db import models


class Event(models.Model):
    """One usage event as received. `value` is the metric's field, extracted at ingest."""

    class Error(models.TextChoices):
        NONE = "", "ok"
        UNKNOWN_METRIC = "unknown_metric", "unknown metric code"
        UNKNOWN_SUBSCRIPTION = "unknown_subscription", "unknown subscription"

    id = models.BigAutoField(primary_key=True)
    transaction_id = models.CharField(max_length=255)
    external_subscription_id = models.CharField(max_length=255)
    code = models.CharField(max_length=255)  # billable metric code
    timestamp = models.DateTimeField()  # when the usage happened (partition key)
    properties = models.JSONField(default=dict)
    # The metric's numeric field at ingest (sum/max/latest/weighted); NULL when not numeric-typed.
    value = models.DecimalField(max_digits=38, decimal_places=12, null=True)
    # Dynamic pricing: the price the sender computed, in minor units with decimals.
    precise_total_amount_cents = models.DecimalField(max_digits=38, decimal_places=12, null=True)
    error_code = models.CharField(max_length=32, choices=Error.choices, blank=True, default="")
    already_billed = models.BooleanField(default=False)  # historical import: never invoiced
    created_at = models.DateTimeField()  # time of receipt

    class Meta:
        indexes = [
            models.Index(
                fields=["external_subscription_id", "code", "timestamp"], name="event_sub_code_ts"
            ),
            models.Index(fields=["created_at"], name="event_created_at"),
        ]
        # The admin should not mutate usage: events are append-only.
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{self.code} {self.transaction_id}"


class EventKey(models.Model):
    """Exactly-once guard: one row per (external subscription, transaction id), forever.
    It also locates the event (code + timestamp hit the events index) for GET /events/{id}."""

    external_subscription_id = models.CharField(max_length=255)
    transaction_id = models.CharField(max_length=255, db_index=True)
    code = models.CharField(max_length=255)
    timestamp = models.DateTimeField()  # the stored event's timestamp
    fingerprint = models.CharField(max_length=64)  # sha256 of the content as sent
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["external_subscription_id", "transaction_id"], name="event_key_uniq"
            )
        ]
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{self.external_subscription_id}/{self.transaction_id}"


class UsageRollup(models.Model):
    """Hourly pre-aggregate of accepted events, kept in the same transaction as the events.

    `dims` holds the values of the properties that filters and pricing groups of the metric's
    charges look at (known at ingest; absent ones are left out) and `dim_keys` which properties
    were looked at (",model,region,"). current_usage reads these rows
    for whole hours and the raw events only for the partial hours at a window's edges, so a
    subscription with millions of events in a period is priced from a few thousand rows. A row
    lacking a key that a charge needs (the charge changed later) makes that charge fall back to
    the raw events, so a rollup is an optimisation, never a source of different numbers.
    """

    external_subscription_id = models.CharField(max_length=255)
    code = models.CharField(max_length=255)
    hour = models.DateTimeField()  # start of the UTC hour
    dims = models.JSONField(default=dict)
    dim_keys = models.CharField(max_length=1024, default=",")  # ",key1,key2," sorted
    events_count = models.BigIntegerField(default=0)
    value_sum = models.DecimalField(max_digits=38, decimal_places=12, null=True)
    value_max = models.DecimalField(max_digits=38, decimal_places=12, null=True)
    precise_sum = models.DecimalField(max_digits=38, decimal_places=12, null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["external_subscription_id", "code", "hour", "dim_keys", "dims"],
                name="rollup_uniq",
            )
        ]
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{self.external_subscription_id}/{self.code}@{self.hour:%Y-%m-%d %H}"
