"""Portal pages. Each page view is wrapped by `portal_view`: it only runs for a session scoped
to one customer, and reads through `portal.selectors`, which start every query from that
customer (another customer's id answers 404)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, update_session_auth_hash
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.views import (
    PasswordResetCompleteView,
    PasswordResetConfirmView,
    PasswordResetDoneView,
    PasswordResetView,
)
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from core import two_factor
from core.addresses import party_address_lines
from core.errors import BillingError, RuleViolation, ValidationFailed
from invoices.views import pdf_response
from portal import selectors, services
from portal.access import (
    customer_from_portal_token,
    portal_language,
    portal_logout,
    portal_session_start,
    portal_view,
)
from portal.forms import (
    BillingDetailsForm,
    LoginForm,
    OtpForm,
    PortalPasswordResetForm,
    TopUpForm,
    add_reasons,
)

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"  # the password was checked before
PENDING_USER = "portal_pending_user"
OTP_FAILURES = "portal_otp_failures"
OTP_FAILURE_LIMIT = 5


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    allowed = url_has_allowed_host_and_scheme(target, {request.get_host()})
    return target if allowed and target.startswith("/portal/") else reverse("portal:overview")


# --- getting in and out ---------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def login_view(request):
    """E-mail and password (django-axes locks a login after repeated failures), then a TOTP
    code for users who set one up."""
    form = LoginForm(request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.get_user()
        if two_factor.has_device(user):
            request.session[PENDING_USER] = user.pk
            request.session[OTP_FAILURES] = 0
            return redirect(f"{reverse('portal:login-code')}?next={_next_url(request)}")
        login(request, user)
        portal_session_start(request, user.portal_account.customer)
        return redirect(_next_url(request))
    return render(request, "portal/login.html", {"form": form, "next": _next_url(request)})


@require_http_methods(["GET", "POST"])
def login_code_view(request):
    user = two_factor.pending_user(request.session.get(PENDING_USER))
    if user is None:
        return redirect("portal:login")
    form = OtpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = two_factor.matching_device(user, form.cleaned_data["code"])
        if device is not None:
            login(request, user, backend=MODEL_BACKEND)
            two_factor.otp_login(request, device)
            portal_session_start(request, user.portal_account.customer)
            return redirect(_next_url(request))
        failures = request.session.get(OTP_FAILURES, 0) + 1
        request.session[OTP_FAILURES] = failures
        if failures >= OTP_FAILURE_LIMIT:
            portal_logout(request)
            return redirect("portal:login")
        form.add_error("code", _("This code is not valid."))
    return render(request, "portal/login_code.html", {"form": form, "next": _next_url(request)})


def token_view(request, token: str):
    """Lago's portal_url: a signed link for one customer, valid 12 hours."""
    customer = customer_from_portal_token(token)
    if customer is None:
        with translation.override(settings.LANGUAGE_CODE):
            return render(request, "portal/link_expired.html", status=403)
    portal_logout(request)
    portal_session_start(request, customer, expiry=settings.PORTAL_LINK_MAX_AGE_SECONDS)
    return redirect("portal:overview")


@require_POST
def logout_view(request):
    portal_logout(request)
    return redirect("portal:login")


class PortalPasswordResetView(PasswordResetView):
    form_class = PortalPasswordResetForm
    template_name = "portal/password_reset.html"
    email_template_name = "portal/email/password_reset.txt"
    subject_template_name = "portal/email/password_reset_subject.txt"
    success_url = reverse_lazy("portal:password-reset-sent")


class PortalPasswordResetSentView(PasswordResetDoneView):
    template_name = "portal/password_reset_sent.html"


class PortalSetPasswordView(PasswordResetConfirmView):
    """The link of an invitation or a reset: choose a password, then log in."""

    template_name = "portal/set_password.html"
    success_url = reverse_lazy("portal:set-password-done")


class PortalSetPasswordDoneView(PasswordResetCompleteView):
    template_name = "portal/set_password_done.html"


# --- pages ------------------------------------------------------------------------------------


@portal_view
def overview(request):
    customer = request.portal_customer
    now = timezone.now()
    context = {
        "subscriptions": selectors.current_period_usage(customer, now),
        "wallets": selectors.portal_wallets(customer, now),
        "amount_due": selectors.amount_due_cents(customer),
    }
    return _page(request, "portal/overview.html", "overview", context)


@portal_view
def usage(request):
    customer = request.portal_customer
    now = timezone.now()
    subscriptions = list(selectors.portal_subscriptions(customer))
    external_id = request.GET.get("subscription") or (
        subscriptions[0].external_id if subscriptions else None
    )
    if external_id is None:
        return _page(request, "portal/usage.html", "usage", {"subscriptions": []})
    subscription = selectors.portal_subscription(customer, external_id)
    bounds = selectors.usage_periods(subscription, now)
    index = _int(request.GET.get("period"), 0)
    if not bounds or not 0 <= index < len(bounds):
        raise Http404
    lower, upper = bounds[index]
    context = {
        "subscriptions": subscriptions,
        "subscription": subscription,
        "periods": [(i, selectors.local_period(subscription, b)) for i, b in enumerate(bounds)],
        "period_index": index,
        "report": selectors.period_usage(subscription, lower, upper, now),
    }
    return _page(request, "portal/usage.html", "usage", context)


@portal_view
def invoices(request):
    rows = selectors.portal_invoices(request.portal_customer)
    return _page(request, "portal/invoices.html", "invoices", {"invoices": rows[:200]})


