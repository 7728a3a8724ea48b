"""lago-python-client against our server: a metric with an expression, and the jwt webhook
flow as Lago documents it — client.webhooks.public_key(), then PyJWT on a delivered webhook."""

import json
import threading

import jwt
import pytest
from lago_python_client.models import BillableMetric, WebhookEndpoint

from tests.webhooks.conftest import Receiver
from usage.models import Event
from webhooks.services import webhook_send

pytestmark = pytest.mark.live


@pytest.fixture
def receiver():
    receiver = Receiver()
    thread = threading.Thread(
        target=receiver.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()
    thread.join(timeout=5)


def test_metric_with_an_expression_through_the_client(lago):
    created = lago.billable_metrics.create(
        BillableMetric(
            name="Hours",
            code="hours",
            aggregation_type="sum_agg",
            field_name="hours",
            expression="round(event.properties.seconds / 3600)",
        )
    )
    assert created.expression == "round(event.properties.seconds / 3600)"
    assert lago.billable_metrics.find("hours").expression == created.expression
    assert not Event.objects.exists()


def test_jwt_webhook_verified_with_the_clients_public_key(lago, receiver, settings):
    settings.LAGO_API_URL = "https://billing.example.com"
    endpoint = lago.webhook_endpoints.create(
        WebhookEndpoint(webhook_url=receiver.url(), signature_algo="jwt")
    )
    assert endpoint.signature_algo == "jwt"
    public_key = lago.webhooks.public_key()  # the client base64-decodes it: PEM bytes
    assert public_key.startswith(b"-----BEGIN PUBLIC KEY-----")
    webhook_send(webhook_type="invoice.finalized", object_type="invoice", data={"lago_id": "i1"})
    [hit] = receiver.hits
    assert hit.headers["x-lago-signature-algorithm"] == "jwt"
    claims = jwt.decode(
        hit.headers["x-lago-signature"],
        public_key,
        algorithms=["RS256"],
        issuer="https://billing.example.com",
    )
    assert claims["data"] == hit.body.decode()
    assert json.loads(claims["data"])["invoice"] == {"lago_id": "i1"}
    assert b"PRIVATE" not in public_key
