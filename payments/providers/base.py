"""What a payment provider does for us, and nothing else: the services of this app (collection,
refunds, reconciliation, customer sync) own our rows, locks and dunning; a provider only talks
to its API and translates its vocabulary into ours. A second provider is one module here plus
a line in the registry (payments/providers/__init__.py)."""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol


class InvalidWebhook(Exception):
    """Bad signature, stale or future timestamp: answer 400 invalid_signature."""


class MalformedEvent(Exception):
    """Signed by the provider but not the shape of an event we can apply: answer 400 with the
    reason; nothing is written (the record and any change roll back together)."""


class ProviderDecline(Exception):
    """The customer's payment method was refused (counted as a decline in dunning)."""

    def __init__(self, code: str, message: str, provider_payment_id: str = "") -> None:
        super().__init__(message)
        self.code, self.message, self.provider_payment_id = code, message, provider_payment_id


class ProviderError(Exception):
    """The provider could not be reached or answered an error that is not the customer's."""


@dataclass(frozen=True)
class Charge:
    """A provider's answer to a charge, in its own status vocabulary."""

    provider_payment_id: str
    status: str
    charge_id: str = ""
    error: str = ""


@dataclass(frozen=True)
class RemotePayment:
    """One payment as the provider lists it (reconciliation)."""

    provider_payment_id: str
    created: int  # epoch seconds
    amount_cents: int
    status: str  # the provider's vocabulary
    ours: bool  # carries our metadata (not another integration's on the same account)


class PaymentProvider(Protocol):
    name: str  # Customer.payment_provider and Payment.provider
    label: str  # for people: reconciliation details, messages

    def enabled(self) -> bool:
        """Configured (keys set); a disabled provider collects nothing."""

    def customer_create(self, customer) -> str:
        """Create the customer at the provider; its id there."""

    def customer_update(self, provider_customer_id: str, customer) -> None:
        """Push name, e-mail, address and tax id to an existing provider customer."""

    def tax_id_sync(self, provider_customer_id: str, customer) -> None:
        """Keep exactly our tax identification number on the provider customer."""

    def default_payment_method(self, customer) -> str | None:
        """The method a charge would use, or None."""

    def charge(self, *, invoice, payment, amount_cents: int, method: str) -> Charge:
        """Charge off-session (ProviderDecline or ProviderError otherwise). `invoice` is the
        payable: an Invoice, or a PaymentRequest (same currency, customer, lago_id, number)."""

    def payment_url(
        self, *, invoice, payment, amount_cents: int, success_url: str | None = None
    ) -> str:
        """A hosted page where the customer pays `amount_cents` of the invoice now (ProviderError
        otherwise), returning to `success_url` (default PUBLIC_BASE_URL); the payment made there
        carries `payment`'s id and attempt, so its webhook is recognised as this payment's."""

    def payment_status(self, status: str) -> str:
        """The provider's payment status as a Payment.Status value."""

    def refund(self, *, payment, refund, credit_note) -> Charge:
        """Refund part of a paid payment (ProviderError otherwise)."""

    def refund_status(self, status: str) -> str:
        """The provider's refund status as a Refund.Status value."""

    def recent_payments(self) -> Iterable[RemotePayment]:
        """The payments at the provider, newest first."""

    def setup_secret(self, customer, methods: list[str]) -> str:
        """A client secret for the page where the customer adds a payment method."""

    def set_default_payment_method(self, customer, method: str) -> None:
        """Make `method` the customer's default at the provider."""

    def detach_payment_method(self, customer, method: str) -> None:
        """Remove `method` from the customer at the provider: it is never charged again."""

    def parse_webhook(self, *, payload: bytes, signature: str) -> dict:
        """The verified event (InvalidWebhook, MalformedEvent otherwise)."""
