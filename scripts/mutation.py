"""Mutation testing of the money code with mutmut 3 (`make mutation [MODULE=core/money.py]`).

Each module is mutated in a work folder of its own, `var/mutation/<module>/`, holding a copy
of the project, a `pyproject.toml` whose `[tool.mutmut]` names that module and its test files,
and mutmut's `mutants/`. mutmut records which tests call which function, then runs, for each
mutant, only the selected tests that call the mutated function, fastest first, stopping at the
first failure; one worker at a time, under `nice`, so the machine stays usable.

Two adaptations, both to the copy only (the project's files are never touched):

* mutmut 3 skips decorated functions (`@property`, `@transaction.atomic`, ...). In the copy of
  the module under test, `@deco def f` is rewritten to `def f` followed by `f = deco(f)`, which
  Python defines as the same thing, so `coupons_apply`, `wallets_apply` and the credit-note
  `Estimate` properties are mutated too.
* Each mutant is run in a fresh pytest session, which would rebuild the SQLite test database
  from the migrations (~4 s). A root `conftest.py` in the copy loads it instead from a
  template built once per run by the same migrations (sqlite3 backup, a few ms).

Results go to `var/mutation/report.md` (per-module table, then every surviving mutant with its
diff) and `var/mutation/results.json`.

    python scripts/mutation.py                       # every module
    python scripts/mutation.py core/money.py         # one module
    python scripts/mutation.py --list                # the modules, scopes and test files
    python scripts/mutation.py invoices/services/coupons.py \
        --only 'invoices.services.coupons.x__spread__mutmut_7'
"""

from __future__ import annotations

import argparse
import fcntl
import fnmatch
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "var" / "mutation"
PYTHON = sys.executable

# Folders with Python code that the tests import (copied into mutants/); the rest is data.
SOURCE_PATHS = [
    "billing_site",
    "core",
    "customers",
    "invoices",
    "payments",
    "plans",
    "portal",
    "taxes",
    "usage",
    "webhooks",
]
ALSO_COPY = ["templates", "locale", "conftest.py"]
NOT_COPIED = ("docs/", "bench/", ".ci/", "scripts/")


@dataclass(frozen=True)
class Target:
    tests: tuple[str, ...]
    functions: tuple[str, ...] = ()  # mutated functions (Class.method); empty: the whole module
    scope: str = "the whole module"


