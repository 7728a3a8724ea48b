"""Ingestion and current-usage benchmark on the real stack: gunicorn + PostgreSQL, load from wrk.

Measures in one run:
  1. single-event POST /api/v1/events: requests/s and latency percentiles;
  2. batch POST /api/v1/events/batch (1,000 events a request): events/s;
  3. the ceiling: a raw PostgreSQL COPY of as many rows into the same events table (same
     partitions and indexes), in rows/s;
  4. GET current_usage for a subscription with 1,000,000 events in its period: p50/p95/p99.

Usage: python bench/bench_ingest.py [--duration 15] [--workers 4] [--connections 16]
Needs PostgreSQL (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/billing_bench,
dropped and recreated) and wrk (Debian package `wrk`).
"""

import argparse
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/billing_bench"
PORT = 8765


def run(cmd, env, **kwargs):
    return subprocess.run(cmd, env=env, cwd=ROOT, check=True, **kwargs)


def recreate_database(url: str) -> None:
    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin = ["psql", "-h", parsed.hostname, "-p", str(parsed.port or 5432), "-U", parsed.username]
    subprocess.run([*admin, "-qc", f"DROP DATABASE IF EXISTS {name}"], check=True)
    subprocess.run([*admin, "-qc", f"CREATE DATABASE {name}"], check=True)


def environment(db_url: str) -> dict:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="billing_site.settings.production",
        SECRET_KEY="bench-" + "x" * 40,
        DATABASE_URL=db_url,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="0",
        LOG_LEVEL="WARNING",
        API_RATE_LIMIT_PER_MINUTE="0",
        VAR_DIR=str(ROOT / "var" / "bench"),
        CELERY_TASK_ALWAYS_EAGER="1",
    )
    return env


def setup_data(env: dict) -> str:
    """Catalog, 11 subscriptions and an API key; returns the raw key."""
    code = """
from core.services import api_key_create
from customers.services import subscription_create
from plans.services import billable_metric_create, plan_create
metric = billable_metric_create(data={"name": "Tokens", "code": "tokens",
    "aggregation_type": "sum_agg", "field_name": "tokens",
    "filters": [{"key": "model", "values": ["gpt-4o", "llama"]}]})
graduated = {"graduated_ranges": [
    {"from_value": 0, "to_value": 1000000, "per_unit_amount": "0", "flat_amount": "0"},
    {"from_value": 1000001, "to_value": None, "per_unit_amount": "0.00002", "flat_amount": "0"}]}
plan_create(data={"name": "Pro", "code": "pro", "interval": "monthly", "amount_cents": 10000,
    "amount_currency": "USD", "charges": [{"billable_metric_id": str(metric.lago_id),
    "charge_model": "graduated", "properties": graduated, "filters": [{"values": {"model":
    ["gpt-4o"]}, "properties": {"graduated_ranges": [{"from_value": 0, "to_value": None,
    "per_unit_amount": "0.00003", "flat_amount": "0"}]}}]}]})
for n in range(10):
    subscription_create(data={"external_customer_id": f"bench_c_{n}", "plan_code": "pro",
        "external_id": f"bench_sub_{n}", "subscription_at": "2020-01-01T00:00:00Z"})
subscription_create(data={"external_customer_id": "big", "plan_code": "pro",
    "external_id": "bench_big", "subscription_at": "2020-01-01T00:00:00Z"})
print(api_key_create(name="bench")[1])
"""
    out = run(
        [sys.executable, "manage.py", "shell", "-c", code], env, capture_output=True, text=True
    )
    return out.stdout.strip().splitlines()[-1]


