"""Links built outside a request follow the port `make run` serves (WEB_HOST, WEB_PORT) unless
PUBLIC_BASE_URL is set: the banner, the demo's portal line and portal_url alike."""

import subprocess
import sys

import pytest

from billing_site.settings.base import served_base_url
from tests.live import ROOT, process_env

PRINT_LINKS = (
    "from django.conf import settings; from customers.models import Customer; "
    "from portal.access import portal_url; "
    "print(settings.PUBLIC_BASE_URL); print(portal_url(Customer()))"
)


@pytest.mark.parametrize(
    ("host", "port", "url"),
    [
        ("127.0.0.1", "8000", "http://127.0.0.1:8000"),
        ("127.0.0.1", "8101", "http://127.0.0.1:8101"),
        ("0.0.0.0", "8101", "http://127.0.0.1:8101"),  # noqa: S104 (a link, no bind)
        ("", "", "http://127.0.0.1:8000"),
        ("localhost", "9000", "http://localhost:9000"),
        ("::", "8101", "http://[::1]:8101"),
        ("[::1]", "8101", "http://[::1]:8101"),
    ],
)
def test_served_base_url(host, port, url):
    assert served_base_url(host, port) == url


def _manage(tmp_path, *args, **env) -> list[str]:
    environment = process_env(tmp_path)
    environment.pop("PUBLIC_BASE_URL", None)
    environment |= {k: v for k, v in env.items() if v is not None}
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout.splitlines()


def test_links_follow_web_port_without_public_base_url(tmp_path):
    base, link = _manage(tmp_path, "shell", "-v", "0", "-c", PRINT_LINKS, WEB_PORT="8101")
    assert base == "http://127.0.0.1:8101"
    assert link.startswith("http://127.0.0.1:8101/portal/")


def test_public_base_url_wins(tmp_path):
    public = "https://billing.example.com"
    base, link = _manage(
        tmp_path, "shell", "-v", "0", "-c", PRINT_LINKS, WEB_PORT="8101", PUBLIC_BASE_URL=public
    )
    assert base == public
    assert link.startswith(f"{public}/portal/")


def test_startup_banner_names_the_served_port(tmp_path):
    lines = _manage(tmp_path, "startup_banner", WEB_PORT="8101")
    assert lines[0].startswith("Serving on http://127.0.0.1:8101/ (admin at /admin/")
    assert not any("Links in e-mails" in line for line in lines)
    mail = str(tmp_path / "var" / "mail")
    assert f"E-mails: written to {mail}/ (a file per connection, attachments included)" in lines[-1]
    public = _manage(
        tmp_path, "startup_banner", WEB_PORT="8101", PUBLIC_BASE_URL="https://b.example.com"
    )
    assert "Links in e-mails, webhooks and portal_url: https://b.example.com" in public
