"""With the database unreachable the API answers 503 with Retry-After (as /healthz does), not
500: clients retry later. Only connection failures count; a locked SQLite file or a
cancelled PostgreSQL statement is a real error and stays a 500.

The failures are real: a connection to a closed port or a missing file, never a mock."""

import sqlite3
import tempfile
from pathlib import Path

import pytest
from django.db import OperationalError, connection
from django.db.backends.sqlite3.base import DatabaseWrapper as SqliteWrapper

from core.api.exceptions import is_database_unavailable

CLOSED_PORT = 1  # nothing listens there: connection refused at once


def _sqlite(path: str, **options) -> SqliteWrapper:
    settings_dict = {**connection.settings_dict, "NAME": path, "OPTIONS": options}
    return SqliteWrapper(settings_dict, alias="hostile")


@pytest.mark.django_db
def test_a_sqlite_file_that_cannot_be_opened_is_unavailable():
    wrapper = _sqlite("/nonexistent-folder/billing.sqlite3")
    with pytest.raises(OperationalError) as failure:
        wrapper.ensure_connection()
    assert is_database_unavailable(failure.value)


@pytest.mark.django_db
def test_a_locked_sqlite_database_is_an_error_not_an_outage():
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "locked.sqlite3")
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("CREATE TABLE t (x int)")
        holder.execute("BEGIN EXCLUSIVE")
        wrapper = _sqlite(path, timeout=0)
        try:
            with pytest.raises(OperationalError) as failure, wrapper.cursor() as cursor:
                cursor.execute("INSERT INTO t VALUES (1)")
        finally:
            wrapper.close()
            holder.close()
    assert "database is locked" in str(failure.value)
    assert not is_database_unavailable(failure.value)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_postgres_server_that_refuses_connections_is_unavailable():
    from django.db.backends.postgresql.base import DatabaseWrapper

    wrapper = DatabaseWrapper({**connection.settings_dict, "PORT": CLOSED_PORT}, alias="dead")
    with pytest.raises(OperationalError) as failure:
        wrapper.ensure_connection()
    assert is_database_unavailable(failure.value)


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_cancelled_postgres_statement_is_an_error_not_an_outage():
    with pytest.raises(OperationalError) as failure, connection.cursor() as cursor:
        cursor.execute("SET LOCAL statement_timeout = 1")
        cursor.execute("SELECT pg_sleep(0.2)")
    assert failure.value.__cause__.sqlstate == "57014"  # query_canceled
    assert not is_database_unavailable(failure.value)


@pytest.fixture
def database_down():
    """The default connection pointed at a closed port until the test ends."""
    saved = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict["HOST"] = "127.0.0.1"
    connection.settings_dict["PORT"] = CLOSED_PORT
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_api_answers_503_with_retry_after_when_the_database_is_down(
    raw_api_key, settings, database_down
):
    from rest_framework.test import APIClient

    settings.API_UNAVAILABLE_RETRY_AFTER_SECONDS = 7
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_api_key}")
    for response in (
        client.get("/api/v1/customers"),  # the API key lookup is the first query
        client.post("/api/v1/customers", {"customer": {"external_id": "c"}}, format="json"),
    ):
        assert response.status_code == 503
        assert response.json() == {
            "status": 503,
            "error": "Service Unavailable",
            "code": "database_unavailable",
        }
        assert response["Retry-After"] == "7"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_healthz_also_reports_the_database_down_with_retry_after(client, database_down):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "down"
    assert response["Retry-After"] == "5"


@pytest.mark.django_db
def test_healthz_sends_retry_after_when_the_broker_is_down(client, monkeypatch, settings):
    from billing_site.celery import app as celery_app

    settings.API_UNAVAILABLE_RETRY_AFTER_SECONDS = 9
    monkeypatch.setitem(celery_app.conf, "broker_write_url", "redis://127.0.0.1:9/0")
    monkeypatch.setitem(celery_app.conf, "broker_transport_options", {})
    response = client.get("/healthz")
    assert (response.status_code, response.json()["broker"]) == (503, "down")
    assert response["Retry-After"] == "9"
