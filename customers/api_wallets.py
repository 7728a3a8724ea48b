"""REST API v1 for wallets and wallet transactions (Lago wire format)."""

import uuid

from drf_spectacular.utils import extend_schema_view
from rest_framework.decorators import action
from rest_framework.exceptions import MethodNotAllowed
from rest_framework.response import Response

from core.api.pagination import LagoPagination
from core.api.viewsets import LagoViewSet
from core.errors import NotFound, ValidationFailed
from customers.models import Wallet, WalletTransaction
from customers.schemas import (
    WALLET_METADATA_OF_CUSTOMER,
    WALLET_OF_CUSTOMER,
    WALLET_TRANSACTION_VIEWS,
    WALLET_VIEWS,
    WALLETS_OF_CUSTOMER,
)
from customers.selectors import customer_get
from customers.serializers import (
    wallet_json,
    wallet_transaction_consumption_json,
    wallet_transaction_json,
)
from customers.wallets import (
    customer_wallet_balances,
    customer_wallet_get,
    wallet_create,
    wallet_get,
    wallet_metadata_set,
    wallet_terminate,
    wallet_transactions_create,
    wallet_update,
)
from customers.wallets.ledger import with_consumed

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
        """Lago requires external_customer_id."""
        external_id = request.query_params.get("external_customer_id")
        if not external_id:
            raise ValidationFailed({"external_customer_id": ["value_is_mandatory"]})
        return wallets_page(self, request, customer_get(external_id=external_id))

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
        rows = with_consumed(wallet.transactions.select_related("wallet", "invoice"))
        rows = rows.order_by("-created_at", "-id")
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
        return metadata_response(self, request, wallet_get(lago_id=lago_id), key)


def wallets_page(viewset, request, customer):
    """A page of the customer's wallets, newest first (status and currency filters); balances
    are priced once for the customer."""
    rows = Wallet.objects.filter(customer=customer).select_related("customer")
    rows = rows.prefetch_related("recurring_rules").order_by("-created_at", "-id")
    for name in ("status", "currency"):
        if request.query_params.get(name):
            rows = rows.filter(**{name: request.query_params[name]})
    balances = customer_wallet_balances(customer)
    return viewset.render_page(
        rows, lambda wallet: wallet_json(wallet, balances[wallet.pk]), plural="wallets"
    )


def metadata_response(viewset, request, wallet: Wallet, key: str | None):
    """Lago's wallet metadata verbs, on a wallet found by lago_id or by customer and code;
    …/metadata/{key} is only for DELETE."""
    if key is not None and request.method != "DELETE":
        raise MethodNotAllowed(request.method)
    payload = request.data.get("metadata") if isinstance(request.data, dict) else None
    if request.method in ("POST", "PATCH") and not isinstance(payload, dict):
        raise ValidationFailed({"metadata": ["invalid_format"]})
    if request.method != "GET":
        merge = request.method == "PATCH"
        data = payload if request.method != "DELETE" else None
        wallet = wallet_metadata_set(wallet=wallet, metadata=data, merge=merge, key=key)
    return viewset.render_one(wallet.metadata, root="metadata")


# The wallet endpoints of CustomerViewSet (customers/api.py), a wallet found by its code.
class CustomerWalletActions:
    @WALLETS_OF_CUSTOMER
    @action(detail=True, methods=["get", "post"], url_path="wallets")
    def wallets(self, request, external_id=None):
        """List the customer's wallets, or create one for them (the path names the customer)."""
        customer = customer_get(external_id=external_id)
        if request.method == "GET":
            return wallets_page(self, request, customer)
        data = {**self.root_payload(request, "wallet"), "external_customer_id": external_id}
        return self.render_one(wallet_json(wallet_create(data=data)), root="wallet")

    @WALLET_OF_CUSTOMER
    @action(detail=True, methods=["get", "put", "delete"], url_path=r"wallets/(?P<code>[^/]+)")
    def wallet(self, request, external_id=None, code=None):
        """Read, update or terminate the customer's wallet `code` (404 wallet_not_found)."""
        wallet = customer_wallet_get(customer=customer_get(external_id=external_id), code=code)
        if request.method == "PUT":
            wallet = wallet_update(wallet=wallet, data=self.root_payload(request, "wallet"))
        elif request.method == "DELETE":
            wallet = wallet_terminate(wallet=wallet)
        return self.render_one(wallet_json(wallet), root="wallet")

    @WALLET_METADATA_OF_CUSTOMER
    @action(
        detail=True,
        methods=["get", "post", "patch", "delete"],
        url_path=r"wallets/(?P<wallet_code>[^/]+)/metadata(?:/(?P<key>[^/]+))?",
    )
    def wallet_metadata(self, request, external_id=None, wallet_code=None, key=None):
        """The metadata verbs of /wallets/{lago_id}/metadata, the wallet found by its code."""
        customer = customer_get(external_id=external_id)
        wallet = customer_wallet_get(customer=customer, code=wallet_code)
        return metadata_response(self, request, wallet, key)


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
        return self.render_one(wallet_transaction_json(_transaction(lago_id)))

    @action(detail=True, methods=["get"], url_path="consumptions")
    def consumptions(self, request, lago_id=None):
        """Which outbound transactions took this inbound's credits, newest first."""
        row = _transaction(lago_id)
        if row.transaction_type != WalletTransaction.TransactionType.INBOUND:
            raise ValidationFailed({"transaction_type": ["invalid_transaction_type"]})
        rows = row.consumptions.select_related("outbound__wallet", "outbound__invoice")
        return self.render_page(
            rows.order_by("-created_at", "id"),
            lambda c: wallet_transaction_consumption_json(c, c.outbound),
            plural="wallet_transaction_consumptions",
        )

    @action(detail=True, methods=["get"], url_path="fundings")
    def fundings(self, request, lago_id=None):
        """Which inbound transactions funded this outbound one, newest first."""
        row = _transaction(lago_id)
        if row.transaction_type != WalletTransaction.TransactionType.OUTBOUND:
            raise ValidationFailed({"transaction_type": ["invalid_transaction_type"]})
        rows = row.fundings.select_related("inbound__wallet", "inbound__invoice")
        return self.render_page(
            rows.order_by("-created_at", "id"),
            lambda c: wallet_transaction_consumption_json(c, c.inbound),
            plural="wallet_transaction_fundings",
        )


def _transaction(lago_id) -> WalletTransaction:
    row = WalletTransaction.objects.select_related("wallet", "invoice")
    row = row.filter(lago_id=_uuid_or_none(lago_id)).first()
    if row is None:
        raise NotFound("wallet_transaction")
    return row


def _uuid_or_none(value: str):
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
