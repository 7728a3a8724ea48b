"""Signed links to the page where a customer adds a card or SEPA mandate (checkout_url)."""

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "payments.setup"
MAX_AGE = 24 * 3600


def setup_url(customer, request=None) -> str:
    token = signing.TimestampSigner(salt=SALT).sign(str(customer.lago_id))
    path = reverse("payment-method-setup", args=[token])
    if request is not None:
        return request.build_absolute_uri(path)
    return settings.PUBLIC_BASE_URL.rstrip("/") + path


def customer_from_token(token: str):
    from customers.models import Customer

    try:
        lago_id = signing.TimestampSigner(salt=SALT).unsign(token, max_age=MAX_AGE)
    except signing.BadSignature:
        return None
    return Customer.objects.live().filter(lago_id=lago_id).first()
