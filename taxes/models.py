"""Tax objects (Lago's `taxes`) and the automatic tax rules table."""

import uuid

from django.db import models

from core.auditing import AuditedQuerySet


class Tax(models.Model):
    """A named rate that customers, plans, charges and add-ons reference by code."""

    lago_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    code = models.CharField(max_length=255, unique=True)
    name = models.CharField(max_length=255)
    rate = models.DecimalField(max_digits=8, decimal_places=4)  # percent: 20 = 20 %
    description = models.TextField(blank=True)
    applied_to_organization = models.BooleanField(default=False)  # the default for everyone
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AuditedQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "taxes"

    def __str__(self) -> str:
        return f"{self.name} ({self.rate} %)"


class TaxRule(models.Model):
    """A rate for a country (and US state) from a date on: the rate in force on an invoice's
    issuing date applies. Loaded from taxes/data/tax_rules.csv, editable in the admin."""

    class Kind(models.TextChoices):
        VAT = "vat", "VAT (standard rate)"
        SALES_TAX = "sales_tax", "US sales tax (state)"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    country = models.CharField(max_length=2)  # ISO 3166-1 alpha-2
    region = models.CharField(max_length=8, blank=True)  # US state code
    rate = models.DecimalField(max_digits=8, decimal_places=4)  # percent
    name = models.CharField(max_length=255)
    effective_from = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AuditedQuerySet.as_manager()

    class Meta:
        ordering = ["country", "region", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "country", "region", "effective_from"], name="tax_rule_uniq"
            )
        ]
        indexes = [models.Index(fields=["country", "region", "effective_from"])]

    def __str__(self) -> str:
        where = f"{self.country}-{self.region}" if self.region else self.country
        return f"{where} {self.rate} % from {self.effective_from}"
