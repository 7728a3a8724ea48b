"""The alert endpoints: /subscriptions/{external_id}/alerts[/{code}] (mixed into the
subscriptions' viewset) and /customers/{external_customer_id}/wallets/{wallet_code}/alerts
[/{code}] (mixed into the customers' viewset)."""

import uuid

from rest_framework.decorators import action
from rest_framework.exceptions import ParseError
from rest_framework.response import Response

from core.api.pagination import LagoPagination
from core.errors import NotFound
from core.selectors import organization_get
from customers.alerts.serializers import alert_json
from customers.alerts.services import (
    alert_create,
    alert_delete,
    alert_get,
    alert_update,
    alerts_create_batch,
    alerts_delete_all,
    alerts_of,
)
from customers.models import Wallet
from customers.selectors import customer_get, subscription_get


def wallet_by_code(*, external_customer_id: str, wallet_code: str) -> Wallet:
    """The customer's wallet with this code, the active one first (Lago orders by status);
    a wallet's lago_id is accepted too."""
    customer = customer_get(external_id=external_customer_id)
    rows = Wallet.objects.filter(customer=customer).select_related("customer")
    wallet = rows.filter(code=wallet_code).order_by("status", "-created_at").first()
    if wallet is None:
        wallet = rows.filter(lago_id=_uuid_or_none(wallet_code)).first()
    if wallet is None:
        raise NotFound("wallet")
    return wallet


def _uuid_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _render_one(alert) -> Response:
    return Response({"alert": alert_json(alert)})


def _collection(view, request, alertable) -> Response:
    if request.method == "DELETE":
        alerts_delete_all(alertable=alertable)
        return Response(status=200)
    if request.method == "POST":
        data = request.data if isinstance(request.data, dict) else None
        if data is not None and "alerts" in data:
            created = alerts_create_batch(alertable=alertable, items=data["alerts"])
            organization_id = str(organization_get().lago_id)
            return Response({"alerts": [alert_json(a, organization_id) for a in created]})
        if data is None or not isinstance(data.get("alert"), dict):
            raise ParseError("param is missing or the value is empty: alert")
        return _render_one(alert_create(alertable=alertable, data=data["alert"]))
    paginator = LagoPagination()
    page = paginator.paginate_queryset(alerts_of(alertable), request, view)
    organization_id = str(organization_get().lago_id)
    return Response(
        {"alerts": [alert_json(a, organization_id) for a in page], "meta": paginator.meta()}
    )


def _member(request, alertable, code: str) -> Response:
    alert = alert_get(alertable=alertable, code=code)
    if request.method == "DELETE":
        return _render_one(alert_delete(alert=alert))
    if request.method == "PUT":
        data = request.data if isinstance(request.data, dict) else None
        if data is None or not isinstance(data.get("alert"), dict):
            raise ParseError("param is missing or the value is empty: alert")
        return _render_one(alert_update(alert=alert, data=data["alert"], alertable=alertable))
    return _render_one(alert)


class SubscriptionAlertActions:
    """Mixed into customers.api.SubscriptionViewSet (lookup: external_id)."""

    def _alert_subscription(self, request, external_id):
        return subscription_get(
            external_id=external_id,
            status=request.query_params.get("subscription_status")
            or request.query_params.get("status"),
        )

    @action(detail=True, methods=["get", "post", "delete"], url_path="alerts")
    def alerts(self, request, external_id=None):
        """List, create (one or a batch) or delete all of a subscription's alerts."""
        return _collection(self, request, self._alert_subscription(request, external_id))

    @action(detail=True, methods=["get", "put", "delete"], url_path=r"alerts/(?P<code>[^/]+)")
    def alert(self, request, external_id=None, code=None):
        """Retrieve, update or delete one alert of a subscription."""
        return _member(request, self._alert_subscription(request, external_id), code)


class WalletAlertActions:
    """Mixed into customers.api.CustomerViewSet (lookup: external_id)."""

    @action(
        detail=True,
        methods=["get", "post", "delete"],
        url_path=r"wallets/(?P<wallet_code>[^/]+)/alerts",
    )
    def wallet_alerts(self, request, external_id=None, wallet_code=None):
        """List, create (one or a batch) or delete all of a wallet's alerts."""
        wallet = wallet_by_code(external_customer_id=external_id, wallet_code=wallet_code)
        return _collection(self, request, wallet)

    @action(
        detail=True,
        methods=["get", "put", "delete"],
        url_path=r"wallets/(?P<wallet_code>[^/]+)/alerts/(?P<code>[^/]+)",
    )
    def wallet_alert(self, request, external_id=None, wallet_code=None, code=None):
        """Retrieve, update or delete one alert of a wallet."""
        wallet = wallet_by_code(external_customer_id=external_id, wallet_code=wallet_code)
        return _member(request, wallet, code)
