"""After `load_demo`, a superuser crawls every page of the admin: the index, each app's index,
each model's changelist, add page and the change and history pages of several of its rows,
every extra page the site and the model admins mount (dashboard, search, simulator, CSVs,
revenue, previews, confirmations, PDFs…). None answers with a server error."""

import io
import re

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, URLResolver

pytestmark = pytest.mark.django_db

SAMPLE = 4  # rows per model: the first and the last ones (all of them for small tables)
SMALL = 40
# Pages whose parameters are words rather than row ids, and the words to try.
WORDS = {
    "dashboard_csv": {
        "name": [
            "mrr",
            "revenue",
            "usage",
            "top_usage",
            "top_revenue",
            "margin_metric",
            "margin_customer",
            "receivables",
            "ingestion",
        ]
    },
    "invoices_invoice_action": {"action": ["finalize", "refresh", "void"]},
}
SKIPPED = {"logout", "view_on_site", "jsi18n", "login"}


@pytest.fixture
def demo(db):
    call_command("load_demo", "--usage-scale", "0.05", stdout=io.StringIO())


@pytest.fixture
def superuser_client(db, django_user_model):
    user = django_user_model.objects.create_superuser("crawler", "crawler@example.com", "pw")
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def _rows(model) -> list:
    rows = model._default_manager.order_by("pk")
    count = rows.count()
    if count <= SMALL:
        return list(rows.values_list("pk", flat=True))
    first = list(rows.values_list("pk", flat=True)[: SAMPLE // 2])
    last = list(rows.order_by("-pk").values_list("pk", flat=True)[: SAMPLE // 2])
    return first + last


def _patterns(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _patterns(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.name


def _model_for(route: str):
    for model in admin.site._registry:
        opts = model._meta
        if route.startswith(f"{opts.app_label}/{opts.model_name}/"):
            return model
    return None


def admin_urls() -> list[str]:
    """Every GET-able admin URL with its parameters filled in from the demo's rows."""
    urls = ["/admin/"]
    for route, name in _patterns(admin.site.get_urls()):
        if name in SKIPPED or route.startswith("^") or route.startswith("(?P<url>"):
            continue
        params = re.findall(r"<(?:(\w+):)?(\w+)>", route)
        if not params:
            urls.append(f"/admin/{route}")
            continue
        model = _model_for(route)
        choices: list[dict] = [{}]
        for _kind, param in params:
            if param in ("pk", "object_id") and model is not None:
                values = _rows(model)
            else:
                values = WORDS.get(name, {}).get(param, [])
            choices = [{**c, param: v} for c in choices for v in values]
        for choice in choices:
            url = route
            for param, value in choice.items():
                url = re.sub(rf"<(?:\w+:)?{param}>", str(value), url)
            urls.append(f"/admin/{url}")
    urls += [f"/admin/{label}/" for label in {m._meta.app_label for m in admin.site._registry}]
    return urls


def test_every_admin_page_of_the_demo_answers_without_a_server_error(demo, superuser_client):
    urls = admin_urls()
    assert len(urls) > 200  # the crawl reached the rows, not only the lists
    errors = []
    for url in urls:
        response = superuser_client.get(url)
        if response.status_code >= 500:
            errors.append((url, response.status_code))
    assert errors == []
