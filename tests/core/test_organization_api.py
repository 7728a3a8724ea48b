"""GET/PUT /organizations: the seller's settings in Lago's Organization shape; every field
checked before anything is written; webhook_url sets the first webhook endpoint."""

import pytest

from core.models import Organization
from core.selectors import organization_get
from tests.openapi_check import spec_errors
from webhooks.models import WebhookEndpoint

pytestmark = pytest.mark.django_db
URL = "/api/v1/organizations"


def put(api, **fields):
    return api.put(URL, {"organization": fields}, format="json")


def test_update_answers_lagos_organization(api):
    response = put(
        api,
        country="fr",
        default_currency="eur",
        address_line1="1 rue de la Paix",
        city="Paris",
        zipcode="75002",
        email="billing@seller.test",
        legal_name="Seller SAS",
        legal_number="123 456 789",
        tax_identification_number="FR40303265045",
        timezone="Europe/Paris",
        net_payment_term=30,
        document_numbering="per_organization",
        document_number_prefix="sel",
        finalize_zero_amount_invoice=False,
        email_settings=["invoice.finalized"],
        billing_configuration={
            "invoice_footer": "Thank you",
            "invoice_grace_period": 3,
            "document_locale": "fr",
        },
        webhook_url="https://hooks.seller.test/lago",
    )
    assert response.status_code == 200, response.content
    assert spec_errors("Organization", response.json()) == []
    body = response.json()["organization"]
    organization = organization_get()
    assert body["lago_id"] == str(organization.lago_id)
    assert (body["country"], body["default_currency"], body["timezone"]) == (
        "FR",
        "EUR",
        "Europe/Paris",
    )
    assert (body["document_number_prefix"], body["document_numbering"]) == (
        "SEL",
        "per_organization",
    )
    assert body["billing_configuration"] == {
        "invoice_footer": "Thank you",
        "invoice_grace_period": 3,
        "document_locale": "fr",
    }
    assert (body["legal_number"], body["net_payment_term"], body["address_line2"]) == (
        "123 456 789",
        30,
        None,
    )
    assert body["webhook_url"] == "https://hooks.seller.test/lago"
    assert body["webhook_urls"] == ["https://hooks.seller.test/lago"]
    assert body["email_settings"] == ["invoice.finalized"]
    assert (organization.invoice_prefix, organization.invoice_grace_period) == ("SEL", 3)
    assert organization.finalize_zero_amount_invoice is False
    assert api.get(URL).json() == response.json()


def test_webhook_url_changes_the_first_endpoint(api):
    put(api, webhook_url="https://one.test/hook")
    put(api, webhook_url="https://two.test/hook")
    assert list(WebhookEndpoint.objects.values_list("webhook_url", flat=True)) == [
        "https://two.test/hook"
    ]


def test_null_clears_text_fields(api):
    put(api, city="Paris", country="FR")
    body = put(api, city=None, country=None).json()["organization"]
    assert (body["city"], body["country"]) == (None, None)
    assert organization_get().city == ""


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"country": "XX"}, {"country": ["value_is_invalid"]}),
        ({"default_currency": "ABC"}, {"default_currency": ["value_is_invalid"]}),
        ({"timezone": "Mars/Base"}, {"timezone": ["value_is_invalid"]}),
        ({"net_payment_term": -1}, {"net_payment_term": ["value_is_invalid"]}),
        ({"document_numbering": "per_customer"}, {"document_numbering": ["value_is_invalid"]}),
        (
            {"document_number_prefix": "WAY-TOO-LONG"},
            {"document_number_prefix": ["value_is_invalid"]},
        ),
        ({"email_settings": ["invoice.voided"]}, {"email_settings": ["value_is_invalid"]}),
        ({"city": "x" * 256}, {"city": ["value_is_too_long"]}),
        (
            {"billing_configuration": {"invoice_grace_period": "3"}},
            {"billing_configuration.invoice_grace_period": ["value_is_invalid"]},
        ),
    ],
)
def test_bad_fields_change_nothing(api, fields, errors):
    before = organization_get()
    response = put(api, **{"city": "Lyon", "webhook_url": "https://hook.test/x", **fields})
    assert response.status_code == 422
    assert response.json()["error_details"] == errors
    after = Organization.objects.get(pk=before.pk)
    assert (after.city, after.updated_at) == (before.city, before.updated_at)
    assert not WebhookEndpoint.objects.exists()


def test_a_bad_webhook_url_rolls_the_organization_back(api):
    before = organization_get()
    response = put(api, city="Lyon", webhook_url="not a url")
    assert response.status_code == 422
    assert "webhook_url" in response.json()["error_details"]
    assert Organization.objects.get(pk=before.pk).city == before.city


def test_missing_root_is_a_bad_request(api):
    assert api.put(URL, {"city": "x"}, format="json").status_code == 400