TARGETS: dict[str, Target] = {
    "core/money.py": Target(
        tests=(
            "tests/core/test_money.py",
            "tests/currencies/test_multi_currency.py",
            "tests/invoices/test_half_cents.py",
            "tests/plans/test_prorated_pricing.py",
            "tests/taxes/test_tax_edge_cases.py",
        ),
    ),
    "plans/pricing.py": Target(
        tests=(
            "tests/plans/test_pricing.py",
            "tests/plans/test_pricing_mutants.py",
            "tests/plans/test_prorated_pricing.py",
            "tests/plans/test_included_and_projection.py",
            "tests/lago_docs/test_charge_models.py",
            "tests/usage/test_prorated_aggregation.py",
        ),
    ),
    "plans/periods.py": Target(
        tests=(
            "tests/plans/test_periods.py",
            "tests/plans/test_periods_mutants.py",
            "tests/usage/test_prorated_aggregation.py",
            "tests/invoices/test_period_close.py",
            "tests/lago_docs/test_plans_and_subscriptions.py",
        ),
    ),
    "taxes/selectors.py": Target(
        tests=("tests/taxes",),
    ),
    "invoices/services/taxes.py": Target(
        tests=(
            "tests/taxes",
            "tests/invoices/test_progressive_deductions.py",
            "tests/addons/test_one_off_invoices.py",
        ),
    ),
    "invoices/services/coupons.py": Target(
        tests=(
            "tests/coupons/test_coupon_deduction.py",
            "tests/coupons/test_coupon_deduction_mutants.py",
            "tests/invoices/test_progressive_deductions.py",
        ),
        functions=(
            "_Limits.rank",
            "_Limits.covers",
            "_limits",
            "_locked_active",
            "_deduction",
            "_spread",
            "_consume",
            "_apply_one",
            "_applied_total",
            "coupons_apply",
        ),
        scope="the deduction: `coupons_apply` and its helpers (the whole module; the coupon "
        "CRUD and validation are plans/coupons/)",
    ),
    "invoices/services/credit_notes.py": Target(
        tests=(
            "tests/invoices/test_credit_note_amounts.py",
            "tests/invoices/test_credit_note_mutants.py",
            "tests/invoices/test_credit_notes.py",
            "tests/lago_docs/test_credit_notes.py",
        ),
        functions=(
            "EstimateItem.*",
            "EstimateTax.*",
            "Estimate.*",
            "fee_creditable_cents",
            "_notes_sum",
            "invoice_paid_cents",
            "invoice_refundable_cents",
            "invoice_offset_cents",
            "invoice_offsettable_cents",
            "_fees_total_cents",
            "_precise_amount",
            "_coupon_share",
            "_item",
            "_items",
            "_taxes",
            "_taxes_rate",
            "_taxes_rounding_taken_back",
            "credit_note_estimate",
            "_given_split",
            "_absorb_last_cent",
            "_split_errors",
            "credit_note_split",
            "_store_lines",
            "credit_note_balance",
            "credit_notes_apply",
        ),
        scope="the amounts: the estimate (items, coupon shares, taxes, totals), the "
        "credit/refund/offset split and its limits, the stored lines, and the deduction "
        "`credit_notes_apply` with `credit_note_balance`; not numbering, locking, webhooks, "
        "reason parsing, void and update",
    ),
    "customers/wallets/ledger.py": Target(
        tests=(
            "tests/wallets/test_prepaid_credits.py",
            "tests/wallets/test_wallet_deduction_mutants.py",
            "tests/lago_docs/test_wallets.py",
        ),
        functions=(
            "credits_of",
            "money_cents",
            "cents_to_credits",
            "credit_sums",
            "wallet_usable",
            "wallet_applies",
            "share_out",
            "lock_wallets",
        ),
        scope="the ledger `wallets_apply` reads: credit sums, usable wallets, application "
        "scope, `share_out`, credits <-> money, the wallet locks; not wallet CRUD, top-ups, "
        "balances shown, alerts, expiry and recurring rules",
    ),
    "invoices/services/wallets.py": Target(
        tests=(
            "tests/wallets/test_prepaid_credits.py",
            "tests/wallets/test_wallet_deduction_mutants.py",
            "tests/lago_docs/test_wallets.py",
        ),
        functions=(
            "_fee_key",
            "_fee_items",
            "_consumed_cents",
            "_consume",
            "_annotated",
            "wallets_apply",
        ),
        scope="the deduction: `wallets_apply` and its consumption rows (fee keys, what each "
        "fee owes, what wallets already paid); not the usage owed shown in balances",
    ),
    "invoices/services/fees.py": Target(
        tests=(
            "tests/invoices/test_fees_mutants.py",
            "tests/invoices/test_period_close.py",
            "tests/invoices/test_plan_changes.py",
            "tests/invoices/test_prorated_charges.py",
            "tests/lago_docs/test_plans_and_subscriptions.py",
            "tests/lago_docs/test_minimums.py",
        ),
        functions=(
            "BillingPlan.amount_cents",
            "_fraction_amount",
            "_trial_end_day",
            "_first_billable_day",
            "covered_days",
            "coverage",
            "last_used_day",
            "_day_after",
            "_base_fee",
            "_charge_fees",
            "_details",
            "_spending_minimum",
            "_billed_in_period",
            "_commitment_fee",
            "_last_billable_day",
        ),
        scope="the fee amounts: base fee (days, proration, trial), usage fees and their "
        "details, spending minimum, minimum commitment, and the day coverage that decides "
        "which days a fee bills; not the invoice plumbing (`period_plan`, `starting_plan`, "
        "`plan_for`, `next_boundary`, fee names, the queries of earlier billings)",
    ),
    "invoices/services/termination.py": Target(
        tests=(
            "tests/invoices/test_plan_changes.py",
            "tests/invoices/test_termination_mutants.py",
            "tests/lago_docs/test_termination.py",
        ),
    ),
}

# The root conftest of the copy: the SQLite test database from a template (see the docstring).
CONFTEST = '''"""Written by scripts/mutation.py: the test database is restored from a template."""

import os
import sqlite3

import pytest


@pytest.fixture(scope="session")
def django_db_setup(django_db_blocker):
    from django.conf import settings
    from django.db import connections

    connection = connections["default"]
    assert connection.vendor == "sqlite", "mutation testing runs on SQLite"
    with django_db_blocker.unblock():
        connection.close()
        name = "file:mutation_db?mode=memory&cache=shared"
        connection.settings_dict["NAME"] = settings.DATABASES["default"]["NAME"] = name
        connection.ensure_connection()
        template = sqlite3.connect(os.environ["MUTATION_DB_TEMPLATE"])
        template.backup(connection.connection)
        template.close()
    yield
'''

BUILD_TEMPLATE = """
import sys, django
from django.conf import settings
django.setup()
from django.db import connection
connection.settings_dict["TEST"]["NAME"] = sys.argv[1]
connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
connection.close()
"""


KILLED = ("killed", "timeout")


def slug(module: str) -> str:
    return module.removesuffix(".py").replace("/", ".")


