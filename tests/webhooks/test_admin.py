"""Admin: endpoints (validated like the API, secret shown), delivery log with a retry action."""

import pytest
from django.urls import reverse
from django_celery_beat.models import PeriodicTask

from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.services import webhook_endpoint_create, webhook_send
from webhooks.signing import endpoint_secret, verify

pytestmark = pytest.mark.django_db

Status = WebhookDelivery.Status
DELIVERIES = reverse("admin:webhooks_webhookdelivery_changelist")


def endpoint_form(**fields) -> dict:
    return {
        "name": "from admin",
        "webhook_url": "https://example.com/admin-hooks",
        "signature_algo": "hmac",
        "is_active": "on",
        **fields,
    }


def test_add_endpoint_and_see_its_secret(admin_client):
    form = endpoint_form(event_types=["invoice.created", "invoice.voided"])
    response = admin_client.post(reverse("admin:webhooks_webhookendpoint_add"), form)
    assert response.status_code == 302
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.event_types == ["invoice.created", "invoice.voided"]
    page = admin_client.get(reverse("admin:webhooks_webhookendpoint_change", args=[endpoint.pk]))
    assert endpoint_secret(endpoint) in page.content.decode()
    listing = admin_client.get(reverse("admin:webhooks_webhookendpoint_changelist"), {"q": "admin"})
    assert "https://example.com/admin-hooks" in listing.content.decode()


@pytest.mark.parametrize(
    "fields",
    [{"signature_algo": "rsa"}, {"webhook_url": "ftp://example.com/x"}, {"webhook_url": ""}],
)
def test_admin_refuses_what_the_api_refuses(admin_client, fields):
    add = reverse("admin:webhooks_webhookendpoint_add")
    response = admin_client.post(add, endpoint_form(**fields))
    assert response.status_code == 200  # the form again, with its errors
    assert response.context["adminform"].form.errors
    assert not WebhookEndpoint.objects.exists()


def test_admin_respects_the_limit(admin_client):
    for number in range(10):
        webhook_endpoint_create(data={"webhook_url": f"https://example.com/{number}"})
    response = admin_client.post(reverse("admin:webhooks_webhookendpoint_add"), endpoint_form())
    assert "At most 10 webhook endpoints" in response.content.decode()
    assert WebhookEndpoint.objects.count() == 10


def test_change_and_delete_endpoint_with_its_log(admin_client):
    endpoint = webhook_endpoint_create(data={"webhook_url": "https://example.com/a"})
    webhook_send(webhook_type="invoice.created", object_type="invoice", data={})
    change = reverse("admin:webhooks_webhookendpoint_change", args=[endpoint.pk])
    form = endpoint_form(name="renamed", webhook_url=endpoint.webhook_url)
    response = admin_client.post(change, form)
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.name, endpoint.is_active) == ("renamed", True)
    delete = reverse("admin:webhooks_webhookendpoint_delete", args=[endpoint.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 302
    assert not WebhookEndpoint.objects.exists()
    assert not WebhookDelivery.objects.exists()


def test_delivery_log_pages(admin_client, endpoint):
    [delivery] = webhook_send(webhook_type="invoice.created", object_type="invoice", data={"a": 1})
    listing = admin_client.get(DELIVERIES, {"status": "pending", "q": "invoice"})
    assert "invoice.created" in listing.content.decode()
    page = admin_client.get(reverse("admin:webhooks_webhookdelivery_change", args=[delivery.pk]))
    assert page.status_code == 200
    assert "&quot;webhook_type&quot;: &quot;invoice.created&quot;" in page.content.decode()
    assert admin_client.get(reverse("admin:webhooks_webhookdelivery_add")).status_code == 403


def test_retry_action_sends_failed_deliveries_again(
    admin_client, receiver, endpoint, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    receiver.status = 500
    with django_capture_on_commit_callbacks(execute=True):
        [delivery] = webhook_send(webhook_type="invoice.created", object_type="invoice", data={})
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Status.FAILED, 1)

    receiver.status = 200
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            DELIVERIES,
            {"action": "retry_deliveries", "_selected_action": [delivery.pk]},
            follow=True,
        )
    assert "Retrying 1 delivery(ies)." in response.content.decode()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Status.SUCCEEDED, 1)
    first, second = receiver.hits
    assert second.headers["x-lago-unique-key"] == first.headers["x-lago-unique-key"]
    assert verify(endpoint_secret(endpoint), second.body, second.headers["x-lago-signature"])


def test_retry_action_skips_delivered(
    admin_client, receiver, endpoint, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        [delivery] = webhook_send(webhook_type="invoice.created", object_type="invoice", data={})
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            DELIVERIES,
            {"action": "retry_deliveries", "_selected_action": [delivery.pk]},
            follow=True,
        )
    assert "Skipped 1 already delivered." in response.content.decode()
    assert len(receiver.hits) == 1


def test_retry_due_is_scheduled_every_minute():
    task = PeriodicTask.objects.get(task="webhooks.retry_due")
    assert task.enabled
    assert (task.interval.every, task.interval.period) == (60, "seconds")


@pytest.mark.parametrize("model", ["webhookendpoint", "webhookdelivery"])
def test_changelists_and_add_page_load_when_empty(admin_client, model):
    changelist = reverse(f"admin:webhooks_{model}_changelist")
    assert admin_client.get(changelist, {"q": "x"}).status_code == 200
    add = admin_client.get(reverse(f"admin:webhooks_{model}_add"))
    assert add.status_code == (200 if model == "webhookendpoint" else 403)
