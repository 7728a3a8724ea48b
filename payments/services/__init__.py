"""Payment services, one module per verb: sync (the customer at its provider), collection
(charging invoices, dunning, retries), events (a payment's state as the provider reports it),
refunds, reconciliation. The names other apps and the tests import are re-exported here."""

from payments.serializers import payment_json
from payments.services.collection import invoice_collect, payment_retry_now, payments_retry_due
from payments.services.events import payment_apply_intent, payment_record_failure
from payments.services.reconciliation import payments_reconcile
from payments.services.refunds import credit_note_refund, refund_apply
from payments.services.sync import collects, customer_provider_sync, default_payment_method

__all__ = [
    "collects",
    "credit_note_refund",
    "customer_provider_sync",
    "default_payment_method",
    "invoice_collect",
    "payment_apply_intent",
    "payment_json",
    "payment_record_failure",
    "payment_retry_now",
    "payments_reconcile",
    "payments_retry_due",
    "refund_apply",
]
