"""The back-office app holds the features that read every domain; the lower apps reach it only
through registries it fills in at startup: the admin site's pages keep their URLs and names,
core's bulk runner knows every kind of job, and nothing below imports backoffice."""

import ast
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from backoffice import bulk
from core import bulk as core_bulk
from core.models import BulkJob

ROOT = Path(__file__).resolve().parents[2]
KERNEL = ["core/admin_site.py", "core/bulk.py", "core/bulk_admin.py", "core/management"]
APPS = {"core", "plans", "taxes", "webhooks", "customers", "usage", "invoices", "payments"}


@pytest.mark.parametrize(
    ("name", "args", "url"),
    [
        ("admin:dashboard", [], "/admin/dashboard/"),
        ("admin:dashboard_csv", ["mrr"], "/admin/dashboard/mrr.csv"),
        ("admin:global_search", [], "/admin/search/"),
        ("admin:pricing_simulator", [], "/admin/pricing-simulator/"),
        ("admin:two_factor", [], "/admin/account/two-factor/"),
        (
            "admin:customers_customer_gdpr_export",
            [7],
            "/admin/customers/customer/7/personal-data/export/",
        ),
        (
            "admin:customers_customer_gdpr_erase",
            [7],
            "/admin/customers/customer/7/personal-data/erase/",
        ),
    ],
)
def test_the_back_office_pages_keep_their_admin_urls_and_names(name, args, url):
    assert reverse(name, args=args) == url


def test_the_dashboard_is_served_at_its_old_address(admin_client):
    response = admin_client.get("/admin/dashboard/")
    assert response.status_code == 200
    assert response.context["title"] == "Finance dashboard"


def test_every_kind_of_bulk_job_has_a_step_once_the_apps_are_ready():
    assert set(core_bulk.STEPS) == set(BulkJob.Kind.values)
    assert core_bulk.STEPS[BulkJob.Kind.BILL_NOW] is bulk.bill_now
    assert core_bulk.STEPS[BulkJob.Kind.FINALIZE] is bulk.finalize
    assert core_bulk.STEPS[BulkJob.Kind.RETRY_PAYMENTS] is bulk.retry_payment


def test_a_second_ready_mounts_each_page_once():
    apps.get_app_config("backoffice").ready()
    names = [getattr(pattern, "name", None) for pattern in admin.site.get_urls()]
    assert names.count("dashboard") == 1
    assert names.count("customers_customer_gdpr_export") == 1


def _imported_apps(path: Path) -> set[str]:
    tops = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            tops |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            tops.add(node.module.split(".")[0])
    return tops


def _sources(*places: str) -> list[Path]:
    files = []
    for place in places:
        path = ROOT / place
        files += [path] if path.is_file() else sorted(path.rglob("*.py"))
    return [f for f in files if "migrations" not in f.parts]


def test_the_admin_site_bulk_runner_and_commands_of_core_import_only_core():
    upward = {
        f"{path.relative_to(ROOT)}: {app}"
        for path in _sources(*KERNEL)
        for app in _imported_apps(path) & (APPS | {"portal", "backoffice"}) - {"core"}
    }
    assert upward == set()


def test_no_app_below_the_back_office_imports_it():
    importers = {
        str(path.relative_to(ROOT))
        for path in _sources(*APPS)
        if "backoffice" in _imported_apps(path)
    }
    assert importers == set()
