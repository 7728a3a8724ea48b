"""The period close through a real Celery worker on Redis, killed with SIGKILL in the middle.

Three hundred subscriptions are due at once; this process fires beat's close task through the
broker, the worker fans it out into one billing task per subscription, and once some but not
all invoices exist the whole worker (main process and children) is killed. The tasks it held
are unacknowledged (acks_late), so a new worker gets them back from Redis after the visibility
timeout, next to the ones never delivered. The result must be the clean run's: one invoice per
subscription and boundary, numbers without a gap, each total the plan's monthly fee.

PostgreSQL + Redis only (the worker shares pytest-django's test database). It takes about a
minute on two cores (docs/testing.md)."""

import copy
import json
import os
import signal
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from urllib.parse import quote

import pytest
import redis
import time_machine
from django.db import connection
from django.utils import timezone

from billing_site.celery import app as celery_app
from customers.models import Customer, Subscription
from customers.services import subscription_create
from invoices.models import Invoice, InvoiceSubscription
from invoices.tasks import bill_due_subscriptions
from tests.factories import make_plan
from tests.live import ROOT, process_env, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.live, pytest.mark.django_db(transaction=True)]
COUNT = 300
FEES = {"small": 1000, "medium": 2500, "large": 4999}  # monthly, in arrears, cents
KILL_AFTER = 20  # invoices made before the kill
VISIBILITY_SECONDS = 3  # the second worker takes back what the first held after this long
# The workers check for expired unacknowledged tasks every second (kombu's default is every
# 10 polls of 10 s), so the test waits seconds, not minutes, for the redelivery; and they send
# the invoices' PDF tasks to a queue nobody reads (PDFs are not the close, and 300 renderings
# would take minutes on two cores).
WORKER = """
from billing_site.celery import app
app.conf.broker_transport_options = {
    **app.conf.broker_transport_options,
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
app.conf.task_routes = {"invoices.deliver_finalized_invoice": {"queue": "documents"}}
app.worker_main(["worker", "--loglevel=INFO", "--concurrency=2", "--without-heartbeat",
                 "--without-mingle", "--without-gossip", "--hostname", "%s@%%h"])
"""


