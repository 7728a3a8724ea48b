"""/api/v1/webhook_endpoints: Lago's shapes, validation codes, the 10-endpoint limit."""

import pytest

from core.selectors import organization_get
from webhooks.models import WebhookEndpoint
from webhooks.signing import endpoint_secret

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.webhooks.urls")]

URL = "/api/v1/webhook_endpoints"


def create(api, **fields):
    body = {"webhook_url": "https://example.com/hooks", **fields}
    return api.post(URL, {"webhook_endpoint": body}, format="json")


def test_create_answers_the_object_with_its_signing_secret(api):
    response = create(api, name="billing", signature_algo="hmac", event_types=["invoice.finalized"])
    assert response.status_code == 200
    body = response.json()["webhook_endpoint"]
    endpoint = WebhookEndpoint.objects.get()
    assert body == {
        "lago_id": str(endpoint.lago_id),
        "lago_organization_id": str(organization_get().lago_id),
        "webhook_url": "https://example.com/hooks",
        "signature_algo": "hmac",
        "name": "billing",
        "event_types": ["invoice.finalized"],
        "created_at": body["created_at"],
        "signing_secret": endpoint_secret(endpoint),
    }
    assert body["created_at"].endswith("Z")


def test_defaults_and_nulls(api):
    response = create(api, name=None, signature_algo=None, event_types=None)
    body = response.json()["webhook_endpoint"]
    assert (body["signature_algo"], body["event_types"], body["name"]) == ("hmac", [], None)


def test_retrieve_and_list_never_show_the_secret(api):
    lago_id = create(api).json()["webhook_endpoint"]["lago_id"]
    create(api, webhook_url="http://example.com/other")
    one = api.get(f"{URL}/{lago_id}").json()["webhook_endpoint"]
    page = api.get(URL, {"per_page": 1}).json()
    assert one["lago_id"] == lago_id and "signing_secret" not in one
    assert len(page["webhook_endpoints"]) == 1
    assert "signing_secret" not in page["webhook_endpoints"][0]
    assert page["meta"]["total_count"] == 2


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"webhook_url": None}, "webhook_url", "value_is_mandatory"),
        ({"webhook_url": ""}, "webhook_url", "value_is_mandatory"),
        ({"webhook_url": "not a url"}, "webhook_url", "invalid_format"),
        ({"webhook_url": "ftp://example.com/x"}, "webhook_url", "invalid_format"),
        ({"webhook_url": 42}, "webhook_url", "invalid_format"),
        ({"webhook_url": "https://example.com/" + "x" * 1020}, "webhook_url", "value_is_too_long"),
        ({"signature_algo": "rsa"}, "signature_algo", "value_is_invalid"),
        ({"event_types": ["invoice.exploded"]}, "event_types", "value_is_invalid"),
        ({"event_types": "invoice.created"}, "event_types", "value_is_invalid"),
        ({"event_types": [1]}, "event_types", "value_is_invalid"),
        ({"name": ["x"]}, "name", "invalid_format"),
    ],
)
def test_invalid_fields_are_422(api, fields, field, code):
    response = create(api, **fields)
    assert response.status_code == 422
    assert response.json() == {
        "status": 422,
        "error": "Unprocessable Entity",
        "code": "validation_errors",
        "error_details": {field: [code]},
    }
    assert not WebhookEndpoint.objects.exists()


def test_same_url_twice_is_refused(api):
    create(api)
    response = create(api)
    assert response.json()["error_details"] == {"webhook_url": ["value_already_exist"]}


def test_at_most_ten_endpoints(api):
    for number in range(10):
        assert create(api, webhook_url=f"https://example.com/{number}").status_code == 200
    response = create(api, webhook_url="https://example.com/eleven")
    assert response.status_code == 422
    assert response.json()["code"] == "too_many_endpoints"
    assert WebhookEndpoint.objects.count() == 10


def test_missing_root_is_400(api):
    response = api.post(URL, {"webhook_url": "https://example.com"}, format="json")
    assert response.status_code == 400


def test_update_is_partial(api):
    lago_id = create(api, name="old", event_types=["invoice.created"]).json()["webhook_endpoint"][
        "lago_id"
    ]
    response = api.put(f"{URL}/{lago_id}", {"webhook_endpoint": {"name": "new"}}, format="json")
    body = response.json()["webhook_endpoint"]
    assert response.status_code == 200
    assert (body["name"], body["webhook_url"], body["event_types"]) == (
        "new",
        "https://example.com/hooks",
        ["invoice.created"],
    )
    assert "signing_secret" not in body
    everything = {"webhook_endpoint": {"event_types": []}}
    assert (
        api.put(f"{URL}/{lago_id}", everything, format="json").json()["webhook_endpoint"][
            "event_types"
        ]
        == []
    )


def test_update_validates(api):
    lago_id = create(api).json()["webhook_endpoint"]["lago_id"]
    create(api, webhook_url="https://example.com/taken")
    for fields, field, code in [
        ({"signature_algo": "RS256"}, "signature_algo", "value_is_invalid"),
        ({"webhook_url": "mailto:a@b.c"}, "webhook_url", "invalid_format"),
        ({"webhook_url": "https://example.com/taken"}, "webhook_url", "value_already_exist"),
    ]:
        response = api.put(f"{URL}/{lago_id}", {"webhook_endpoint": fields}, format="json")
        assert response.status_code == 422
        assert response.json()["error_details"] == {field: [code]}
    same_url = {"webhook_endpoint": {"webhook_url": "https://example.com/hooks"}}
    assert api.put(f"{URL}/{lago_id}", same_url, format="json").status_code == 200


def test_destroy_answers_the_object_then_404(api):
    created = create(api).json()["webhook_endpoint"]
    response = api.delete(f"{URL}/{created['lago_id']}")
    assert response.status_code == 200
    assert response.json()["webhook_endpoint"]["lago_id"] == created["lago_id"]
    assert not WebhookEndpoint.objects.exists()
    gone = api.get(f"{URL}/{created['lago_id']}")
    assert gone.status_code == 404
    assert gone.json()["code"] == "webhook_endpoint_not_found"


@pytest.mark.parametrize("lago_id", ["1b4e28ba-2fa1-11d2-883f-0016d3cca427", "not-a-uuid"])
@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_unknown_id_is_404(api, lago_id, method):
    response = getattr(api, method)(f"{URL}/{lago_id}", {"webhook_endpoint": {}}, format="json")
    assert response.status_code == 404
    assert response.json() == {
        "status": 404,
        "error": "Not Found",
        "code": "webhook_endpoint_not_found",
    }


def test_requires_an_api_key(anon_api):
    assert anon_api.get(URL).status_code == 401


def test_openapi_schema_lists_the_routes(client):
    schema = client.get("/api/v1/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {"/api/v1/webhook_endpoints", "/api/v1/webhook_endpoints/{lago_id}"} <= set(paths)
