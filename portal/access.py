"""Who is looking: the one customer a portal request may see.

Two ways in, one session key. A portal user logs in with e-mail and password (then a TOTP code
if they set one up); Lago's `portal_url` carries a signed token for one customer, valid 12 h,
that opens a session without a user. Either way `request.session[CUSTOMER_KEY]` holds the
customer's id, and every portal query is scoped to `request.portal_customer`."""

from functools import wraps

from django.conf import settings
from django.contrib.auth import logout
from django.core import signing
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation

from customers.models import Customer

CUSTOMER_KEY = "portal_customer_id"
SALT = "portal.url"


# --- Lago's portal_url --------------------------------------------------------------------


def portal_token(customer: Customer) -> str:
    return signing.TimestampSigner(salt=SALT).sign(str(customer.lago_id))


def portal_url(customer: Customer) -> str:
    path = reverse("portal:token", args=[portal_token(customer)])
    return settings.PUBLIC_BASE_URL.rstrip("/") + path


def customer_from_portal_token(token: str) -> Customer | None:
    try:
        lago_id = signing.TimestampSigner(salt=SALT).unsign(
            token, max_age=settings.PORTAL_LINK_MAX_AGE_SECONDS
        )
    except signing.BadSignature:
        return None
    return Customer.objects.live().filter(lago_id=lago_id).first()


# --- the session --------------------------------------------------------------------------


def portal_session_start(request, customer: Customer, *, expiry: int | None = None) -> None:
    """Scope this session to `customer` (a new session key: no fixation)."""
    request.session.cycle_key()
    request.session[CUSTOMER_KEY] = customer.pk
    request.session.set_expiry(expiry or settings.PORTAL_SESSION_SECONDS)


def portal_logout(request) -> None:
    logout(request)  # flushes the session, the customer key with it


def _session_customer(request) -> Customer | None:
    customer_id = request.session.get(CUSTOMER_KEY)
    if customer_id is None:
        return None
    user = request.user
    if user.is_authenticated:
        account = getattr(user, "portal_account", None)
        if account is None or account.customer_id != customer_id or not user.is_active:
            return None
        if _needs_otp(user) and not user.is_verified():
            return None
    return Customer.objects.live().filter(pk=customer_id).first()


def _needs_otp(user) -> bool:
    from django_otp import user_has_device

    return user_has_device(user, confirmed=True)


def portal_view(view):
    """A portal page: the customer's session or the login page; the customer's language;
    a strict Content-Security-Policy; no caching of one customer's data."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        customer = _session_customer(request)
        if customer is None:
            return redirect(f"{reverse('portal:login')}?next={request.get_full_path()}")
        request.portal_customer = customer
        with translation.override(portal_language(customer)):
            response = view(request, *args, **kwargs)
        response.headers.setdefault("Cache-Control", "private, no-store")
        return response

    return wrapper


def portal_language(customer: Customer | None) -> str:
    codes = {code for code, _ in settings.LANGUAGES}
    locale = (customer.document_locale if customer else "") or settings.LANGUAGE_CODE
    return locale if locale in codes else settings.LANGUAGE_CODE
