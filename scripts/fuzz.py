"""make fuzz: schemathesis and hostile values against a live server on a fresh PostgreSQL database.

Creates a database, migrates it, creates an API key, starts gunicorn on a free loopback port,
seeds one of each resource through the API, then runs two bounded passes over every operation
of /api/v1/schema:

1. schemathesis (positive and negative generation, FUZZ_EXAMPLES per operation and mode) with
   its `not_a_server_error` check;
2. the hand-written hostile values of scripts/fuzz_hostile.py on every body field, query and
   path parameter.

Prints the requests and 5xx per operation and every response >= 500 with its request. Exits 1
on any 5xx when FUZZ_FAIL_ON_5XX is 1 (the default). Environment:

  FUZZ_SECONDS     wall-clock budget of each pass (default 300)
  FUZZ_EXAMPLES    schemathesis examples per operation and generation mode (default 20)
  FUZZ_PG          PostgreSQL server URL without database (postgres://postgres@127.0.0.1:5432)
  FUZZ_DB          database name to create (default billing_fuzz_<pid>); dropped at the end
  FUZZ_FAIL_ON_5XX 1 = exit 1 on any server error (default), 0 = report only
  FUZZ_REPORT      write the findings as JSON to this file
  FUZZ_SERVER_LOG  copy gunicorn's log (the tracebacks of the 5xx) to this file
"""

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts.fuzz_hostile import Probe, all_probes  # noqa: E402
from tests.live import free_port, http_status, wait_for  # noqa: E402

SECONDS = int(os.environ.get("FUZZ_SECONDS", "300"))
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "20"))
PG = os.environ.get("FUZZ_PG", "postgres://postgres@127.0.0.1:5432").rstrip("/")
DB = os.environ.get("FUZZ_DB", f"billing_fuzz_{os.getpid()}")
FAIL_ON_5XX = os.environ.get("FUZZ_FAIL_ON_5XX", "1") != "0"
REPORT = os.environ.get("FUZZ_REPORT")
SERVER_LOG = os.environ.get("FUZZ_SERVER_LOG")
PY = sys.executable
GUNICORN = ("--workers", "2", "--timeout", "30", "--graceful-timeout", "5")


class Tally:
    """Requests and server errors per operation ("GET /api/v1/customers")."""

    def __init__(self):
        self.requests: Counter = Counter()
        self.errors: dict[str, list[dict]] = defaultdict(list)

    def add(self, operation: str, status: int, request: dict) -> None:
        self.requests[operation] += 1
        if status >= 500:
            self.errors[operation].append({"status": status, **request})

    def print(self, title: str) -> None:
        total = sum(self.requests.values())
        errors = sum(len(rows) for rows in self.errors.values())
        print(f"\n## {title}: {total} requests, {errors} responses >= 500\n")
        print("| operation | requests | >= 500 |\n|---|---|---|")
        for operation in sorted(self.requests):
            print(f"| {operation} | {self.requests[operation]} | {len(self.errors[operation])} |")
        for operation, rows in sorted(self.errors.items()):
            for row in rows:
                print(f"\n5xx {operation}: {json.dumps(row)[:2000]}")


# --- the live server -------------------------------------------------------------------------


def psql(sql: str) -> None:
    subprocess.run(["psql", f"{PG}/postgres", "-qc", sql], check=True)


def server_env(var_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "FUZZ_"))}
    return env | {
        "DJANGO_SETTINGS_MODULE": "billing_site.settings.dev",
        "DEBUG": "0",
        "VAR_DIR": str(var_dir),
        "DATABASE_URL": f"{PG}/{DB}",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "CELERY_BROKER_URL": "filesystem://",
        "API_RATE_LIMIT_PER_MINUTE": "100000000",
    }