def start_server(env: dict, workers: int) -> subprocess.Popen:
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent))
    server = subprocess.Popen(
        [
            gunicorn,
            "billing_site.wsgi",
            "--bind",
            f"127.0.0.1:{PORT}",
            "--workers",
            str(workers),
            "--worker-class",
            "sync",
            "--keep-alive",
            "30",
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=ROOT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz", timeout=2):
                return server
        except OSError:
            time.sleep(0.5)
    server.kill()
    raise RuntimeError("gunicorn did not start")


def wrk(script: str, args: list[str], duration: int, connections: int, threads: int = 2) -> dict:
    cmd = [
        "wrk",
        "-t",
        str(threads),
        "-c",
        str(connections),
        "-d",
        f"{duration}s",
        "--timeout",
        "10s",
        "-s",
        str(BENCH / script),
        f"http://127.0.0.1:{PORT}",
        "--",
        *args,
    ]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    line = next(line for line in out.splitlines() if line.startswith("RESULT "))
    result = json.loads(line.removeprefix("RESULT "))
    result["per_second"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def copy_rows(env: dict, rows: int) -> float:
    """Raw COPY of `rows` events into usage_event; returns rows/s."""
    code = f"""
import io, time, json
from django.db import connection
now = "2026-01-15 12:00:00+00"
buf = io.StringIO()
for i in range({rows}):
    buf.write(f"c-{{i}}\\tbench_sub_{{i % 10}}\\ttokens\\t{{now}}\\t"
              '{{"tokens": 1, "model": "gpt-4o"}}\\t1\\t\\\\N\\t\\tf\\t' + now + "\\n")
data = buf.getvalue().encode()
connection.ensure_connection()
with connection.connection.cursor() as cur:
    cur.execute("SELECT 1")
    start = time.perf_counter()
    with cur.copy("COPY usage_event (transaction_id, external_subscription_id, code, timestamp, "
                  "properties, value, precise_total_amount_cents, error_code, already_billed, "
                  "created_at) FROM STDIN") as copy:
        copy.write(data)
    connection.connection.commit()
    print(time.perf_counter() - start)
"""
    out = run(
        [sys.executable, "manage.py", "shell", "-c", code], env, capture_output=True, text=True
    )
    return rows / float(out.stdout.strip().splitlines()[-1])


def load_big_subscription(env: dict, events: int) -> float:
    """1,000,000 events in the current month for bench_big by COPY (faster to set up than
    through the API), their hourly rollups rebuilt (timed), then VACUUM ANALYZE."""
    month = datetime.now(UTC).strftime("%Y-%m")
    code = f"""
import io
from django.db import connection
buf = io.StringIO()
models = ["gpt-4o", "llama", "other"]
for i in range({events}):
    day = 1 + i % 20
    buf.write(f"big-{{i}}\\tbench_big\\ttokens\\t{month}-{{day:02d}} 01:00:00+00\\t"
              '{{"tokens": ' + str(i % 1000) + ', "model": "' + models[i % 3] + '"}}\\t'
              + str(i % 1000) + "\\t\\\\N\\t\\tf\\t{month}-01 00:00:00+00\\n")
connection.ensure_connection()
with connection.connection.cursor() as cur:
    with cur.copy("COPY usage_event (transaction_id, external_subscription_id, code, timestamp, "
                  "properties, value, precise_total_amount_cents, error_code, already_billed, "
                  "created_at) FROM STDIN") as copy:
        copy.write(buf.getvalue().encode())
connection.connection.commit()
import time
from usage.rollups import rollups_rebuild
start = time.perf_counter()
rollups_rebuild(external_subscription_id="bench_big")
print(time.perf_counter() - start)
connection.connection.autocommit = True
with connection.connection.cursor() as cur:
    cur.execute("VACUUM ANALYZE usage_event")
    cur.execute("VACUUM ANALYZE usage_usagerollup")
"""
    out = run(
        [sys.executable, "manage.py", "shell", "-c", code], env, capture_output=True, text=True
    )
    return float(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--batch-connections", type=int, default=4)
    parser.add_argument("--big-events", type=int, default=1_000_000)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is needed: apt-get install wrk", file=sys.stderr)
        return 1
    db_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    recreate_database(db_url)
    env = environment(db_url)
    run([sys.executable, "manage.py", "migrate", "-v0"], env)
    key = setup_data(env)
    server = start_server(env, args.workers)
    try:
        single = wrk("wrk_single.lua", ["bench_sub_0", key], args.duration, args.connections)
        batch = wrk("wrk_batch.lua", [key, "1000", "10"], args.duration, args.batch_connections)
        batch_events = int(batch["requests"] * 1000)
        copy_rate = copy_rows(env, max(batch_events, 100_000))
        rebuild_seconds = load_big_subscription(env, args.big_events)
        path = "/api/v1/customers/big/current_usage?external_subscription_id=bench_big"
        usage = wrk("wrk_get.lua", [key, path], args.duration, 4)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    report(args, single, batch, copy_rate, usage, rebuild_seconds)
    return 0


def report(args, single, batch, copy_rate, usage, rebuild_seconds) -> None:
    batch_rate = batch["per_second"] * 1000
    out = io.StringIO()
    out.write(
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores; "
        f"gunicorn sync workers: {args.workers}; {args.duration}s per load.\n\n"
    )
    out.write("| measure | result | target |\n|---|---|---|\n")
    out.write(
        f"| single event, {args.connections} connections | {single['per_second']:,.0f} req/s, "
        f"p50 {single['p50_ms']} ms, p99 {single['p99_ms']} ms, non-2xx {single['non2xx']} "
        "| ≥ 1,500 req/s, p99 < 50 ms |\n"
    )
    out.write(
        f"| batch of 1,000, {args.batch_connections} connections | {batch_rate:,.0f} events/s "
        f"(p50 {batch['p50_ms']} ms a batch, non-2xx {batch['non2xx']}) "
        f"| ≥ 0.5 x COPY |\n"
    )
    out.write(f"| raw COPY, same table and indexes | {copy_rate:,.0f} rows/s | ceiling |\n")
    out.write(f"| batch / COPY | {batch_rate / copy_rate:.2f} | ≥ 0.50 |\n")
    out.write(
        f"| current_usage, {args.big_events:,} events in period, 4 connections | "
        f"p50 {usage['p50_ms']} ms, p95 {usage['p95_ms']} ms, p99 {usage['p99_ms']} ms "
        f"({usage['per_second']:,.0f} req/s, non-2xx {usage['non2xx']}) | p95 < 50 ms |\n"
    )
    out.write(
        f"| rebuild_rollups for those {args.big_events:,} events | {rebuild_seconds:.1f} s "
        "| (one-off, after a bulk load) |\n"
    )
    print(out.getvalue())


if __name__ == "__main__":
    sys.exit(main())