def _database_url() -> str:
    """The test database as a URL another process can open."""
    db = connection.settings_dict
    auth = quote(db["USER"] or "")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"])
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Workers:
    """Start real worker processes on the test database and broker; kill or stop them."""

    def __init__(self, tmp_path, broker_url: str):
        self.tmp_path, self.broker_url, self.running = tmp_path, broker_url, []

    def start(self, name: str, **env: str) -> subprocess.Popen:
        log_path = self.tmp_path / f"{name}.log"
        log = open(log_path, "w")  # noqa: SIM115 (closed with the process)
        environment = process_env(
            self.tmp_path,
            DATABASE_URL=_database_url(),
            CELERY_BROKER_URL=self.broker_url,
            LOG_LEVEL="INFO",
            **env,
        )
        process = subprocess.Popen(
            [sys.executable, "-c", WORKER % name],
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        process.log, process.log_path = log, log_path
        self.running.append(process)
        wait_for(lambda: "ready." in log_path.read_text(), what=f"worker {name} to be ready")
        return process

    def kill(self, process: subprocess.Popen) -> None:
        """SIGKILL to the worker and its children: nothing acknowledged, nothing cleaned up."""
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        process.log.close()
        self.running.remove(process)

    def stop_all(self) -> None:
        for process in list(self.running):
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
            process.log.close()
            self.running.remove(process)


@pytest.fixture
def workers(tmp_path, transactional_db, settings):
    broker_url = settings.CELERY_BROKER_URL
    if not broker_url.startswith("redis"):
        pytest.skip("needs a Redis broker (CELERY_BROKER_URL=redis://…)")
    broker = redis.Redis.from_url(broker_url)
    broker.flushdb()  # this test's own Redis database: no message or unacked entry of another
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    pool = Workers(tmp_path, broker_url)
    try:
        yield pool
    finally:
        celery_app.conf.task_always_eager = eager
        pool.stop_all()
        broker.flushdb()  # the PDF tasks still queued
        connection.close()


def _month_start(moment: datetime, months_back: int = 0) -> datetime:
    month = moment.year * 12 + moment.month - 1 - months_back
    return datetime(month // 12, month % 12 + 1, 1, tzinfo=UTC)


def _due_subscriptions() -> dict[int, int]:
    """COUNT subscriptions that started last month, due now: {subscription id: monthly fee}.
    One of each plan through the service, the rest copied from them with bulk_create."""
    started = _month_start(timezone.now(), months_back=1)
    templates = []
    for code, fee in FEES.items():
        make_plan(code, fee)
        with time_machine.travel(started, tick=False):
            made = subscription_create(
                data={"external_customer_id": code, "plan_code": code, "external_id": code}
            )
        templates.append(Subscription.objects.select_related("customer").get(pk=made.pk))
    customers, subscriptions = [], []
    for n in range(COUNT - len(templates)):
        template = templates[n % len(templates)]
        customer = copy.copy(template.customer)
        customer.pk, customer.lago_id, customer.external_id = None, uuid.uuid4(), f"c{n}"
        customers.append(customer)
        subscription = copy.copy(template)
        subscription.pk, subscription.lago_id, subscription.external_id = (
            None,
            uuid.uuid4(),
            f"s{n}",
        )
        subscriptions.append(subscription)
    for customer, subscription in zip(
        Customer.objects.bulk_create(customers), subscriptions, strict=True
    ):
        subscription.customer = customer
    Subscription.objects.bulk_create(subscriptions)
    rows = Subscription.objects.select_related("plan")
    return {row.pk: row.plan.amount_cents for row in rows}


def _unacked_task_ids(broker: redis.Redis) -> list[str]:
    """Ids of the tasks kombu keeps as delivered but not acknowledged (its `unacked` hash)."""
    entries = broker.hvals("unacked")
    return [json.loads(entry)[0]["headers"]["id"] for entry in entries]


def test_a_worker_killed_mid_close_leaves_the_same_invoices_as_a_clean_run(workers):
    fees = _due_subscriptions()
    assert len(fees) == COUNT
    broker = redis.Redis.from_url(workers.broker_url)
    first = workers.start("first")
    bill_due_subscriptions.delay()  # what beat sends every five minutes
    wait_for(lambda: Invoice.objects.count() >= KILL_AFTER, what="the close to be under way")
    workers.kill(first)
    made_before = Invoice.objects.count()
    assert made_before < COUNT, "the close finished before the kill: raise COUNT"
    held = _unacked_task_ids(broker)
    assert held  # tasks the dead worker was running or had reserved, never acknowledged

    second = workers.start("second", CELERY_VISIBILITY_TIMEOUT=str(VISIBILITY_SECONDS))
    wait_for(
        lambda: (
            Invoice.objects.count() >= COUNT
            and not Subscription.objects.filter(next_billing_at__lte=timezone.now()).exists()
        ),
        timeout=300,
        what="every subscription billed after the restart",
    )

    redelivered = second.log_path.read_text()
    assert all(f"[{task_id}] succeeded" in redelivered for task_id in held)
    boundary = _month_start(timezone.now())
    billings = InvoiceSubscription.objects.all()
    assert sorted(billings.values_list("subscription_id", flat=True)) == sorted(fees)
    assert set(billings.values_list("boundary", flat=True)) == {boundary}
    invoices = Invoice.objects.all()
    assert invoices.count() == COUNT  # no invoice without its billing either
    assert {i.status for i in invoices} == {"finalized"}
    numbers = sorted(invoices.values_list("number", flat=True))
    prefix = numbers[0].rsplit("-", 1)[0]
    assert numbers == [f"{prefix}-{n:04d}" for n in range(1, COUNT + 1)]  # gapless
    totals = {
        b.subscription_id: b.invoice.total_amount_cents for b in billings.select_related("invoice")
    }
    assert totals == fees  # the clean run: each invoice is its plan's full month
    assert sum(totals.values()) == 100 * (1000 + 2500 + 4999)
