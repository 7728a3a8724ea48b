"""The catalog: billable metrics, plans, charges (with filters), commitments, usage thresholds.

Prices in charge `properties` are decimal strings in major units (Lago's wire format) and are
priced by the pure engine in plans/pricing.py. Billed amounts (`*_cents`) are integers in the
currency's minor unit.
"""

import uuid

from django.db import models
from django.db.models import Q
from djmoney.models.fields import MoneyField

from core import display
from core.auditing import AuditedQuerySet, LiveQuerySet
from plans.aggregation_types import SPECS as AGGREGATION_SPECS
from plans.charge_models import SPECS

# The aggregation types' choices come from their registry (plans/aggregation_types.py), in its
# order: AggregationType.COUNT == "count_agg", ..., AggregationType.WEIGHTED_SUM labelled
# "weighted sum".
AggregationType = models.TextChoices(
    "AggregationType", [(spec.name, (spec.key, spec.label)) for spec in AGGREGATION_SPECS]
)


class RoundingFunction(models.TextChoices):
    ROUND = "round", "round (half up)"
    CEIL = "ceil", "ceil"
    FLOOR = "floor", "floor"


class Interval(models.TextChoices):
    WEEKLY = "weekly", "weekly"
    MONTHLY = "monthly", "monthly"
    QUARTERLY = "quarterly", "quarterly"
    SEMIANNUAL = "semiannual", "semiannual"
    YEARLY = "yearly", "yearly"


# The charge models' choices come from the one registry (plans/charge_models.py), in its order:
# ChargeModel.STANDARD == "standard", ..., ChargeModel.GRADUATED_PERCENTAGE labelled
# "graduated percentage".
ChargeModel = models.TextChoices(
    "ChargeModel", [(spec.key.upper(), (spec.key, spec.label)) for spec in SPECS]
)


class BillableMetric(models.Model):
    """What is measured from events and how it is aggregated over a billing period."""

    lago_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=255)
    code = models.CharField(max_length=255, help_text="Events reference the metric by this code.")
    description = models.TextField(blank=True)
    aggregation_type = models.CharField(max_length=32, choices=AggregationType.choices)
    field_name = models.CharField(
        max_length=255, blank=True, help_text="Event property aggregated (not for count)."
    )
    recurring = models.BooleanField(
        default=False, help_text="Units carry over from period to period (seats, storage)."
    )
    weighted_interval = models.CharField(max_length=16, blank=True)
    expression = models.TextField(
        blank=True,
        help_text=(
            "Lago expression computed per event at ingestion and stored in the event's "
            "properties under field_name, e.g. round(event.properties.seconds / 3600)."
        ),
    )
    rounding_function = models.CharField(max_length=8, choices=RoundingFunction.choices, blank=True)
    rounding_precision = models.IntegerField(null=True, blank=True)
    # Cost of one unit to us (COGS), for margin reports; full precision, major units.
    unit_cost = MoneyField(
        max_digits=30, decimal_places=12, default_currency="USD", null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = LiveQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["code"], condition=Q(deleted_at__isnull=True), name="metric_code_live_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class BillableMetricFilter(models.Model):
    """A dimension of a metric (e.g. model ∈ {gpt-4, gpt-4o}) that charges may price separately."""

    metric = models.ForeignKey(BillableMetric, on_delete=models.CASCADE, related_name="filters")
    key = models.CharField(max_length=255)
    values = models.JSONField(default=list)  # list[str], case-sensitive

    class Meta:
        ordering = ["key"]
        constraints = [
            models.UniqueConstraint(fields=["metric", "key"], name="metric_filter_key_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.key}: {', '.join(self.values)}"


class Plan(models.Model):
    """A price list: base fee per interval plus usage charges. Children (parent set) are
    per-subscription overrides, hidden from the catalog."""

    lago_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="overrides"
    )
    name = models.CharField(max_length=255)
    code = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    invoice_display_name = models.CharField(max_length=255, blank=True)
    interval = models.CharField(max_length=16, choices=Interval.choices)
    amount_cents = models.BigIntegerField(default=0)  # base fee, minor units
    amount_currency = models.CharField(max_length=3)  # ISO 4217
    pay_in_advance = models.BooleanField(default=False)  # base fee only
    trial_period = models.DecimalField(max_digits=10, decimal_places=4, default=0)  # days
    bill_charges_monthly = models.BooleanField(default=False)  # yearly/semiannual only
    tax_codes = models.JSONField(default=list, blank=True)  # list[str]
    metadata = models.JSONField(default=dict, blank=True)  # {str: str|None}
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    # Lago: DELETE marks the plan, a job terminates its subscriptions, then deleted_at is set
    pending_deletion = models.BooleanField(default=False)

    objects = LiveQuerySet.as_manager()

    class Meta:
        permissions = [("simulate_pricing", "Can run the pricing simulator")]
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["code"],
                condition=Q(deleted_at__isnull=True, parent__isnull=True),
                name="plan_code_live_uniq",
            )
        ]

    def __str__(self) -> str:
        suffix = " (override)" if self.parent_id else ""
        return f"{self.name} ({self.code}){suffix}"

    @property
    def catalog_plan(self) -> "Plan":
        """The plan customers see: the parent of an override, else itself."""
        return self.parent or self


