"""The admin site: staff log in with a password and, when they set one up, a TOTP code
(django-otp); the finance dashboard comes first; staff manage their own second factor.
Pages of higher apps are mounted through `register_view` (backoffice fills it in)."""

from collections.abc import Callable
from functools import partial

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django_otp import user_has_device
from django_otp.forms import OTPAuthenticationFormMixin

VIEWS: dict[str, tuple[str, Callable, str]] = {}


def register_view(route: str, view: Callable, name: str) -> None:
    """Mount `view(site, request, **kwargs)` at /admin/<route> as "admin:<name>", behind the
    staff login. The pages that read every domain (dashboard, search, simulator) live in a
    higher app, which registers them from its AppConfig.ready(), so the site never imports it.
    Registered once per name (ready() may run twice in tests), in registration order."""
    VIEWS[name] = (route, view, name)


class StaffLoginForm(OTPAuthenticationFormMixin, AdminAuthenticationForm):
    """Password first; then, for staff with a confirmed TOTP device, its current code."""

    otp_device = forms.CharField(required=False, widget=forms.HiddenInput)
    otp_token = forms.CharField(
        required=False,
        label="Two-factor code (if you set one up)",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
    otp_challenge = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean(self):
        cleaned = super().clean()
        user = self.get_user()
        if user is not None and user_has_device(user, confirmed=True):
            self.clean_otp(user)
        return cleaned


# The index and the sidebar lead with billing, in the order finance staff work, each app's main
# models first; the login machinery (Django's users, Axes, django-otp) comes last, readably named.
# Apps not listed here come after the listed billing ones, before the login machinery.
APP_ORDER = [
    "customers",
    "invoices",
    "usage",
    "plans",
    "payments",
    "taxes",
    "webhooks",
    "portal",
    "core",
    "django_celery_beat",
]
LAST_APPS = ["auth", "axes", "otp_totp"]
APP_NAMES = {
    "auth": "Staff logins and roles",
    "axes": "Login attempts and lockouts (Axes)",
    "otp_totp": "Two-factor devices (TOTP)",
}
MODEL_ORDER = {
    "customers": ["Customer", "Subscription", "Wallet", "WalletTransaction"],
    "invoices": ["Invoice", "CreditNote", "Fee", "BillingFailure"],
    "plans": ["Plan", "BillableMetric", "Charge", "AddOn", "Coupon", "AppliedCoupon"],
    "payments": ["Payment", "Refund", "ReconciliationIssue", "StripeEvent"],
}


def _app_rank(app: dict) -> tuple[int, int, str]:
    label = app["app_label"]
    if label in APP_ORDER:
        return (0, APP_ORDER.index(label), "")
    if label in LAST_APPS:
        return (2, LAST_APPS.index(label), "")
    return (1, 0, app["name"])


def _model_rank(order: list[str], model: dict) -> tuple[int, str]:
    name = model["object_name"]
    return (order.index(name) if name in order else len(order), str(model["name"]))


class BillingAdminSite(admin.AdminSite):
    site_header = site_title = "Billing back-office"
    index_title = "Billing administration"
    login_form = StaffLoginForm

    def get_app_list(self, request, app_label=None):
        """Billing first (APP_ORDER, MODEL_ORDER), the login machinery last (APP_NAMES)."""
        apps = super().get_app_list(request, app_label)
        for app in apps:
            app["name"] = APP_NAMES.get(app["app_label"], app["name"])
            order = MODEL_ORDER.get(app["app_label"], [])
            app["models"].sort(key=lambda model: _model_rank(order, model))
        return sorted(apps, key=_app_rank)

    def has_permission(self, request) -> bool:
        """Staff with a second factor must have used it in this session."""
        if not super().has_permission(request):
            return False
        user = request.user
        return not user_has_device(user, confirmed=True) or user.is_verified()

    def get_urls(self):
        return [
            path("account/two-factor/", self.admin_view(self.two_factor_view), name="two_factor"),
            *(
                path(route, self.admin_view(partial(view, self)), name=name)
                for route, view, name in VIEWS.values()
            ),
            *super().get_urls(),
        ]

    def two_factor_view(self, request):
        """Turn TOTP on for one's own staff login (scan, confirm with a code) or off."""
        from core import two_factor

        user = request.user
        if request.method == "POST" and "off" in request.POST:
            if two_factor.matching_device(user, request.POST.get("code", "")):
                two_factor.remove(user)
                messages.success(request, "Two-factor authentication is off.")
            else:
                messages.error(request, "That code is not valid.")
            return redirect("admin:two_factor")
        enabled = two_factor.has_device(user)
        device = None if enabled else two_factor.unconfirmed_device(user)
        if request.method == "POST" and device is not None:
            if two_factor.confirm(request, device, request.POST.get("code", "")):
                messages.success(request, "Two-factor authentication is on.")
                return redirect("admin:index")
            messages.error(request, "That code is not valid.")
        context = {
            **self.each_context(request),
            "title": "Two-factor authentication",
            "enabled": enabled,
            "qr_svg": two_factor.qr_svg(device) if device else "",
            "secret": two_factor.secret(device) if device else "",
        }
        return TemplateResponse(request, "admin/two_factor.html", context)
