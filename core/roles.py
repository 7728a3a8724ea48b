"""Staff roles as Django groups: what each may see and do in the admin.

- Finance viewer: reads everything, exports, changes nothing.
- Billing operator: customers, subscriptions, wallets and drafts; credit notes up to
  CREDIT_NOTE_OPERATOR_LIMIT_CENTS per invoice (all their notes together, checked by the
  credit-note service); retries payments; bulk actions.
- Billing admin: all of the above, the catalog, voids, credit notes of any size, API keys,
  webhook endpoints, taxes and tax rules, FX rates, the organization.

The groups are created by a migration (core.0009_roles) and kept in step with new models'
permissions after every `migrate` (post_migrate); `manage.py sync_roles` does the same."""

VIEWER, OPERATOR, ADMIN = "Finance viewer", "Billing operator", "Billing admin"

BILLING_APPS = (
    "core",
    "customers",
    "plans",
    "usage",
    "invoices",
    "payments",
    "taxes",
    "webhooks",
    "portal",
    "django_celery_beat",
)

# Custom permissions, on the models they concern (declared in each model's Meta).
DASHBOARD = "core.view_dashboard"
EXPORT_AUDIT = "core.export_auditentry"
BULK_ACTIONS = "core.run_bulk_actions"
CUSTOMER_DATA = "customers.manage_personal_data"  # GDPR export and erasure
VOID = "invoices.void_invoice"
LARGE_CREDIT_NOTE = "invoices.issue_large_credit_note"
RETRY_PAYMENT = "payments.retry_payment"
SIMULATE = "plans.simulate_pricing"

VIEWER_EXTRA = {DASHBOARD, EXPORT_AUDIT, SIMULATE}
OPERATOR_EXTRA = VIEWER_EXTRA | {BULK_ACTIONS, RETRY_PAYMENT}
OPERATOR_MODELS = {
    # app.model: actions beyond view
    "customers.customer": ("add", "change"),
    "customers.customermetadata": ("add", "change", "delete"),
    "customers.subscription": ("add", "change"),
    "customers.wallet": ("add", "change"),
    "customers.wallettransaction": ("add",),
    "customers.recurringtransactionrule": ("add", "change", "delete"),
    "plans.appliedcoupon": ("add", "change"),
    "invoices.invoice": ("add", "change"),
    "invoices.creditnote": ("add", "change"),
    "payments.payment": ("change",),
    "portal.portalaccount": ("add", "change"),
}
ADMIN_EXCLUDED = set()  # an admin holds every permission of the billing apps


def _codes(permission) -> str:
    return f"{permission.content_type.app_label}.{permission.codename}"


def role_permissions(all_permissions) -> dict[str, set]:
    """{role: set of Permission} out of the billing apps' permissions."""
    billing = [p for p in all_permissions if p.content_type.app_label in BILLING_APPS]
    views = {p for p in billing if p.codename.startswith("view_")}
    by_code = {_codes(p): p for p in billing}
    viewer = views | {by_code[c] for c in VIEWER_EXTRA if c in by_code}
    operator = views | {by_code[c] for c in OPERATOR_EXTRA if c in by_code}
    for label, actions in OPERATOR_MODELS.items():
        app_label, model = label.split(".")
        for action in actions:
            code = f"{app_label}.{action}_{model}"
            if code in by_code:
                operator.add(by_code[code])
    admin = {p for p in billing if _codes(p) not in ADMIN_EXCLUDED}
    return {VIEWER: viewer, OPERATOR: operator, ADMIN: admin}


def sync_roles(apps=None) -> dict[str, int]:
    """Create the three groups (once) and set their permissions; returns counts."""
    if apps is None:
        from django.apps import apps
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    permissions = list(permission_model.objects.select_related("content_type"))
    counts = {}
    for name, wanted in role_permissions(permissions).items():
        group, _ = group_model.objects.get_or_create(name=name)
        group.permissions.set(wanted)
        counts[name] = len(wanted)
    return counts