class Commitment(models.Model):
    """Minimum commitment per billing interval; a shortfall is billed as a true-up fee."""

    lago_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    plan = models.OneToOneField(Plan, on_delete=models.CASCADE, related_name="minimum_commitment")
    amount_cents = models.BigIntegerField()  # minor units, plan currency
    invoice_display_name = models.CharField(max_length=255, blank=True)
    tax_codes = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AuditedQuerySet.as_manager()

    def __str__(self) -> str:
        return f"minimum {display.money(self.amount_cents, self.plan.amount_currency)}"


class UsageThreshold(models.Model):
    """Progressive billing: invoice when period usage crosses this amount (billed later)."""

    lago_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="usage_thresholds")
    threshold_display_name = models.CharField(max_length=255, blank=True)
    amount_cents = models.BigIntegerField()  # minor units
    recurring = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AuditedQuerySet.as_manager()

    class Meta:
        ordering = ["recurring", "amount_cents"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan"], condition=Q(recurring=True), name="one_recurring_threshold"
            )
        ]

    def __str__(self) -> str:
        return f"{self.amount_cents}{' (recurring)' if self.recurring else ''}"


class Charge(models.Model):
    """How one metric is priced in a plan: a charge model and its properties."""

    lago_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="charges")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="overrides"
    )
    billable_metric = models.ForeignKey(
        BillableMetric, on_delete=models.PROTECT, related_name="charges"
    )
    code = models.CharField(max_length=255)
    charge_model = models.CharField(max_length=32, choices=ChargeModel.choices)
    properties = models.JSONField(default=dict, blank=True)  # validated per model
    pay_in_advance = models.BooleanField(default=False)
    invoiceable = models.BooleanField(default=True)
    prorated = models.BooleanField(default=False)
    min_amount_cents = models.BigIntegerField(default=0)  # spending minimum, minor units
    invoice_display_name = models.CharField(max_length=255, blank=True)
    tax_codes = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = LiveQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "code"],
                condition=Q(deleted_at__isnull=True),
                name="charge_code_per_plan_uniq",
            )
        ]

    def __str__(self) -> str:
        return f"{self.billable_metric.code} · {self.charge_model}"