def mutant_globs(module: str, target: Target) -> list[str]:
    prefix = slug(module)
    if not target.functions:
        return []
    globs = []
    for function in target.functions:
        if "." in function:
            cls, method = function.split(".")
            globs.append(f"{prefix}.x\u01c1{cls}\u01c1{method}__mutmut_*")
        else:
            globs.append(f"{prefix}.x_{function}__mutmut_*")
    return globs


def project_files() -> list[str]:
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [f for f in out.splitlines() if not f.startswith(NOT_COPIED) and (ROOT / f).is_file()]


def undecorate(source: str) -> str:
    """`@d1 @d2 def f` -> `def f` then `f = d1(d2(f))`; staticmethod/classmethod and property
    setters are left alone (mutmut handles the first, the second would rebind the name)."""
    import libcst as cst

    class Rewriter(cst.CSTTransformer):
        def _split(self, node: cst.FunctionDef):
            decorators = [d.decorator for d in node.decorators]
            if not decorators:
                return None
            only = decorators[0] if len(decorators) == 1 else None
            if isinstance(only, cst.Name) and only.value in ("staticmethod", "classmethod"):
                return None
            for decorator in decorators:
                if isinstance(decorator, cst.Attribute) and decorator.attr.value in (
                    "setter",
                    "deleter",
                ):
                    return None
            value: cst.BaseExpression = node.name
            for decorator in reversed(decorators):
                value = cst.Call(func=decorator, args=[cst.Arg(value)])
            assign = cst.SimpleStatementLine(
                [cst.Assign([cst.AssignTarget(cst.Name(node.name.value))], value)]
            )
            return node.with_changes(decorators=()), assign

        def leave_FunctionDef(self, original, updated):
            split = self._split(updated)
            if split is None:
                return updated
            return cst.FlattenSentinel(list(split))

    return cst.parse_module(source).visit(Rewriter()).code


def sync(workdir: Path, module: str) -> None:
    """Copy the project into `workdir` (unchanged files keep their mtime, so mutmut keeps its
    cached results for them) and rewrite the module under test."""
    wanted = set(project_files())
    for name in wanted:
        src, dst = ROOT / name, workdir / name
        if dst.exists() and dst.stat().st_mtime == src.stat().st_mtime:
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)
    for path in workdir.rglob("*.py"):  # files deleted from the project
        rel = path.relative_to(workdir).as_posix()
        if rel.startswith(("mutants/", "var/")) or rel == "conftest.py":
            continue
        if rel not in wanted:
            path.unlink()
    rewritten = undecorate((ROOT / module).read_text())
    target = workdir / module
    if target.read_text() != rewritten:
        target.write_text(rewritten)
    conftest = workdir / "conftest.py"
    if not conftest.exists() or conftest.read_text() != CONFTEST:
        conftest.write_text(CONFTEST)


def toml_list(values) -> str:
    return "[" + ", ".join(json.dumps(v) for v in values) + "]"