@portal_view
def invoice_detail(request, lago_id):
    invoice = selectors.portal_invoice(request.portal_customer, lago_id)
    context = {
        "invoice": invoice,
        "fees": invoice.fees.order_by("id"),
        "can_pay": _can_pay(invoice),
    }
    return _page(request, "portal/invoice.html", "invoices", context)


@portal_view
def invoice_pdf(request, lago_id):
    invoice = selectors.portal_invoice(request.portal_customer, lago_id)
    return pdf_response(invoice, attachment=True)


@require_POST
@portal_view
def invoice_pay(request, lago_id):
    """Pay now: charge the card on file, or go add one first."""
    invoice = selectors.portal_invoice(request.portal_customer, lago_id)
    back = reverse("portal:invoice", args=[invoice.lago_id])
    try:
        payment = services.invoice_pay_now(invoice=invoice)
    except BillingError as exc:
        messages.error(request, _("This invoice cannot be paid here (%s).") % exc)
        return redirect(back)
    if payment is None:
        from payments.links import setup_url

        return redirect(setup_url(invoice.customer, request))
    if payment.status == "succeeded":
        messages.success(request, _("Thank you: the invoice is paid."))
    else:
        messages.error(request, _("The payment did not go through: %s") % payment.last_error)
    return redirect(back)


@portal_view
def credits(request):
    customer = request.portal_customer
    wallets = selectors.portal_wallets(customer, timezone.now())
    context = {
        "wallets": [(w, selectors.wallet_transactions(w.wallet)) for w in wallets],
        "top_up": settings.PORTAL_WALLET_TOP_UP,
        "form": TopUpForm(),
    }
    return _page(request, "portal/credits.html", "credits", context)


@require_POST
@portal_view
def credits_top_up(request, lago_id):
    wallet = selectors.portal_wallet(request.portal_customer, lago_id)
    form = TopUpForm(request.POST)
    if form.is_valid():
        try:
            services.wallet_top_up_request(wallet=wallet, credits=str(form.cleaned_data["credits"]))
        except ValidationFailed as exc:
            reasons = [code for codes in exc.errors.values() for code in codes]
            messages.error(request, _("Top-up refused: %s") % ", ".join(reasons))
        except RuleViolation as exc:
            messages.error(request, _("Top-up refused: %s") % exc.code)
        else:
            messages.success(request, _("Top-up requested: the credits land once it is paid."))
    else:
        messages.error(request, _("Enter a positive number of credits."))
    return redirect("portal:credits")


@require_http_methods(["GET", "POST"])
@portal_view
def billing_details(request):
    customer = request.portal_customer
    if request.method == "GET":
        form = BillingDetailsForm.for_customer(customer)
        return _page(request, "portal/billing_details.html", "billing", _billing(customer, form))
    form = BillingDetailsForm(request.POST)
    if form.is_valid():
        try:
            services.billing_details_update(customer=customer, data=form.cleaned_data)
        except ValidationFailed as exc:
            add_reasons(form, exc.errors)
        else:
            messages.success(request, _("Your billing details are saved."))
            return redirect("portal:billing-details")
    context = _billing(customer, form)
    return _page(request, "portal/billing_details.html", "billing", context, status=422)


def _billing(customer, form) -> dict:
    """The form, and the saved address as invoices print it (the customer's country's way)."""
    return {"form": form, "address": party_address_lines(customer, portal_language(customer))}


@require_http_methods(["GET", "POST"])
@portal_view
def account(request):
    """Password and two-factor authentication (portal users; a portal link has neither)."""
    user = _portal_user(request)
    form = PasswordChangeForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        update_session_auth_hash(request, user)
        messages.success(request, _("Your password is changed."))
        return redirect("portal:account")
    context = {"form": form, "two_factor_on": two_factor.has_device(user)}
    return _page(request, "portal/account.html", "account", context)


@require_http_methods(["GET", "POST"])
@portal_view
def two_factor_setup(request):
    user = _portal_user(request)
    if two_factor.has_device(user):
        return redirect("portal:account")
    device = two_factor.unconfirmed_device(user)
    form = OtpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if two_factor.confirm(request, device, form.cleaned_data["code"]):
            messages.success(request, _("Two-factor authentication is on."))
            return redirect("portal:account")
        form.add_error("code", _("This code is not valid."))
    context = {
        "form": form,
        "qr_svg": two_factor.qr_svg(device),
        "secret": two_factor.secret(device),
    }
    return _page(request, "portal/two_factor.html", "account", context)


@require_POST
@portal_view
def two_factor_disable(request):
    user = _portal_user(request)
    form = OtpForm(request.POST)
    if form.is_valid() and two_factor.matching_device(user, form.cleaned_data["code"]):
        two_factor.remove(user)
        messages.success(request, _("Two-factor authentication is off."))
    else:
        messages.error(request, _("This code is not valid."))
    return redirect("portal:account")


# --- helpers ------------------------------------------------------------------------------------


def _portal_user(request):
    """The logged-in portal user; a session opened by a portal link has none (404)."""
    if not request.user.is_authenticated:
        raise Http404
    return request.user


def _can_pay(invoice) -> bool:
    from payments.services import collects

    unpaid = invoice.payment_status != invoice.PaymentStatus.SUCCEEDED
    due = invoice.status == invoice.Status.FINALIZED and invoice.total_amount_cents > 0
    return unpaid and due and collects(invoice.customer)


def _int(value, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _page(request, template: str, section: str, context: dict, status: int = 200):
    customer = request.portal_customer
    context = {
        **context,
        "customer": customer,
        "section": section,
        "portal_user": request.user if request.user.is_authenticated else None,
        "language": portal_language(customer),
    }
    return render(request, template, context, status=status)
