"""REST API v1 for wallets and wallet transactions (Lago wire format)."""

import uuid

from drf_spectacular.utils import extend_schema_view
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api.pagination import LagoPagination
from core.api.viewsets import LagoViewSet
from core.errors import NotFound, ValidationFailed
from customers.models import Wallet, WalletTransaction
from customers.schemas import WALLET_TRANSACTION_VIEWS, WALLET_VIEWS
from customers.selectors import customer_get
from customers.serializers import (
    wallet_json,
    wallet_transaction_json,
)
from customers.wallets import (
    customer_wallet_balances,
    wallet_create,
    wallet_get,
    wallet_metadata_set,
    wallet_terminate,
    wallet_transactions_create,
    wallet_update,
)

TRANSACTION_FILTERS = ("status", "transaction_type", "transaction_status")

# --- views -----------------------------------------------------------------------------------


@extend_schema_view(**WALLET_VIEWS)
class WalletViewSet(LagoViewSet):
    lago_root, lago_plural = "wallet", "wallets"
    lookup_field = "lago_id"

    def _render(self, wallet: Wallet) -> Response:
        return self.render_one(wallet_json(wallet))

    def create(self, request):
        return self._render(wallet_create(data=self.root_payload(request)))

    def list(self, request):
        """Lago requires external_customer_id; balances are priced once for the customer."""
        external_id = request.query_params.get("external_customer_id")
        if not external_id:
            raise ValidationFailed({"external_customer_id": ["value_is_mandatory"]})
        customer = customer_get(external_id=external_id)
        rows = Wallet.objects.filter(customer=customer).select_related("customer")
        rows = rows.prefetch_related("recurring_rules").order_by("-created_at", "-id")
        if request.query_params.get("status"):
            rows = rows.filter(status=request.query_params["status"])
        balances = customer_wallet_balances(customer)
        return self.render_page(rows, lambda wallet: wallet_json(wallet, balances[wallet.pk]))

    def retrieve(self, request, lago_id=None):
        return self._render(wallet_get(lago_id=lago_id))

    def update(self, request, lago_id=None):
        wallet = wallet_update(wallet=wallet_get(lago_id=lago_id), data=self.root_payload(request))
        return self._render(wallet)

    def destroy(self, request, lago_id=None):
        """Terminate: the remaining credits are voided; answers the terminated wallet."""
        return self._render(wallet_terminate(wallet=wallet_get(lago_id=lago_id)))

    @action(detail=True, methods=["get"], url_path="wallet_transactions")
    def wallet_transactions(self, request, lago_id=None):
        """The wallet's transactions, newest first, filtered by status and types."""
        wallet = wallet_get(lago_id=lago_id)
        rows = wallet.transactions.select_related("wallet", "invoice").order_by(
            "-created_at", "-id"
        )
        for name in TRANSACTION_FILTERS:
            if request.query_params.get(name):
                rows = rows.filter(**{name: request.query_params[name]})
        paginator = LagoPagination()
        page = paginator.paginate_queryset(rows, request, self)
        data = [wallet_transaction_json(row) for row in page]
        return Response({"wallet_transactions": data, "meta": paginator.meta()})

    @action(
        detail=True,
        methods=["get", "post", "patch", "delete"],
        url_path=r"metadata(?:/(?P<key>[^/]+))?",
    )
    def metadata(self, request, lago_id=None, key=None):
        """Replace (POST), merge (PATCH), read (GET) or clear (DELETE, or one key) metadata."""
        wallet = wallet_get(lago_id=lago_id)
        payload = request.data.get("metadata") if isinstance(request.data, dict) else None
        if request.method in ("POST", "PATCH") and not isinstance(payload, dict):
            raise ValidationFailed({"metadata": ["invalid_format"]})
        if request.method != "GET":
            merge = request.method == "PATCH"
            data = payload if request.method != "DELETE" else None
            wallet = wallet_metadata_set(wallet=wallet, metadata=data, merge=merge, key=key)
        return self.render_one(wallet.metadata, root="metadata")


@extend_schema_view(**WALLET_TRANSACTION_VIEWS)
class WalletTransactionViewSet(LagoViewSet):
    lago_root, lago_plural = "wallet_transaction", "wallet_transactions"
    lookup_field = "lago_id"

    @property
    def lago_resource(self) -> str:
        return "wallet"

    def create(self, request):
        """One top-up (paid, granted, voided parts); answers them as an array, like Lago. An
        Idempotency-Key header makes a retry return the same transactions."""
        rows = wallet_transactions_create(
            data=self.root_payload(request),
            idempotency_key=request.headers.get("Idempotency-Key"),
        )
        return Response({"wallet_transactions": [wallet_transaction_json(row) for row in rows]})

    def retrieve(self, request, lago_id=None):
        row = (
            WalletTransaction.objects.select_related("wallet", "invoice")
            .filter(lago_id=_uuid_or_none(lago_id))
            .first()
        )
        if row is None:
            raise NotFound("wallet_transaction")
        return self.render_one(wallet_transaction_json(row))


def _uuid_or_none(value: str):
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
