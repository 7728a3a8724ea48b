"""Production settings refuse unsafe setups; logs are one JSON object per line, no secrets."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from billing_site.logging import RedactSecretsFilter, redact

ROOT = Path(__file__).resolve().parents[2]


def _load_production(tmp_path, **env_overrides) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "DATABASE_URL"}}
    env |= {"DJANGO_SETTINGS_MODULE": "billing_site.settings.production", "VAR_DIR": str(tmp_path)}
    env |= env_overrides
    code = "import django; django.setup(); print('started')"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )


def test_production_refuses_to_start_without_secret_key(tmp_path):
    result = _load_production(tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_to_start_with_debug_on(tmp_path):
    result = _load_production(tmp_path, SECRET_KEY="x" * 50, DEBUG="1")
    assert result.returncode != 0
    assert "DEBUG must be off" in result.stderr


def test_production_starts_with_a_secret_key_and_debug_off(tmp_path):
    result = _load_production(tmp_path, SECRET_KEY="x" * 50)
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        ("Authorization: Bearer blk_abcdef123456", "blk_abcdef123456"),
        ("api_key=blk_secret987", "blk_secret987"),
        ('{"password": "hunter22"}', "hunter22"),
        ("stripe key sk_test_51Habc", "sk_test_51Habc"),
        ("webhook whsec_abc123", "whsec_abc123"),
        ("LAGO_RSA_PRIVATE_KEY=LS0tLS1CRUdJTiBSU0Eabc", "LS0tLS1CRUdJTiBSU0Eabc"),
        ("key LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0t\nMIIEvQ== end", "MIIEvQ=="),
        ("-----BEGIN PRIVATE KEY-----\nMIIEvQIBADAN\n-----END PRIVATE KEY-----", "MIIEvQIBADAN"),
        ("oops -----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKC", "MIIEpAIBAAKC"),
    ],
)
def test_secrets_are_redacted(line, secret):
    cleaned = redact(line)
    assert secret not in cleaned
    assert "[redacted]" in cleaned


def test_log_lines_are_json_without_secrets(capsys):
    from pythonjsonlogger.json import JsonFormatter

    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.addFilter(RedactSecretsFilter())
    logger = logging.getLogger("tests.json")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("calling with Authorization: Bearer %s", "blk_topsecret")
    finally:
        logger.removeHandler(handler)
    line = capsys.readouterr().out.strip()
    assert "\n" not in line
    record = json.loads(line)
    assert record["levelname"] == "WARNING"
    assert "blk_topsecret" not in record["message"]
