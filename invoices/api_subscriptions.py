"""GET/PUT /api/v1/subscriptions/{external_id}/lifetime_usage: mixed into the subscriptions'
viewset in billing_site/api_urls.py (lifetime usage is progressive billing's, invoices)."""

from rest_framework.decorators import action

from core.api.formats import iso
from customers.selectors import subscription_get
from invoices.schemas import LIFETIME_USAGE
from invoices.services.lifetime import (
    Lifetime,
    lifetime_usage_get,
    lifetime_usage_update,
    thresholds_progress,
)


def lifetime_usage_json(lifetime: Lifetime) -> dict:
    """Lago's LifetimeUsageObject; usage_thresholds only when the plan has thresholds."""
    subscription = lifetime.subscription
    data = {
        "lago_id": str(lifetime.lago_id),
        "lago_subscription_id": str(subscription.lago_id),
        "external_subscription_id": subscription.external_id,
        "external_historical_usage_amount_cents": lifetime.historical_cents,
        "invoiced_usage_amount_cents": lifetime.invoiced_cents,
        "current_usage_amount_cents": lifetime.current_cents,
        "from_datetime": iso(subscription.subscription_at),
        "to_datetime": iso(lifetime.at),
    }
    progress = thresholds_progress(lifetime)
    if progress:
        data["usage_thresholds"] = [
            {
                "amount_cents": step.amount_cents,
                "completion_ratio": float(step.completion_ratio),  # a ratio, not money
                "reached_at": iso(step.reached_at),
            }
            for step in progress
        ]
    return data


# The lifetime usage endpoint of SubscriptionViewSet (no docstring, as CustomerUsageActions).
class SubscriptionLifetimeUsageActions:
    @LIFETIME_USAGE
    @action(detail=True, methods=["get", "put"], url_path="lifetime_usage")
    def lifetime_usage(self, request, external_id=None):
        """The subscription's lifetime usage (PUT sets external_historical_usage_amount_cents);
        the active subscription unless ?status= names another."""
        status = request.query_params.get("status") or "active"
        subscription = subscription_get(external_id=external_id, status=status)
        if request.method == "PUT":
            data = self.root_payload(request, "lifetime_usage")
            lifetime_usage_update(subscription=subscription, data=data)
        lifetime = lifetime_usage_get(subscription)
        return self.render_one(lifetime_usage_json(lifetime), root="lifetime_usage")
