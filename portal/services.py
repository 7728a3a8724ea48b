"""Portal writes: inviting portal users, the customer's own billing details (audited), a
credits top-up request, paying an invoice now."""

from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from core.auditing import because
from core.errors import RuleViolation, ValidationFailed
from core.validation import Errors, check_emails
from customers.models import Customer, Wallet
from portal.access import portal_language
from portal.models import PortalAccount

User = get_user_model()

BILLING_FIELDS = (
    "email",
    "legal_name",
    "tax_identification_number",
    "address_line1",
    "address_line2",
    "city",
    "zipcode",
    "state",
    "country",
)


# --- portal users --------------------------------------------------------------------------------


def set_password_url(user) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    path = reverse("portal:set-password", args=[uid, token])
    return settings.PUBLIC_BASE_URL.rstrip("/") + path


@transaction.atomic
def portal_account_invite(*, customer: Customer, email: str) -> PortalAccount:
    """A portal login for one customer: a user without a usable password, and an e-mail with a
    link to choose one (valid PORTAL_INVITE_MAX_AGE_SECONDS). Inviting again re-sends."""
    email = (email or "").strip().lower()
    error = check_emails(email) if email else "value_is_mandatory"
    if error:
        raise ValidationFailed({"email": [error]})
    user = User.objects.filter(username=email).first()
    if user is None:
        try:
            with transaction.atomic():
                user = User.objects.create_user(username=email, email=email)
        except IntegrityError as exc:
            raise ValidationFailed({"email": ["value_already_exist"]}) from exc
    staff = User.objects.filter(email__iexact=email, is_staff=True).exists()
    if staff or user.is_staff or user.is_superuser:
        raise RuleViolation("staff_user", "A staff login cannot be a portal login.")
    account = PortalAccount.objects.filter(user=user).first()
    if account is not None and account.customer_id != customer.pk:
        raise ValidationFailed({"email": ["value_already_exist"]})
    if account is None:
        account = PortalAccount.objects.create(user=user, customer=customer)
    account.invited_at = timezone.now()
    account.save(update_fields=["invited_at"])
    link = set_password_url(user)
    transaction.on_commit(lambda: _send_invitation(customer, email, link))
    return account


def _send_invitation(customer: Customer, email: str, link: str) -> None:
    with translation.override(portal_language(customer)):
        context = {"customer": customer, "link": link}
        subject = render_to_string("portal/email/invite_subject.txt", context).strip()
        body = render_to_string("portal/email/invite.txt", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [email])


# --- billing details -----------------------------------------------------------------------------


def _vat_error(number: str, country: str) -> str | None:
    """EU VAT numbers are checked (format and check digits); other tax ids are kept as given."""
    from taxes.vat import is_eu, vat_number_valid

    if not number or not is_eu(country):
        return None
    return None if vat_number_valid(number, country) else "invalid_vat_number"


@transaction.atomic
def billing_details_update(*, customer: Customer, data: dict) -> Customer:
    """The customer edits its own billing details: the API's rules apply (e-mail, country),
    an EU VAT number must be valid; the audit trail records the change (core.auditing)."""
    from customers.services import customer_upsert

    clean = {key: (data.get(key) or "").strip() for key in BILLING_FIELDS}
    clean["country"] = clean["country"].upper()
    clean["tax_identification_number"] = clean["tax_identification_number"].replace(" ", "")
    errors = Errors()
    errors.add(
        "tax_identification_number",
        _vat_error(clean["tax_identification_number"], clean["country"]),
    )
    if errors:
        raise ValidationFailed(errors)
    with because("billing details edited in the portal"):
        updated, _ = customer_upsert(data={"external_id": customer.external_id, **clean})
    return updated


# --- credits and payments --------------------------------------------------------------------


def wallet_top_up_request(*, wallet: Wallet, credits: str):
    """Paid credits asked from the portal: the same top-up as the API (limits included); the
    credits land when its invoice is paid."""
    from customers.wallets import wallet_transactions_create

    if not settings.PORTAL_WALLET_TOP_UP:
        raise RuleViolation("top_up_disabled", "Top-ups from the portal are turned off.")
    if wallet.status != Wallet.Status.ACTIVE:
        raise RuleViolation("wallet_not_active", "This wallet is terminated.")
    try:
        if Decimal(credits) <= 0:
            raise ValidationFailed({"paid_credits": ["value_is_out_of_range"]})
    except (ArithmeticError, ValueError, TypeError) as exc:
        raise ValidationFailed({"paid_credits": ["value_is_invalid"]}) from exc
    with because("top-up requested in the portal"):
        return wallet_transactions_create(
            data={"wallet_id": str(wallet.lago_id), "paid_credits": credits}
        )


def invoice_pay_now(*, invoice):
    """Charge the customer's card now; None when there is none yet (the page then offers the
    payment-method page)."""
    from payments.services import collects, default_payment_method, payment_retry_now

    customer = invoice.customer
    if not collects(customer):
        raise RuleViolation("no_payment_provider", "This invoice is paid by transfer.")
    if not customer.provider_customer_id or default_payment_method(customer) is None:
        return None
    return payment_retry_now(invoice=invoice)
