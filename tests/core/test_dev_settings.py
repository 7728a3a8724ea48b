"""`make run`'s output stays readable: e-mails go to files under var/mail/ (the console backend
printed every invoice PDF in base64), and neither kombu ("No hostname was supplied") nor Celery
(the worker runs as root in a container) fills it with warnings that ask nothing of anyone."""

import logging
import os
import subprocess
import sys

import pytest
from kombu import Connection

from billing_site.settings.base import EMBEDDED_BROKER_URL, broker_url
from tests.live import ROOT, process_env

# Run in a process on the development settings, as `make run` does (the tests' own settings
# keep e-mails in memory).
SEND_AN_INVOICE = """
import django, warnings
django.setup()
from django.conf import settings
from django.core.mail import EmailMessage
from celery.platforms import check_privileges
from billing_site.celery import app

message = EmailMessage("Invoice INV-1", "Your invoice is attached.", to=["jane@example.com"])
message.attach("INV-1.pdf", b"%PDF-1.7 " + bytes(range(256)) * 40, "application/pdf")
message.send()
print("backend", settings.EMAIL_BACKEND)
print("broker", settings.CELERY_BROKER_URL)
check_privileges(app.conf.accept_content)  # what the worker runs at start
"""


def _dev_process(tmp_path, **env) -> subprocess.CompletedProcess:
    environment = process_env(tmp_path, **env)
    for name in ("EMAIL_BACKEND", "EMAIL_FILE_PATH", "CELERY_BROKER_URL"):
        if name not in env:
            environment.pop(name, None)
    return subprocess.run(
        [sys.executable, "-c", SEND_AN_INVOICE],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def test_development_e_mails_are_files_under_var_mail(tmp_path):
    result = _dev_process(tmp_path)
    mails = list((tmp_path / "var" / "mail").iterdir())
    assert len(mails) == 1
    assert "Subject: Invoice INV-1" in mails[0].read_text()
    assert 'filename="INV-1.pdf"' in mails[0].read_text()
    assert "backend django.core.mail.backends.filebased.EmailBackend" in result.stdout
    assert "Invoice INV-1" not in result.stdout + result.stderr


def test_an_e_mail_backend_from_the_environment_wins(tmp_path):
    result = _dev_process(tmp_path, EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend")
    assert "Subject: Invoice INV-1" in result.stdout
    assert not (tmp_path / "var" / "mail").exists()


def test_the_embedded_broker_names_a_host(tmp_path):
    result = _dev_process(tmp_path)
    assert f"broker {EMBEDDED_BROKER_URL}" in result.stdout
    assert "No hostname was supplied" not in result.stderr


@pytest.mark.parametrize("url", ["filesystem://", "filesystem:///", EMBEDDED_BROKER_URL])
def test_a_bare_filesystem_url_is_completed(url):
    assert broker_url(url) == EMBEDDED_BROKER_URL


@pytest.mark.parametrize("url", ["redis://127.0.0.1:6379/0", "amqp://guest@rabbit//"])
def test_other_broker_urls_are_kept(url):
    assert broker_url(url) == url


def test_kombu_has_no_hostname_to_guess(caplog, tmp_path):
    folders = {
        "data_folder_in": str(tmp_path),
        "data_folder_out": str(tmp_path),
        "control_folder": str(tmp_path),
    }
    with caplog.at_level(logging.WARNING, logger="kombu.connection"):
        uri = Connection(EMBEDDED_BROKER_URL, transport_options=folders).as_uri()
        assert caplog.messages == []
        Connection("filesystem://", transport_options=folders).as_uri()
        assert caplog.messages == ["No hostname was supplied. Reverting to default 'localhost'"]
    assert uri.startswith("filesystem://")


@pytest.mark.skipif(os.geteuid() != 0, reason="Celery warns only a worker run as root")
def test_the_worker_run_as_root_in_development_does_not_warn(tmp_path):
    result = _dev_process(tmp_path)
    assert "superuser privileges" not in result.stderr
