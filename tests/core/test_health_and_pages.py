"""Health check, landing page, OpenAPI schema and docs."""

import pytest

from billing_site.celery import app as celery_app

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_and_broker_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "broker": "ok"}


def test_healthz_is_503_naming_the_broker_when_it_is_down(client, monkeypatch):
    # A real connection attempt to a port where nothing listens (no mock of our code).
    monkeypatch.setitem(celery_app.conf, "broker_write_url", "redis://127.0.0.1:9/0")
    monkeypatch.setitem(celery_app.conf, "broker_transport_options", {})
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"database": "ok", "broker": "down"}


def test_landing_page_links_admin_and_api_docs(client):
    html = client.get("/").content.decode()
    assert 'href="/admin/"' in html
    assert 'href="/api/v1/docs"' in html


def test_openapi_schema_and_docs_are_served_without_cdn(client):
    schema = client.get("/api/v1/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    assert schema.json()["openapi"].startswith("3.")
    docs = client.get("/api/v1/docs").content.decode()
    assert "swagger-ui" in docs
    assert "cdn." not in docs and "unpkg" not in docs
