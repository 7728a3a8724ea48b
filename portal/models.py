"""Portal accounts: a Django user who may see one customer, and nothing else.

Portal users are ordinary `auth.User` rows (so passwords, password reset, django-axes lockouts
and django-otp devices work as for staff) with is_staff False, so the admin refuses them; the
portal refuses any user without a PortalAccount."""

from django.conf import settings
from django.db import models

from core.auditing import AuditedQuerySet


class PortalAccount(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="portal_account"
    )
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="portal_accounts"
    )
    invited_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AuditedQuerySet.as_manager()

    class Meta:
        ordering = ["customer", "user__email"]
        verbose_name = "portal user"

    def __str__(self) -> str:
        return f"{self.user.email} ({self.customer})"