def manage(env: dict, *args: str) -> str:
    done = subprocess.run(
        [PY, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    return done.stdout


@contextlib.contextmanager
def live_server(var_dir: Path):
    """Fresh database, migrated; gunicorn (2 workers, 30 s timeout) until the block ends."""
    psql(f"CREATE DATABASE {DB}")
    env = server_env(var_dir)
    process = None
    try:
        manage(env, "migrate", "--noinput", "-v", "0")
        api_key = manage(env, "create_api_key", "--name", "fuzz").strip().splitlines()[-1]
        port = free_port()
        log = open(var_dir / "gunicorn.log", "w")  # noqa: SIM115 (closed with the process)
        process = subprocess.Popen(
            [*(PY, "-m", "gunicorn", "billing_site.wsgi", "-b", f"127.0.0.1:{port}"), *GUNICORN],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: http_status(f"{base}/healthz") == 200, 60, "gunicorn")
        yield base, api_key
    finally:
        if process:
            process.send_signal(signal.SIGTERM)
            process.wait(30)
        if SERVER_LOG and (var_dir / "gunicorn.log").exists():
            shutil.copyfile(var_dir / "gunicorn.log", SERVER_LOG)
        psql(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")


def call(base: str, key: str, method: str, path: str, body: bytes | None = None):
    """(status, parsed JSON or None) of one request; a dropped connection counts as 599."""
    request = urllib.request.Request(f"{base}{path}", data=body, method=method)  # noqa: S310
    request.add_header("Authorization", f"Bearer {key}")
    if body is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 (loopback)
            return response.status, _json(response.read())
    except urllib.error.HTTPError as error:
        return error.code, _json(error.read())
    except OSError:
        return 599, None


def _json(raw: bytes):
    try:
        return json.loads(raw)
    except ValueError:
        return None


# --- seeds -----------------------------------------------------------------------------------


def _lago_id(made: dict, name: str) -> str:
    return (made.get(name) or {}).get("lago_id", "")


def _fee_id(made: dict) -> str:
    return ((made.get("invoice") or {}).get("fees") or [{}])[0].get("lago_id", "")


# (name, path, root key, body from what was made before): one of each resource.
SEEDS = [
    ("tax", "/api/v1/taxes", "tax", lambda m: {"name": "VAT", "code": "fuzz_vat", "rate": "20"}),
    (
        "billable_metric",
        "/api/v1/billable_metrics",
        "billable_metric",
        lambda m: (
            {"name": "Tokens", "code": "fuzz_tokens", "aggregation_type": "sum_agg"}
            | {"field_name": "tokens"}
        ),
    ),
    (
        "plan",
        "/api/v1/plans",
        "plan",
        lambda m: (
            {"name": "Fuzz", "code": "fuzz_plan", "interval": "monthly"}
            | {"amount_cents": 1000, "amount_currency": "EUR"}
            | {
                "charges": [
                    {"billable_metric_id": _lago_id(m, "billable_metric")}
                    | {"charge_model": "standard", "properties": {"amount": "0.01"}}
                ]
            }
        ),
    ),
    (
        "customer",
        "/api/v1/customers",
        "customer",
        lambda m: {"external_id": "fuzz_cust", "currency": "EUR"},
    ),
    (
        "subscription",
        "/api/v1/subscriptions",
        "subscription",
        lambda m: (
            {"external_customer_id": "fuzz_cust", "plan_code": "fuzz_plan"}
            | {"external_id": "fuzz_sub"}
        ),
    ),
    (
        "event",
        "/api/v1/events",
        "event",
        lambda m: (
            {"transaction_id": "fuzz_tx", "external_subscription_id": "fuzz_sub"}
            | {"code": "fuzz_tokens", "properties": {"tokens": 5}}
        ),
    ),
    (
        "add_on",
        "/api/v1/add_ons",
        "add_on",
        lambda m: (
            {"name": "Setup", "code": "fuzz_addon", "amount_cents": 5000}
            | {"amount_currency": "EUR"}
        ),
    ),
    (
        "coupon",
        "/api/v1/coupons",
        "coupon",
        lambda m: (
            {"name": "Ten", "code": "fuzz_coupon", "coupon_type": "fixed_amount"}
            | {"amount_cents": 1000, "amount_currency": "EUR", "frequency": "once"}
            | {"expiration": "no_expiration"}
        ),
    ),
    (
        "applied_coupon",
        "/api/v1/applied_coupons",
        "applied_coupon",
        lambda m: {"coupon_code": "fuzz_coupon", "external_customer_id": "fuzz_cust"},
    ),
    (
        "wallet",
        "/api/v1/wallets",
        "wallet",
        lambda m: (
            {"external_customer_id": "fuzz_cust", "currency": "EUR", "rate_amount": "1"}
            | {"granted_credits": "10"}
        ),
    ),
    (
        "wallet_transactions",
        "/api/v1/wallet_transactions",
        "wallet_transaction",
        lambda m: {"wallet_id": _lago_id(m, "wallet"), "granted_credits": "1"},
    ),
    (
        "webhook_endpoint",
        "/api/v1/webhook_endpoints",
        "webhook_endpoint",
        lambda m: {"webhook_url": "https://example.com/hook"},
    ),
    (
        "invoice",
        "/api/v1/invoices",
        "invoice",
        lambda m: (
            {"external_customer_id": "fuzz_cust", "currency": "EUR"}
            | {"fees": [{"add_on_code": "fuzz_addon"}]}
        ),
    ),
    (
        "credit_note",
        "/api/v1/credit_notes",
        "credit_note",
        lambda m: (
            {"invoice_id": _lago_id(m, "invoice"), "reason": "other"}
            | {"credit_amount_cents": 100, "items": [{"fee_id": _fee_id(m), "amount_cents": 100}]}
        ),
    ),
]


def seed(base: str, key: str) -> dict:
    """Creates the SEEDS through the API; returns the values the probes put in fields and paths
    (a field named like a key gets its value; "_name" keys are path ids)."""
    made: dict = {}
    for name, path, root, body in SEEDS:
        status, data = call(base, key, "POST", path, json.dumps({root: body(made)}).encode())
        if status != 200:
            print(f"seed {path}: {status} {data}")
        made[name] = (data or {}).get(root) or (data or {}).get(name) or {}
    transactions = made["wallet_transactions"] or [{}]
    return {
        "billable_metric_id": _lago_id(made, "billable_metric"),
        "external_customer_id": "fuzz_cust",
        "external_subscription_id": "fuzz_sub",
        "plan_code": "fuzz_plan",
        "code": "fuzz_tokens",
        "add_on_code": "fuzz_addon",
        "coupon_code": "fuzz_coupon",
        "wallet_id": _lago_id(made, "wallet"),
        "invoice_id": _lago_id(made, "invoice"),
        "fee_id": _fee_id(made),
        "currency": "EUR",
        "amount_currency": "EUR",
        "timezone": "Europe/Paris",
        "country": "FR",
        "webhook_url": "https://example.com/hook",
        **{f"_{name}": _lago_id(made, name) for name in SEED_PATH_IDS},
        "_wallet_transaction": transactions[0].get("lago_id", ""),
    }


SEED_PATH_IDS = ("applied_coupon", "webhook_endpoint", "credit_note", "invoice", "wallet")


def path_seeds(seeds: dict):
    """The seeded id for a path parameter, by resource (the first segment after /api/v1/)."""
    by_resource = {
        "add_ons": "fuzz_addon",
        "billable_metrics": "fuzz_tokens",
        "coupons": "fuzz_coupon",
        "plans": "fuzz_plan",
        "taxes": "fuzz_vat",
        "customers": "fuzz_cust",
        "subscriptions": "fuzz_sub",
        "events": "fuzz_tx",
        "invoices": seeds["_invoice"],
        "credit_notes": seeds["_credit_note"],
        "wallets": seeds["_wallet"],
        "wallet_transactions": seeds["_wallet_transaction"],
        "webhook_endpoints": seeds["_webhook_endpoint"],
    }

    def lookup(path: str, name: str) -> str:
        if name == "applied_coupon_id":
            return seeds["_applied_coupon"]
        return by_resource.get(path.split("/")[3], "fuzz")

    return lookup


# --- the two passes --------------------------------------------------------------------------


def schemathesis_pass(base: str, key: str, tally: Tally, deadline: float) -> None:
    """FUZZ_EXAMPLES positive and negative cases per operation, checked by not_a_server_error."""
    import schemathesis

    schema = schemathesis.openapi.from_url(f"{base}/api/v1/schema?format=json")
    operations = [result.ok() for result in schema.get_all_operations()]
    operations.sort(key=lambda operation: operation.method.upper() == "DELETE")
    for operation in operations:
        for mode in schemathesis.GenerationMode:
            if time.monotonic() < deadline:
                _fuzz_operation(operation, mode, base, key, tally, deadline)


def _fuzz_operation(operation, mode, base: str, key: str, tally: Tally, deadline: float) -> None:
    import hypothesis
    from hypothesis import HealthCheck, Phase
    from schemathesis.checks import not_a_server_error
    from schemathesis.core.failures import FailureGroup

    label = f"{operation.method.upper()} {operation.path}"
    headers = {"Authorization": f"Bearer {key}"}

    @hypothesis.settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        if time.monotonic() > deadline:
            return
        try:
            response = case.call(base_url=base, headers=headers, timeout=60)
        except OSError:
            tally.add(label, 599, {"curl": case.as_curl_command(headers)})
            return
        try:
            case.validate_response(response, checks=[not_a_server_error])
            status = response.status_code
        except FailureGroup:
            status = max(response.status_code, 500)
        tally.add(label, status, {"curl": case.as_curl_command(headers)})

    run()


def hostile_pass(base: str, key: str, seeds: dict, tally: Tally, deadline: float) -> None:
    """Every probe of scripts/fuzz_hostile.py, four at a time, until the deadline."""
    _, schema = call(base, key, "GET", "/api/v1/schema?format=json")

    def send(probe: Probe) -> None:
        if time.monotonic() > deadline:
            return
        status, data = call(base, key, probe.method, probe.url_path(), probe.encoded_body())
        request = {"input": probe.label, "url": f"{probe.method} {probe.path}"}
        tally.add(probe.operation, status, request | {"response": data})

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(send, all_probes(schema, seeds, path_seeds(seeds))))


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="fuzz-") as tmp, live_server(Path(tmp)) as live:
        base, key = live
        seeds = seed(base, key)
        fuzzed, hostile = Tally(), Tally()
        print(f"schemathesis: {EXAMPLES} examples per operation and mode, {SECONDS} s at most")
        schemathesis_pass(base, key, fuzzed, time.monotonic() + SECONDS)
        fuzzed.print("schemathesis")
        print(f"\nhostile values: {SECONDS} s at most")
        hostile_pass(base, key, seeds, hostile, time.monotonic() + SECONDS)
        hostile.print("hostile values")
        errors = {**_named(fuzzed, "schemathesis"), **_named(hostile, "hostile")}
        if REPORT:
            Path(REPORT).write_text(json.dumps(errors, indent=1, default=str))
    count = sum(len(rows) for rows in errors.values())
    print(f"\nfuzz: {count} responses >= 500")
    return 1 if count and FAIL_ON_5XX else 0


def _named(tally: Tally, source: str) -> dict:
    return {f"{source}: {op}": rows for op, rows in tally.errors.items()}


if __name__ == "__main__":
    sys.exit(main())