def write_config(workdir: Path, module: str, target: Target) -> None:
    base = (ROOT / "pyproject.toml").read_text()
    config = f"""
[tool.mutmut]
source_paths = {toml_list(SOURCE_PATHS)}
only_mutate = {toml_list([module])}
also_copy = {toml_list(ALSO_COPY)}
pytest_add_cli_args = ["-p", "no:cacheprovider", "--hypothesis-seed=0", "-W", "ignore"]
pytest_add_cli_args_test_selection = {toml_list(target.tests)}
use_git_change_detection = false
"""
    text = base + config
    path = workdir / "pyproject.toml"
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def environment(workdir: Path) -> dict:
    env = dict(os.environ)
    for name in ("DATABASE_URL", "CELERY_BROKER_URL"):
        env.pop(name, None)  # SQLite and the embedded broker, as `make test`
    env["DJANGO_SETTINGS_MODULE"] = "billing_site.settings.test"
    env["MUTATION_DB_TEMPLATE"] = str(workdir / "var" / "template.sqlite3")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def build_template(workdir: Path, env: dict) -> None:
    path = Path(env["MUTATION_DB_TEMPLATE"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    subprocess.run([PYTHON, "-c", BUILD_TEMPLATE, str(path)], cwd=workdir, env=env, check=True)


def load_results(workdir: Path, module: str, target: Target) -> dict[str, str]:
    from mutmut.stats import status_by_exit_code

    meta = workdir / "mutants" / f"{module}.meta"
    data = json.loads(meta.read_text())
    globs = mutant_globs(module, target)
    results = {}
    for name, code in data["exit_code_by_key"].items():
        if globs and not any(fnmatch.fnmatch(name, g) for g in globs):
            continue
        results[name] = status_by_exit_code[code]
    return results


def show(workdir: Path, env: dict, name: str) -> str:
    out = subprocess.run(
        [PYTHON, "-m", "mutmut", "show", name], cwd=workdir, env=env, capture_output=True, text=True
    )
    return out.stdout.strip()


def run_module(module: str, only: list[str], fresh: bool, previous: dict | None) -> dict:
    target = TARGETS[module]
    workdir = WORK / slug(module)
    if previous and "statuses" not in previous:  # a summary written before statuses were kept
        previous["statuses"] = load_results(workdir, module, target)
    if only == ["survivors"]:
        if not previous:
            raise SystemExit(f"{module}: no earlier run, nothing to re-run")
        only = sorted(n for n, st in previous["statuses"].items() if st not in KILLED)
        if not only:
            return previous
    if fresh and workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    sync(workdir, module)
    write_config(workdir, module, target)
    env = environment(workdir)
    build_template(workdir, env)
    names = only or mutant_globs(module, target)
    if only:  # tests changed since: let mutmut record again which test calls which function
        (workdir / "mutants" / "mutmut-stats.json").unlink(missing_ok=True)
    log = workdir / "mutmut.log"
    print(f"== {module}: mutmut run (log: {log.relative_to(ROOT)})", flush=True)
    with log.open("w") as out:
        subprocess.run(
            ["nice", "-n", "10", PYTHON, "-m", "mutmut", "run", "--max-children", "1", *names],
            cwd=workdir,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=True,
        )
    seconds = round(time.monotonic() - started)
    results = load_results(workdir, module, target)
    if only and previous:
        # A re-run of some mutants (after tests were added): mutmut forgets its other results
        # when the test selection changes, so the others keep the verdict of the full run.
        rerun = {n for n in results if any(fnmatch.fnmatch(n, g) or n == g for g in only)}
        results = previous["statuses"] | {n: results[n] for n in rerun}
    counts: dict[str, int] = {}
    for status in results.values():
        counts[status] = counts.get(status, 0) + 1
    survivors = {
        name: show(workdir, env, name)
        for name, status in sorted(results.items())
        if status not in KILLED
    }
    summary = {
        "module": module,
        "scope": target.scope,
        "tests": list(target.tests),
        "mutants": len(results),
        "counts": counts,
        "seconds": seconds,
        "statuses": results,
        "survivors": survivors,
    }
    if only and previous:  # the time stays the full run's
        summary["seconds"] = previous["seconds"]
        summary["rerun_seconds"] = previous.get("rerun_seconds", 0) + seconds
    print(f"   {len(results)} mutants {counts} in {seconds} s", flush=True)
    return summary


def ratio(summary: dict) -> str:
    counts, total = summary["counts"], summary["mutants"]
    killed = sum(counts.get(status, 0) for status in KILLED)
    return f"{100 * killed / total:.1f} %" if total else "-"


def write_report(summaries: dict[str, dict]) -> None:
    lines = [
        "| module | mutants | killed | timeout | survived | other | ratio | time |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for module, s in summaries.items():
        c = s["counts"]
        other = s["mutants"] - c.get("killed", 0) - c.get("timeout", 0) - c.get("survived", 0)
        lines.append(
            f"| `{module}` | {s['mutants']} | {c.get('killed', 0)} | {c.get('timeout', 0)} | "
            f"{c.get('survived', 0)} | {other} | {ratio(s)} | {s['seconds']} s |"
        )
    for module, s in summaries.items():
        lines += ["", f"## {module}", "", f"scope: {s['scope']}", ""]
        for name, diff in s["survivors"].items():
            lines += [f"### {name}", "", "```diff", diff, "```", ""]
    (WORK / "report.md").write_text("\n".join(lines) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help="modules to mutate (default: all)")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        help="mutant names or globs to re-run; 'survivors': those the last run did not kill",
    )
    parser.add_argument("--fresh", action="store_true", help="forget cached mutmut results")
    parser.add_argument("--list", action="store_true", help="print modules and exit")
    args = parser.parse_args()
    if args.list:
        for module, target in TARGETS.items():
            print(f"{module}: {target.scope}\n    tests: {' '.join(target.tests)}")
        return 0
    modules = args.modules or list(TARGETS)
    unknown = [m for m in modules if m not in TARGETS]
    if unknown:
        parser.error(f"unknown module(s) {unknown}; known: {', '.join(TARGETS)}")
    WORK.mkdir(parents=True, exist_ok=True)
    lock = (WORK / ".lock").open("w")
    try:  # one mutation run at a time on the machine: a second one waits
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print("waiting for the mutation run in progress to finish", flush=True)
        fcntl.flock(lock, fcntl.LOCK_EX)
    results_path = WORK / "results.json"
    summaries = json.loads(results_path.read_text()) if results_path.exists() else {}
    for module in modules:
        previous = summaries.get(module)
        summaries[module] = run_module(module, args.only, args.fresh, previous)
        ordered = {m: summaries[m] for m in TARGETS if m in summaries}
        results_path.write_text(json.dumps(ordered, indent=2))
        write_report(ordered)
    print(f"report: {(WORK / 'report.md').relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
