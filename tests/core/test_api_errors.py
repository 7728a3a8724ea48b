"""Every /api/ failure is JSON in Lago's shape, whoever produces it."""

import pytest

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.core.urls_for_errors")]


def test_missing_key_is_401_json(anon_api):
    response = anon_api.get("/api/v1/test/ok")
    assert response.status_code == 401
    assert response.json() == {"status": 401, "error": "Unauthorized"}
    assert response["WWW-Authenticate"] == "Bearer"


def test_unknown_key_is_401(anon_api):
    anon_api.credentials(HTTP_AUTHORIZATION="Bearer blk_not-a-real-key")
    response = anon_api.get("/api/v1/test/ok")
    assert response.status_code == 401
    assert response.json()["error"] == "Unauthorized"


def test_valid_key_passes(api):
    assert api.get("/api/v1/test/ok").json() == {"ok": True}


def test_unknown_api_route_is_json_404(api):
    response = api.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json() == {"status": 404, "error": "Not Found", "code": "not_found"}


def test_unknown_api_route_is_json_404_in_debug(api, settings):
    settings.DEBUG = True
    response = api.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_wrong_method_is_json_405(api):
    response = api.post("/api/v1/test/ok", {})
    assert response.status_code == 405
    assert response.json() == {"status": 405, "error": "Method Not Allowed", "code": "not_allowed"}


def test_unhandled_exception_is_json_500(api):
    response = api.get("/api/v1/test/boom")
    assert response.status_code == 500
    assert response.json() == {
        "status": 500,
        "error": "Internal Server Error",
        "code": "internal_error",
    }


def test_malformed_json_is_400(api):
    response = api.generic(
        "POST", "/api/v1/test/echo", "{not json", content_type="application/json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == 400
    assert body["error"].startswith("BadRequest: JSON parse error")


def test_non_json_content_type_is_415_json(api):
    response = api.generic("POST", "/api/v1/test/echo", "a=1", content_type="text/plain")
    assert response.status_code == 415
    assert response.json()["status"] == 415


def test_non_api_404_stays_html(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "json" not in response["Content-Type"]