class ChargeFilter(models.Model):
    """Own price for events whose properties match `values` (most specific filter wins)."""

    lago_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    charge = models.ForeignKey(Charge, on_delete=models.CASCADE, related_name="filters")
    invoice_display_name = models.CharField(max_length=255, blank=True)
    properties = models.JSONField(default=dict, blank=True)  # same shape as the charge's
    values = models.JSONField(default=dict)  # {key: [value, ...]}; "__ALL_FILTER_VALUES__" = any
    created_at = models.DateTimeField(auto_now_add=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = LiveQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return ", ".join(f"{k}={'|'.join(v)}" for k, v in sorted(self.values.items()))


# --- add-ons and coupons ---------------------------------------------------------------------


class AddOn(models.Model):
    """A priced item sold outside plans (setup fee, GPU-hour pack), billed on one-off invoices."""

    lago_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=255)
    code = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    invoice_display_name = models.CharField(max_length=255, blank=True)
    amount_cents = models.BigIntegerField(default=0)  # minor units, default unit price
    amount_currency = models.CharField(max_length=3)  # ISO 4217
    tax_codes = models.JSONField(default=list, blank=True)  # list[str]
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = LiveQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = "add-on"
        constraints = [
            models.UniqueConstraint(
                fields=["code"], condition=Q(deleted_at__isnull=True), name="add_on_code_live_uniq"
            ),
            models.CheckConstraint(
                condition=Q(amount_cents__gte=0), name="add_on_amount_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class CouponType(models.TextChoices):
    FIXED_AMOUNT = "fixed_amount", "fixed amount"
    PERCENTAGE = "percentage", "percentage"


class CouponFrequency(models.TextChoices):
    ONCE = "once", "once"
    RECURRING = "recurring", "recurring (a number of invoices)"
    FOREVER = "forever", "forever"


class CouponExpiration(models.TextChoices):
    NO_EXPIRATION = "no_expiration", "no expiration"
    TIME_LIMIT = "time_limit", "time limit"


class Coupon(models.Model):
    """A discount customers can be given; limited to plans or to billable metrics, or general.
    Expiration stops new applications only; customers who have it keep it."""

    lago_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=255)
    code = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    coupon_type = models.CharField(max_length=16, choices=CouponType.choices)
    amount_cents = models.BigIntegerField(null=True, blank=True)  # fixed_amount, minor units
    amount_currency = models.CharField(max_length=3, blank=True)  # fixed_amount, ISO 4217
    percentage_rate = models.DecimalField(  # percentage, in percent (0 < rate <= 100)
        max_digits=9, decimal_places=6, null=True, blank=True
    )
    frequency = models.CharField(
        max_length=16, choices=CouponFrequency.choices, default=CouponFrequency.ONCE
    )
    frequency_duration = models.PositiveIntegerField(null=True, blank=True)  # recurring: invoices
    expiration = models.CharField(
        max_length=16, choices=CouponExpiration.choices, default=CouponExpiration.NO_EXPIRATION
    )
    expiration_at = models.DateTimeField(null=True, blank=True)
    reusable = models.BooleanField(
        default=True, help_text="May be applied to the same customer more than once."
    )
    plans = models.ManyToManyField(Plan, blank=True, related_name="coupons")
    billable_metrics = models.ManyToManyField(BillableMetric, blank=True, related_name="coupons")
    terminated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = LiveQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["code"], condition=Q(deleted_at__isnull=True), name="coupon_code_live_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class AppliedCoupon(models.Model):
    """A coupon given to one customer, with its own (overridable) terms and what is left of it.
    Each deduction is a CouponApplication; remaining amounts follow from them."""

    class Status(models.TextChoices):
        ACTIVE = "active", "active"
        TERMINATED = "terminated", "terminated"

    lago_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    coupon = models.ForeignKey(Coupon, on_delete=models.PROTECT, related_name="applied_coupons")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="applied_coupons"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    amount_cents = models.BigIntegerField(null=True, blank=True)  # fixed_amount
    amount_currency = models.CharField(max_length=3, blank=True)
    percentage_rate = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    frequency = models.CharField(max_length=16, choices=CouponFrequency.choices)
    frequency_duration = models.PositiveIntegerField(null=True, blank=True)
    amount_cents_remaining = models.BigIntegerField(null=True, blank=True)  # fixed, once
    frequency_duration_remaining = models.PositiveIntegerField(null=True, blank=True)  # recurring
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    terminated_at = models.DateTimeField(null=True, blank=True)

    objects = AuditedQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["customer", "status"], name="applied_coupon_customer")]

    def __str__(self) -> str:
        return f"{self.coupon.code} → {self.customer}"

    @property
    def is_fixed(self) -> bool:
        return self.coupon.coupon_type == CouponType.FIXED_AMOUNT


class CouponApplication(models.Model):
    """One deduction of an applied coupon on one invoice (at most one per invoice)."""

    applied_coupon = models.ForeignKey(
        AppliedCoupon, on_delete=models.PROTECT, related_name="applications"
    )
    invoice = models.ForeignKey(
        "invoices.Invoice", on_delete=models.PROTECT, related_name="coupon_applications"
    )
    amount_cents = models.BigIntegerField()  # minor units, invoice currency
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["applied_coupon", "invoice"], name="one_application_per_invoice"
            )
        ]

    def __str__(self) -> str:
        return f"{self.applied_coupon} on {self.invoice}: {self.amount_cents}"


