"""`make run`'s process set: web, worker and beat from the Procfile, on the embedded defaults.

A beat-scheduled task (the heartbeat) must travel through the broker and be executed by the
worker; the web server must answer /healthz and /admin/.
"""

import os
import signal
import sqlite3
import subprocess
import sys

import pytest

from tests.live import ROOT, free_port, http_status, process_env, wait_for

pytestmark = pytest.mark.live


def _heartbeats(db_path) -> int:
    try:
        with sqlite3.connect(db_path) as conn:
            row = conn.execute("SELECT runs FROM core_heartbeat WHERE name = 'beat'").fetchone()
    except sqlite3.OperationalError:
        return 0
    return row[0] if row else 0


def test_web_worker_and_beat_run_a_scheduled_task(tmp_path):
    port = free_port()
    env = process_env(tmp_path, WEB_PORT=str(port), WEB_WORKERS="1", WORKER_CONCURRENCY="1")
    manage = [sys.executable, "manage.py"]
    subprocess.run(
        [*manage, "migrate", "--noinput"], cwd=ROOT, env=env, check=True, capture_output=True
    )
    db_path = tmp_path / "db.sqlite3"
    with sqlite3.connect(db_path) as conn:  # run the heartbeat every second for this test
        conn.execute(
            "UPDATE django_celery_beat_intervalschedule SET every = 1 WHERE id = "
            "(SELECT interval_id FROM django_celery_beat_periodictask"
            " WHERE task = 'core.heartbeat')"
        )
    log = open(tmp_path / "honcho.log", "w")  # noqa: SIM115
    stack = subprocess.Popen(
        [str(ROOT / ".venv/bin/honcho"), "start", "-f", "Procfile"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: http_status(f"{base}/healthz") == 200, what="/healthz 200")
        assert http_status(f"{base}/admin/login/") == 200
        wait_for(lambda: _heartbeats(db_path) >= 2, what="two heartbeats executed by the worker")
    finally:
        os.killpg(stack.pid, signal.SIGTERM)
        stack.wait(timeout=30)
        log.close()
    assert stack.returncode is not None
