"""What the benchmarks share: a fresh PostgreSQL database, manage.py, gunicorn serving the
hall (DEBUG off), the ASGI process of the console's WebSockets, wrk's latency output and how
busy the machine was. Imported by bench/names.py, bench/booking.py and bench/alarms.py (run
as scripts, so this directory is on sys.path)."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import time
import urllib.error
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
    extra_args: tuple[str, ...] = (),
) -> subprocess.Popen:
    """gunicorn with `workers` workers (sync unless `worker_class` says otherwise, e.g.
    ("gthread", "--threads", "1")) on 127.0.0.1:`port`, once `ready_path` answers;
    `extra_args` go to gunicorn as they are (e.g. ("--config", "bench/x.py"))."""
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
            *extra_args,
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


def start_asgi(env: dict, port: int, server: str = "daphne") -> subprocess.Popen:
    """The ASGI process (config.asgi: the console's WebSockets) on 127.0.0.1:`port` under
    daphne (the README's production example) or uvicorn, once it answers HTTP."""
    bin_dir = ROOT / ".venv" / "bin"
    if server == "daphne":
        command = [str(bin_dir / "daphne"), "-b", "127.0.0.1", "-p", str(port), "-v", "0"]
        command.append("config.asgi:application")
    elif server == "uvicorn":
        command = [str(bin_dir / "uvicorn"), "config.asgi:application", "--host", "127.0.0.1"]
        command += ["--port", str(port), "--log-level", "warning", "--no-access-log"]
    else:
        raise ValueError(f"unknown ASGI server {server!r}")
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/bench/floor", timeout=2).read()
            return process
        except urllib.error.HTTPError:
            return process  # it answers (whatever the status): it is up
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise
            time.sleep(0.3)


def stop(process: subprocess.Popen, timeout: float = 30) -> None:
    """SIGTERM a server started here and wait for it (SIGKILL if it does not end)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class CpuMeter:
    """How busy the whole machine was between start() and stop(): the share of all CPUs'
    time not idle (from /proc/stat), and the load averages at the end."""

    @staticmethod
    def _sample() -> tuple[int, int]:
        with open("/proc/stat") as fh:
            fields = [int(v) for v in fh.readline().split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
        return sum(fields), idle

    def start(self) -> CpuMeter:
        self.begin = self._sample()
        return self

    def stop(self) -> dict:
        total, idle = self._sample()
        spent = total - self.begin[0]
        busy = 1 - (idle - self.begin[1]) / spent if spent else 0.0
        return {"busy": busy, "load": os.getloadavg()}


def machine_speed() -> str:
    """How fast this machine runs plain Python right now: the CPU time of a fixed loop (best
    of three). It catches a slower CPU, not everything: on this host the hall's own work
    has cost half as much again from one minute to the next with this loop unchanged."""
    best = float("inf")
    for _ in range(3):
        started, total = time.process_time(), 0
        for i in range(3_000_000):
            total += i * i % 7
        best = min(best, time.process_time() - started)
    return f"a fixed Python loop takes {best:.3f} s of CPU (lower is faster)"


def process_tree(pid: int) -> list[int]:
    """`pid` and all its descendants (from /proc/<pid>/task/*/children)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            with contextlib.suppress(OSError):
                todo += [int(c) for c in (task / "children").read_text().split()]
    return found


def cpu_seconds(pids) -> float:
    """User + system CPU time consumed so far by the processes `pids` (those still alive)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def pids_named(name: str) -> list[int]:
    """Processes whose command name is `name` (e.g. redis-server), for CPU accounting only."""
    pids = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if (entry / "comm").read_text().strip() == name:
                pids.append(int(entry.name))
        except OSError:
            pass
    return pids


def backends_of(url: str, database: str) -> list[int]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [database],
        ).fetchall()
    return [pid for (pid,) in rows]


class CpuAccount:
    """CPU seconds per part of the system over the load: each part's processes' user +
    system time after minus before (a PostgreSQL backend born during the load from zero)."""

    def __init__(self, parts: dict[str, list[int]]):
        self.parts = parts
        self.before = {pid: cpu_seconds([pid]) for pid in pids_named("postgres")}
        self.before.update({pid: cpu_seconds([pid]) for ps in parts.values() for pid in ps})

    def stop(self, postgres: list[int]) -> dict[str, float]:
        """`postgres`: the bench database's backends; the server's other processes (WAL
        writer, checkpointer, …) are a part of their own."""
        others = [pid for pid in pids_named("postgres") if pid not in postgres]
        parts = {
            **self.parts,
            "PostgreSQL (the bench database's backends)": postgres,
            "PostgreSQL (WAL writer, checkpointer, other databases)": others,
        }
        return {
            name: sum(cpu_seconds([pid]) - self.before.get(pid, 0.0) for pid in pids)
            for name, pids in parts.items()
        }
