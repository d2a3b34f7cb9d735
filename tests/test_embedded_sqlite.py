"""Smoke test of the embedded default (`make run`): SQLite, every set-up command, a real server.

Runs in subprocesses so it exercises SQLite even when the suite itself runs on PostgreSQL.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def sqlite_env(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'embedded.sqlite3'}",
        SERVICEHALL_VAR_DIR=str(tmp_path),
        DEBUG="1",
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    return env


def manage(env, *args):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )


def test_make_run_steps_serve_the_hall_on_sqlite(sqlite_env):
    manage(sqlite_env, "migrate", "--no-input", "-v", "0")
    manage(sqlite_env, "load_calendar")
    loaded = manage(sqlite_env, "load_catalog").stdout
    assert "created" in loaded
    again = manage(sqlite_env, "load_catalog").stdout
    assert "(0 created, 0 updated" in again  # idempotent
    logins = manage(sqlite_env, "demo_accounts").stdout
    assert "otpauth://" in logins
    assert "4 created" in manage(sqlite_env, "demo_cases").stdout
    assert "0 created" in manage(sqlite_env, "demo_cases").stdout

    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=sqlite_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/services/search/?q=%E6%8A%A4%E7%85%A7"
                ) as r:
                    body = r.read().decode()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        assert "普通护照" in body
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/services/item/HZ-QR-001/") as r:
            assert "婴儿出生登记" in r.read().decode()
    finally:
        server.terminate()
        server.wait(timeout=10)
