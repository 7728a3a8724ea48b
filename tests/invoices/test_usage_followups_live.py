"""In-advance billing through a real Redis broker and a real Celery worker process.

Events are ingested back to back in this process (as the web process would); their follow-ups
travel through Redis to the worker, which bills them from the shared PostgreSQL test database.
Each call must be billed exactly once; a follow-up that never reaches the worker is billed by
the period close. PostgreSQL only: the worker needs a database shared across processes, which
pytest-django's PostgreSQL test database is (SQLite's in-memory one is not)."""

import os
import signal
import subprocess
import sys
from datetime import timedelta
from unittest import mock
from urllib.parse import quote

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from billing_site.celery import app as celery_app
from customers.services import subscription_create
from invoices.models import Fee, Invoice
from invoices.services import subscription_bill_due
from invoices.tasks import usage_followup
from tests.factories import make_metric, make_plan, standard_charge
from tests.live import ROOT, process_env, wait_for
from usage.services import events_ingest

pytestmark = [pytest.mark.postgres, pytest.mark.live, pytest.mark.django_db(transaction=True)]
CALL = 25  # cents per call, billed in advance
DELAY = 2  # the debounce delay of these tests, in seconds


def _database_url() -> str:
    """The test database as a URL another process can open."""
    db = connection.settings_dict
    auth = quote(db["USER"] or "")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"])
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def worker(tmp_path, transactional_db, settings):
    """A Celery worker on the test database and broker; this process enqueues for real."""
    broker_url = settings.CELERY_BROKER_URL
    if not broker_url.startswith("redis"):
        pytest.skip("needs a Redis broker (CELERY_BROKER_URL=redis://…)")
    settings.USAGE_FOLLOWUP_DELAY_SECONDS = DELAY
    cache.clear()
    celery_app.control.purge()
    env = process_env(
        tmp_path,
        DATABASE_URL=_database_url(),
        CELERY_BROKER_URL=broker_url,
        LOG_LEVEL="INFO",
    )
    log_path = tmp_path / "worker.log"
    log = open(log_path, "w")  # noqa: SIM115
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "celery", "-A", "billing_site", "worker"),
            *("--loglevel=INFO", "--concurrency=2", "--without-heartbeat", "--without-mingle"),
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        wait_for(lambda: "ready." in log_path.read_text(), what="the worker to be ready")
        yield log_path
    finally:
        celery_app.conf.task_always_eager = eager
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        log.close()
        celery_app.control.purge()  # what this test enqueued after the worker's last run
        connection.close()


@pytest.fixture
def subscription():
    calls = make_metric("calls", field_name="units")
    make_plan("pro", 0, charges=[standard_charge(calls, "0.25", pay_in_advance=True)])
    return subscription_create(
        data={"external_customer_id": "cust", "plan_code": "pro", "external_id": "live-sub"}
    )


def send(tx: str, calls: int, timestamp=None) -> None:
    events_ingest(
        raws=[
            {
                "transaction_id": tx,
                "external_subscription_id": "live-sub",
                "code": "calls",
                "timestamp": (timestamp or timezone.now()).isoformat(),
                "properties": {"units": calls},
            }
        ]
    )


def billed_in_advance() -> int:
    fees = Fee.objects.filter(invoice__billings__invoicing_reason="in_advance_charge")
    return sum(fees.values_list("amount_cents", flat=True))


def worker_idle() -> bool:
    """No follow-up waiting (ETA), reserved or running in the worker."""
    inspect = celery_app.control.inspect(timeout=1)
    replies = [inspect.scheduled(), inspect.reserved(), inspect.active()]
    if any(reply is None for reply in replies):
        return False
    return not any(tasks for reply in replies for tasks in reply.values())


def test_back_to_back_events_are_each_billed_once_by_the_worker(worker, subscription):
    for n, calls in enumerate([3, 5, 2, 7, 1]):
        send(f"burst-{n}", calls)  # back to back, well inside one debounce delay
    wait_for(lambda: billed_in_advance() == 18 * CALL, what="the burst billed by the worker")
    send("after-1", 4)
    wait_for(lambda: billed_in_advance() == 22 * CALL, what="the next event billed")
    moment = timezone.now()
    send("after-2", 6, moment)
    send("after-2", 6, moment)  # a retry of the same event: stored once, billed once
    wait_for(lambda: billed_in_advance() == 28 * CALL, what="the last event billed")
    wait_for(worker_idle, what="the worker to be idle")
    assert billed_in_advance() == 28 * CALL  # and nothing more once every run is done
    invoices = Invoice.objects.filter(billings__invoicing_reason="in_advance_charge")
    assert all(i.status == "finalized" for i in invoices)
    assert sum(i.total_amount_cents for i in invoices) == 28 * CALL
    assert "invoices.usage_followup" in worker.read_text()  # the worker billed, not this process


def test_a_follow_up_that_never_reaches_the_worker_is_billed_by_the_close(worker, subscription):
    send("first", 3)
    wait_for(lambda: billed_in_advance() == 3 * CALL, what="the first event billed")
    wait_for(worker_idle, what="the worker to be idle")
    cache.clear()  # so that the next event schedules a run, and that run is lost
    with mock.patch.object(usage_followup, "apply_async") as lost:
        send("lost", 5)
    assert lost.call_count == 1
    wait_for(worker_idle, what="the worker to be idle")
    assert billed_in_advance() == 3 * CALL
    subscription.refresh_from_db()
    boundary = subscription.next_billing_at
    with time_machine.travel(boundary + timedelta(minutes=1), tick=False):
        [close] = subscription_bill_due(subscription_id=subscription.pk)
    swept = close.fees.get(charge__isnull=False)
    assert (swept.units, swept.amount_cents, swept.pay_in_advance) == (5, 5 * CALL, True)
    assert close.total_amount_cents == 5 * CALL
    assert billed_in_advance() + swept.amount_cents == 8 * CALL
