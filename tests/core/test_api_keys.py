"""API keys: stored hashed, shown once, revocable, last use recorded."""

import pytest
import time_machine
from django.core.management import call_command

from core.models import ApiKey
from core.services import api_key_create, api_key_revoke

pytestmark = pytest.mark.urls("tests.core.urls_for_errors")


def test_only_a_hash_is_stored(db):
    key, raw_key = api_key_create(name="ci")
    stored = ApiKey.objects.values_list("prefix", "digest").get(pk=key.pk)
    assert raw_key not in stored
    assert raw_key.startswith(key.prefix)
    assert len(key.digest) == 64


def test_create_api_key_command_prints_raw_key_on_last_line(db, capsys, anon_api):
    call_command("create_api_key", "--name", "cli")
    raw_key = capsys.readouterr().out.strip().splitlines()[-1]
    anon_api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    assert anon_api.get("/api/v1/test/ok").status_code == 200
    assert ApiKey.objects.get(name="cli").prefix == raw_key[:12]


def test_revoked_key_is_refused(db, anon_api, settings):
    key, raw_key = api_key_create(name="soon revoked")
    anon_api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    api_key_revoke(key=key)
    response = anon_api.get("/api/v1/test/ok")
    assert response.status_code == 401


def test_last_use_is_recorded_at_most_once_a_minute(db, anon_api):
    key, raw_key = api_key_create(name="used")
    anon_api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    with time_machine.travel("2026-01-01 10:00:00Z", tick=False):
        anon_api.get("/api/v1/test/ok")
    key.refresh_from_db()
    first = key.last_used_at
    assert first.isoformat() == "2026-01-01T10:00:00+00:00"
    with time_machine.travel("2026-01-01 10:00:30Z", tick=False):
        anon_api.get("/api/v1/test/ok")
    key.refresh_from_db()
    assert key.last_used_at == first
    with time_machine.travel("2026-01-01 10:02:00Z", tick=False):
        anon_api.get("/api/v1/test/ok")
    key.refresh_from_db()
    assert key.last_used_at.isoformat() == "2026-01-01T10:02:00+00:00"
