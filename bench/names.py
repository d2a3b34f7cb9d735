"""make bench-names: the newborn same-name query at city scale.

One run, printed as it goes:
1. generate N synthetic residents (default 10,000,000; cached under var/bench/ per N and seed),
2. load them into a fresh PostgreSQL database with the registry importer (load time),
3. build the name statistics (build time), then table and index sizes,
4. serve the hall with gunicorn (2 workers, DEBUG off) and drive it with wrk at 1, 8 and 32
   concurrent connections for: the HTTP floor (same stack, constant answer), the name API with
   registered names (exact counts + homophones), the name API with never-registered spellings of
   common pronunciations (the answer is all homophones), and the naive baseline (COUNT(*) over
   the person table through a plain index, exact counts only),
5. a summary with the ratios the issue sets targets for.

Needs PostgreSQL on 127.0.0.1:5432 and wrk (the Makefile installs Debian's). Never run in CI.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import psycopg
from harness import (
    ERRORS,
    LATENCY,
    PY,
    RATE,
    ROOT,
    fresh_database,
    manage,
    say,
    start_server,
    to_ms,
)


def sizes(url: str) -> list[tuple[str, str, str, str]]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT c.relname, pg_size_pretty(pg_table_size(c.oid)), "
            "pg_size_pretty(pg_indexes_size(c.oid)), to_char(c.reltuples, 'FM999,999,999,999') "
            "FROM pg_class c WHERE c.relname IN "
            "('registry_person', 'registry_household', 'registry_namestat', 'registry_pinyinstat') "
            "ORDER BY pg_total_relation_size(c.oid) DESC"
        ).fetchall()


def samples(url: str, workdir: Path, seed: int) -> tuple[Path, Path]:
    """Registered names (popular and rare alike), and never-registered spellings that sound
    like popular names (their answer is all homophones)."""
    rng = random.Random(seed)
    with psycopg.connect(url) as conn:
        popular = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM registry_namestat ORDER BY total DESC LIMIT 500"
            )
        ]
        anyname = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM registry_namestat TABLESAMPLE SYSTEM (1) LIMIT 1500"
            )
        ]
        # Same surname, a rarely used character with a common reading for the given name.
        rare = "玮炜暐韡娓葳珺琤璟"
        candidates = {n[0] + rng.choice(rare) + n[2:] for n in popular if len(n) >= 2}
        taken = {
            r[0]
            for r in conn.execute(
                "SELECT name FROM registry_namestat WHERE name = ANY(%s)", [sorted(candidates)]
            )
        }
    unregistered = sorted(candidates - taken)
    exact = workdir / "names-exact.txt"
    homophone = workdir / "names-homophone.txt"
    exact.write_text("\n".join(urllib.parse.quote(n) for n in popular + anyname) + "\n")
    homophone.write_text("\n".join(urllib.parse.quote(n) for n in unregistered) + "\n")
    return exact, homophone


def wrk(port: int, path: str, names: Path, connections: int, seconds: int) -> dict:
    env = {**os.environ, "BENCH_NAMES": str(names), "BENCH_PATH": path}
    threads = min(connections, 2)
    out = subprocess.run(
        [
            "wrk",
            "-t",
            str(threads),
            "-c",
            str(connections),
            "-d",
            f"{seconds}s",
            "--latency",
            "-s",
            str(ROOT / "bench" / "names.lua"),
            f"http://127.0.0.1:{port}",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    latency = {p: to_ms(v, u) for p, v, u in LATENCY.findall(out)}
    errors = [m.group(0) for m in ERRORS.finditer(out)]
    return {
        "p50": latency["50"],
        "p99": latency["99"],
        "rps": float(RATE.search(out).group(1)),
        "errors": errors,
    }


def load_and_build(args, env: dict, url: str, workdir: Path) -> None:
    """Steps 1–3: generate (or reuse) the city, load it, build the name statistics."""
    city = workdir / f"city-{args.people}-{args.seed}.csv"
    if city.exists():
        say(f"generate: reusing {city.relative_to(ROOT)}")
    else:
        started = time.perf_counter()
        subprocess.run(
            [
                PY,
                "manage.py",
                "generate_city",
                "--people",
                str(args.people),
                "--seed",
                str(args.seed),
                "--out",
                str(city),
            ],
            cwd=ROOT,
            env=env,
            check=True,
        )
        say(
            f"generate: {time.perf_counter() - started:.1f} s ({city.stat().st_size / 2**20:,.0f} MiB)"
        )

    fresh_database(args.database)
    manage(env, "migrate", "--no-input", "-v", "0")
    load = manage(
        env,
        "import_registry",
        str(city),
        "--no-progress",
        "--no-name-stats",
        "--report",
        str(workdir / "rejected.csv"),
    )
    build = manage(env, "rebuild_name_stats")
    say(f"load:  {load:7.1f} s  ({args.people / load:,.0f} rows/s)")
    say(f"build: {build:7.1f} s")
    say(f"load + build: {load + build:.1f} s (target ≤ 300 s)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--seconds", type=int, default=10, help="per wrk run")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--port", type=int, default=8093)
    parser.add_argument("--database", default="servicehall_bench")
    parser.add_argument(
        "--http-only",
        action="store_true",
        help="skip generate/load/build: measure HTTP against the database a previous run left",
    )
    args = parser.parse_args()

    workdir = ROOT / "var" / "bench"
    workdir.mkdir(parents=True, exist_ok=True)
    url = f"postgres://postgres@127.0.0.1:5432/{args.database}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SERVICEHALL_BENCH_ENDPOINTS": "1",
        "REGISTRY_NAME_QUERY_RATE": "",
        "LOG_LEVEL": "WARNING",
        "DB_CONN_MAX_AGE": "600",
    }
    say(f"== bench-names: {args.people:,} residents, seed {args.seed}, {os.cpu_count()} CPUs")
    if args.http_only:
        say(f"http only: reusing database {args.database} as a previous run left it")
    else:
        load_and_build(args, env, url, workdir)
    say("sizes (table, table size, index size, rows):")
    for row in sizes(url):
        say("  {:22s} {:>10s} {:>10s} {:>14s}".format(*row))

    exact, homophone = samples(url, workdir, args.seed)
    server = start_server(env, args.port, args.workers)
    results: dict[tuple[str, int], dict] = {}
    runs = [
        ("floor", "/api/bench/floor?name=%s", exact),
        ("names: registered", "/api/registry/names?name=%s", exact),
        ("names: homophones only", "/api/registry/names?name=%s", homophone),
        ("naive COUNT(*)", "/api/bench/names-naive?name=%s", exact),
    ]
    try:
        for label, path, names in runs:
            wrk(args.port, path, names, 8, 2)  # warm caches and connections
            for connections in (1, 8, 32):
                results[(label, connections)] = r = wrk(
                    args.port, path, names, connections, args.seconds
                )
                say(
                    f"  {label:24s} c={connections:<3d} p50 {r['p50']:7.2f} ms  p99 {r['p99']:7.2f} ms  "
                    f"{r['rps']:9,.0f} req/s  {' '.join(r['errors'])}"
                )
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

    say("summary at 8 connections:")
    floor = results[("floor", 8)]["rps"]
    for label in ("names: registered", "names: homophones only", "naive COUNT(*)"):
        r = results[(label, 8)]
        say(
            f"  {label:24s} p99 {r['p99']:6.2f} ms (target ≤ 10)  "
            f"throughput {r['rps'] / floor:5.0%} of the HTTP floor (target ≥ 70 %)"
        )
    naive, fast = results[("naive COUNT(*)", 8)]["rps"], results[("names: registered", 8)]["rps"]
    say(f"  precomputed vs naive: {fast / naive:.1f}× the throughput")
    return 0


if __name__ == "__main__":
    sys.exit(main())
