"""django.contrib.admin, with our admin site (imported lazily: it needs the app registry)."""

from django.contrib.admin.apps import AdminConfig


class BillingAdminConfig(AdminConfig):
    default_site = "core.admin_site.BillingAdminSite"
