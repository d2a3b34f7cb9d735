"""What the benchmarks share: a fresh PostgreSQL database, manage.py, gunicorn serving the
hall (DEBUG off) and wrk's latency output. Imported by bench/names.py and bench/booking.py
(run as scripts, so this directory is on sys.path)."""

from __future__ import annotations

import re
import subprocess
import time
import urllib.request
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
PY = str(ROOT / ".venv" / "bin" / "python")
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
SERVER_PG = "postgres://postgres@127.0.0.1:5432/postgres"


def say(text: str = "") -> None:
    print(text, flush=True)


def manage(env: dict, *args: str) -> float:
    started = time.perf_counter()
    subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, check=True)
    return time.perf_counter() - started


def fresh_database(name: str) -> None:
    with psycopg.connect(SERVER_PG, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0")


def start_server(
    env: dict,
    port: int,
    workers: int,
    ready_path: str = "/api/bench/floor",
    worker_class: tuple[str, ...] = ("sync",),
) -> subprocess.Popen:
    """gunicorn with `workers` workers (sync unless `worker_class` says otherwise, e.g.
    ("gthread", "--threads", "1")) on 127.0.0.1:`port`, once `ready_path` answers."""
    server = subprocess.Popen(
        [
            GUNICORN,
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--worker-class",
            *worker_class,
            "--access-logfile",
            "-",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}{ready_path}", timeout=2).read()
            return server
        except OSError:
            if time.monotonic() > deadline:
                server.kill()
                raise
            time.sleep(0.3)


LATENCY = re.compile(r"^\s+(50|99)(?:\.000)?%\s+([\d.]+)(us|ms|s)\s*$", re.M)
RATE = re.compile(r"Requests/sec:\s+([\d.]+)")
ERRORS = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)|Socket errors: (.*)")


def to_ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of `values` (any order)."""
    ordered = sorted(values)
    return ordered[max(int(-(-fraction * len(ordered) // 1)), 1) - 1]