class PlanPrice(models.Model):
    """The plan's base fee in another currency, so one plan serves USD and EUR customers."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="prices")
    currency = models.CharField(max_length=3)  # ISO 4217
    amount_cents = models.BigIntegerField()  # minor units of `currency`

    objects = AuditedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["plan", "currency"], name="plan_price_per_currency")
        ]

    def __str__(self) -> str:
        return f"{self.plan.code} {self.currency} {self.amount_cents}"


class ChargePrice(models.Model):
    """A charge's properties (prices) in another currency; same charge model."""

    charge = models.ForeignKey(Charge, on_delete=models.CASCADE, related_name="prices")
    currency = models.CharField(max_length=3)
    properties = models.JSONField(default=dict)

    objects = AuditedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["charge", "currency"], name="charge_price_per_currency")
        ]

    def __str__(self) -> str:
        return f"{self.charge} {self.currency}"


class FixedChargeModel(models.TextChoices):
    STANDARD = "standard", "standard"
    GRADUATED = "graduated", "graduated"
    VOLUME = "volume", "volume"


class FixedCharge(models.Model):
    """Lago 1.51's fixed charge: an add-on sold in a plan by `units` (seats, a support pack),
    priced by a charge model on those units and billed each base period, prorated or not;
    a subscription may have its own units (customers.SubscriptionFixedChargeUnits)."""

    lago_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="fixed_charges")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="overrides"
    )
    add_on = models.ForeignKey(AddOn, on_delete=models.PROTECT, related_name="fixed_charges")
    code = models.CharField(max_length=255)
    charge_model = models.CharField(max_length=16, choices=FixedChargeModel.choices)
    properties = models.JSONField(default=dict, blank=True)  # validated per model
    units = models.DecimalField(max_digits=30, decimal_places=10, default=0)
    pay_in_advance = models.BooleanField(default=False)
    prorated = models.BooleanField(default=False)
    invoice_display_name = models.CharField(max_length=255, blank=True)
    tax_codes = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = LiveQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "code"],
                condition=Q(deleted_at__isnull=True),
                name="fixed_charge_code_per_plan_uniq",
            ),
            models.CheckConstraint(
                condition=Q(units__gte=0), name="fixed_charge_units_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} · {self.charge_model} x {self.units}"


# --- entitlements: features, their privileges, and the plans that grant them ------------------


class PrivilegeValueType(models.TextChoices):
    INTEGER = "integer", "integer"
    STRING = "string", "string"
    BOOLEAN = "boolean", "boolean"
    SELECT = "select", "select"


class Feature(models.Model):
    """Something of the customer's product a plan can grant (Lago's entitlement feature):
    informational, the application enforces it. Deleting one removes it from every plan and
    subscription (cascades)."""

    lago_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    code = models.CharField(max_length=255, unique=True)
    name = models.CharField(max_length=255, blank=True, default="")
    description = models.CharField(max_length=600, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "id"]

    def __str__(self) -> str:
        return self.name or self.code


class Privilege(models.Model):
    """One setting of a feature (max seats, SSO provider...) with its value type; a `select`
    privilege lists its options in config["select_options"]."""

    lago_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    feature = models.ForeignKey(Feature, on_delete=models.CASCADE, related_name="privileges")
    code = models.CharField(max_length=255)
    name = models.CharField(max_length=255, blank=True, default="")
    value_type = models.CharField(
        max_length=16, choices=PrivilegeValueType.choices, default=PrivilegeValueType.STRING
    )
    config = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["feature", "code"], name="privilege_code_per_feature")
        ]

    def __str__(self) -> str:
        return f"{self.feature.code}.{self.code}"


class PlanEntitlement(models.Model):
    """A feature granted by a catalog plan (never an override child: Lago keeps entitlements on
    the parent plan)."""

    lago_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="entitlements")
    feature = models.ForeignKey(Feature, on_delete=models.CASCADE, related_name="plan_entitlements")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "feature"], name="plan_entitlement_per_feature")
        ]

    def __str__(self) -> str:
        return f"{self.plan.code}: {self.feature.code}"


class PlanEntitlementValue(models.Model):
    """The value a plan gives one privilege of an entitled feature, stored as text (Lago)."""

    entitlement = models.ForeignKey(
        PlanEntitlement, on_delete=models.CASCADE, related_name="values"
    )
    privilege = models.ForeignKey(Privilege, on_delete=models.CASCADE, related_name="plan_values")
    value = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["entitlement", "privilege"], name="plan_entitlement_value_per_privilege"
            )
        ]

    def __str__(self) -> str:
        return f"{self.privilege.code} = {self.value}"
