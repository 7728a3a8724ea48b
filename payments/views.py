"""Stripe's webhook endpoint, and the page where a customer adds a payment method."""

from django.conf import settings
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from payments.links import customer_from_token
from payments.providers import provider_named
from payments.webhooks import (
    InvalidWebhook,
    MalformedEvent,
    stripe_event_handle,
    stripe_event_verify,
)


@csrf_exempt
@require_POST
def stripe_webhook(request):
    """400 for anything not signed by Stripe (or stale, or from the future) and for a signed
    event of a shape we cannot apply; 200 otherwise, a replay or an unknown type included."""
    try:
        event = stripe_event_verify(
            payload=request.body, signature=request.headers.get("Stripe-Signature", "")
        )
        outcome = stripe_event_handle(event=event)
    except InvalidWebhook as exc:
        return JsonResponse({"error": "invalid_signature", "detail": str(exc)}, status=400)
    except MalformedEvent as exc:
        return JsonResponse({"error": "malformed_event", "detail": str(exc)}, status=400)
    return JsonResponse({"received": True, "outcome": outcome})


def _seller_name() -> str:
    from core.selectors import organization_get

    organization = organization_get()
    return organization.legal_name or organization.name


@require_GET
def payment_method_setup(request, token: str):
    """A SetupIntent for the customer and Stripe's card form; the card lands with the
    setup_intent.succeeded webhook. No card data passes through this app."""
    customer = customer_from_token(token)
    stripe = provider_named("stripe")
    if customer is None or not stripe.enabled():
        raise Http404
    from payments.services import customer_provider_sync

    customer_provider_sync(customer=customer)
    customer.refresh_from_db()
    sepa = customer.currency == "EUR"  # SEPA Direct Debit only collects euros
    methods = ["card", "sepa_debit"] if sepa else ["card"]
    client_secret = stripe.setup_secret(customer, methods)
    context = {
        "customer": customer,
        "sepa": sepa,
        "seller_name": _seller_name(),
        "client_secret": client_secret,
        "publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
        "stripe_js_url": settings.STRIPE_JS_URL,
    }
    response = render(request, "payments/setup.html", context)
    response["Cache-Control"] = "no-store"
    return response
