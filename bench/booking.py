"""make bench-booking: the release-moment rush on booking, over HTTP, on PostgreSQL.

One run, printed as it goes:
1. a fresh PostgreSQL database (servicehall_bench_booking): schema, calendar, catalogue,
   offices; 200 slots of one item at the city exit-entry office, capacity 1–5 at random,
   released at the start of the rush (every other slot removed, so nothing else absorbs
   bookings);
2. 2,000 citizen accounts with real-name profiles, each signed in: a session row and a CSRF
   secret, sent as the `sessionid`/`csrftoken` cookies and the X-CSRFToken header, exactly
   what a browser that signed in at /accounts/login/ sends (the password step is not what is
   measured: Argon2 is slow on purpose);
   With Redis (the default, as in production: --redis URL, 'none' for local memory) the
   sessions are read through the cache (cached_db) and put in it as signing in does;
3. gunicorn (2 worker processes, gthread with one thread each unless --threads — one request
   at a time per process like sync workers, but keep-alive, so a client that has finished
   and left its connection open does not hold a worker; DEBUG off) serves the hall; wrk
   runs 64 clients (one connection each) that send their requests one after another:
   - lean floor: GET /api/bench/floor, the lean lane's constant answer (as in bench-names);
   - session floor: POST /api/bookings/bench-floor — the same stack as booking (full
     middleware, session, user, CSRF check) answering a constant — measured before and after;
   - the rush: every user POSTs /api/bookings/ once, 10 users per slot in shuffled order
     (so every slot is fought over and must end full), each with its own client token;
4. the outcome from the database: bookings made, refusals by code, the overbooking count
   (SUM over slots of max(0, booked − capacity)) and a recount of live bookings per slot
   against capacity, slots left with a place;
5. where the time goes: the bare guarded UPDATE, the same UPDATE committed under the audit
   chain's lock (what every booking's audit entry costs), and one workflow.book in-process
   (time and SQL statements).

Rate limits stay on at their defaults (per account, counted in the shared cache; every user
books once, so they never trigger, and their cache increment is in the figures); the
waiting room is off
(BOOKING_RUSH_THRESHOLD=0: wrk does not follow a waiting page). Needs PostgreSQL on
127.0.0.1:5432 and wrk. Never run in CI.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import psycopg
from harness import (
    ROOT,
    CpuAccount,
    backends_of,
    cpu_seconds,
    fresh_database,
    machine_speed,
    manage,
    percentile,
    pids_named,
    process_tree,
    say,
    start_server,
)

OFFICE, ITEM = "crj-city", "CRJ-XK-001"


def django_setup(env: dict) -> None:
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def prepare(args, rng: random.Random) -> tuple[list[int], list[tuple[str, str]]]:
    """Slots and signed-in users; returns the slot ids and (sessionid, csrftoken) per user."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.hashers import make_password
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from servicehall.accounts.models import CitizenProfile, User
    from servicehall.bookings import slots
    from servicehall.bookings.models import Office, Slot
    from servicehall.core.idnumbers import make_id_number

    office = Office.objects.get(code=OFFICE)
    today = timezone.localdate()
    slots.generate_slots(office, today + timedelta(days=1), today + timedelta(days=21))
    candidates = list(
        Slot.objects.filter(office=office, item__code=ITEM, start__gt=timezone.now())
        .order_by("start", "counter__code")
        .values_list("pk", flat=True)
    )
    if len(candidates) < args.slots:
        raise SystemExit(f"only {len(candidates)} slots generated, {args.slots} wanted")
    chosen = sorted(rng.sample(candidates, args.slots))
    # One more slot, at a time of its own, for the warm-up's bookings (never in the rush).
    args.warm_slot = next(pk for pk in candidates if pk not in set(chosen))
    Slot.objects.exclude(pk__in=[*chosen, args.warm_slot]).delete()
    Slot.objects.filter(pk=args.warm_slot).update(
        capacity=args.warm_users, booked=0, release_at=timezone.now() - timedelta(seconds=1)
    )
    released = timezone.now() - timedelta(seconds=1)
    for pk in chosen:
        Slot.objects.filter(pk=pk).update(
            capacity=rng.randint(1, 5), booked=0, release_at=released, is_closed=False
        )

    password = make_password(None)  # unusable: these accounts never sign in by password
    users = User.objects.bulk_create(
        User(
            username=f"bench{i:05d}", kind=User.Kind.CITIZEN, name=f"压测用户{i}", password=password
        )
        for i in range(args.users + args.extra_users)
    )
    CitizenProfile.objects.bulk_create(
        CitizenProfile(
            user=user,
            id_number=make_id_number(
                "210102", date(1960, 1, 1) + timedelta(days=i // 1000), i % 1000
            ),
            mobile=f"139{i:08d}",
        )
        for i, user in enumerate(users)
    )
    expires = timezone.now() + timedelta(days=1)
    store = SessionStore()
    cookies, sessions = [], []
    for user in users:
        key = secrets.token_hex(16)
        data = {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: "servicehall.accounts.backends.ModelBackend",
            HASH_SESSION_KEY: user.get_session_auth_hash(),
        }
        sessions.append(
            Session(session_key=key, session_data=store.encode(data), expire_date=expires)
        )
        cookies.append((key, secrets.token_hex(16)))  # a CSRF secret: 32 characters
    Session.objects.bulk_create(sessions, batch_size=1000)
    engine = settings.SESSION_ENGINE.rsplit(".", 1)[-1]
    assert engine in ("db", "cached_db"), settings.SESSION_ENGINE
    if engine == "cached_db":
        # What signing in does with a shared cache: the session is written through to it.
        from django.contrib.sessions.backends.cached_db import SessionStore as CachedStore

        for key, _csrf in cookies:
            CachedStore(session_key=key).load()
    return chosen, cookies


def lines_file(path: Path, rows: list[tuple]) -> Path:
    path.write_text("".join("\t".join(row) + "\n" for row in rows))
    return path


def run_clients(args, name: str, rows: list[tuple], workdir: Path, server=None) -> dict:
    """64 wrk clients send `rows` once each; per-request status, refusal code, latency, and
    (given the `server` process) the CPU time each part of the machine spent on them."""
    out = workdir / f"out-{name}"
    out.mkdir(exist_ok=True)
    for old in out.glob("thread-*.txt"):
        old.unlink()
    threads = min(args.clients, len(rows))
    env = {
        **os.environ,
        "BENCH_LINES": str(lines_file(workdir / f"{name}.txt", rows)),
        "BENCH_THREADS": str(threads),
        "BENCH_OUT": str(out),
    }
    account = server and CpuAccount(
        {"gunicorn workers": process_tree(server.pid), "redis-server": pids_named("redis-server")}
    )
    started = time.monotonic()
    wrk = subprocess.Popen(
        [
            "wrk",
            "-t",
            str(threads),
            "-c",
            str(threads),
            "-d",
            "600s",
            "--timeout",
            "30s",
            "-s",
            str(ROOT / "bench" / "booking.lua"),
            f"http://127.0.0.1:{args.port}",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    while len(list(out.glob("thread-*.txt"))) < threads:
        if wrk.poll() is not None or time.monotonic() - started > 590:
            raise SystemExit(f"wrk ended early: {wrk.stderr.read()}")
        time.sleep(0.05)
    cpu = account.stop(backends_of(args.url, args.database)) if account else {}
    cpu["wrk (the clients)"] = cpu_seconds([wrk.pid])
    wrk.send_signal(signal.SIGINT)
    wrk.wait(timeout=30)
    firsts, lasts, statuses, codes, latencies = [], [], Counter(), Counter(), []
    for part in out.glob("thread-*.txt"):
        head, *results = part.read_text().split("\n")
        first, last = map(float, head.split())
        firsts.append(first)
        lasts.append(last)
        for result in filter(None, results):
            status, code, micros = result.split(" ")
            statuses[int(status)] += 1
            if code:
                codes[code] += 1
            latencies.append(int(micros) / 1000)
    seconds = (max(lasts) - min(firsts)) / 1e6
    return {
        "requests": len(latencies),
        "seconds": seconds,
        "rps": len(latencies) / seconds,
        "p50": percentile(latencies, 0.50),
        "p99": percentile(latencies, 0.99),
        "mean": statistics.fmean(latencies),
        "statuses": dict(sorted(statuses.items())),
        "codes": dict(codes.most_common()),
        "cpu_ms": {part: seconds * 1000 / len(latencies) for part, seconds in cpu.items()},
    }


def show(label: str, r: dict) -> None:
    say(
        f"  {label:28s} {r['requests']:6,d} req in {r['seconds']:5.2f} s  {r['rps']:7,.0f} req/s  "
        f"p50 {r['p50']:6.1f} ms  p99 {r['p99']:6.1f} ms  statuses {r['statuses']}"
    )
    if len(r["cpu_ms"]) > 1:
        parts = ", ".join(f"{part} {ms:.2f}" for part, ms in r["cpu_ms"].items())
        say(f"  {'':28s} CPU ms a request: {sum(r['cpu_ms'].values()):.2f} ({parts})")


def outcome(url: str, chosen: list[int]) -> dict:
    with psycopg.connect(url) as conn:
        over, capacity, booked, not_full = conn.execute(
            "SELECT COALESCE(SUM(GREATEST(booked - capacity, 0)), 0), SUM(capacity), "
            "SUM(booked), COUNT(*) FILTER (WHERE booked < capacity) "
            "FROM bookings_slot WHERE id = ANY(%s)",
            [chosen],
        ).fetchone()
        recount = conn.execute(
            "SELECT COALESCE(SUM(GREATEST(live - s.capacity, 0)), 0), "
            "COUNT(*) FILTER (WHERE live <> s.booked) "
            "FROM bookings_slot s LEFT JOIN LATERAL (SELECT COUNT(*) AS live "
            "FROM bookings_booking b WHERE b.slot_id = s.id "
            "AND b.status IN ('booked', 'checked_in')) c ON true WHERE s.id = ANY(%s)",
            [chosen],
        ).fetchone()
        # Of the rush's bookings only (the warm-up booked a slot of its own).
        rush_bookings = "SELECT id::text FROM bookings_booking WHERE slot_id = ANY(%s)"
        audits = conn.execute(
            "SELECT COUNT(*) FROM core_auditentry WHERE action = 'booking.book' "
            f"AND object_id IN ({rush_bookings})",
            [chosen],
        ).fetchone()[0]
        sms = conn.execute(
            f"SELECT COUNT(*) FROM notify_message WHERE about_id IN ({rush_bookings})", [chosen]
        ).fetchone()[0]
    return {
        "overbooked": over,
        "capacity": capacity,
        "booked": booked,
        "not_full": not_full,
        "recount_over": recount[0],
        "recount_mismatch": recount[1],
        "audits": audits,
        "sms": sms,
    }


# --- where the time goes --------------------------------------------------------------------


def _rate(url: str, threads: int, seconds: float, work) -> float:
    """Transactions a second from `threads` connections each running work(conn, i)."""
    done = [0] * threads
    stop = time.monotonic() + seconds

    def loop(n):
        with psycopg.connect(url, autocommit=True) as conn:
            i = 0
            while time.monotonic() < stop:
                work(conn, n * 1_000_000 + i)
                i += 1
            done[n] = i

    pool = [threading.Thread(target=loop, args=(n,)) for n in range(threads)]
    started = time.monotonic()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return sum(done) / (time.monotonic() - started)


def bare_rates(url: str, threads: int, seconds: float) -> dict:
    """The guarded UPDATE alone, and inside a transaction that also takes the audit chain's
    advisory lock and appends a row, as every booking does (on a scratch table)."""
    from servicehall.core.audit import CHAIN_LOCK_KEY

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS bench_slot (id int PRIMARY KEY, booked int NOT NULL, "
            "capacity int NOT NULL, CHECK (booked <= capacity))"
        )
        conn.execute("CREATE TABLE IF NOT EXISTS bench_chain (seq bigserial, entry text)")
        conn.execute("TRUNCATE bench_slot, bench_chain")
        conn.execute(
            "INSERT INTO bench_slot SELECT g, 0, 2000000000 FROM generate_series(1, 200) g"
        )

    def update(conn, i):
        conn.execute(
            "UPDATE bench_slot SET booked = booked + 1 WHERE id = %s AND booked < capacity",
            [i % 200 + 1],
        )

    def chained(conn, i):
        with conn.transaction():
            update(conn, i)
            conn.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY + 1])
            conn.execute("INSERT INTO bench_chain (entry) VALUES (%s)", ["x" * 400])

    def unchained(conn, i):
        with conn.transaction():
            update(conn, i)
            conn.execute("INSERT INTO bench_chain (entry) VALUES (%s)", ["x" * 400])

    return {
        "update": _rate(url, threads, seconds, update),
        "update+insert": _rate(url, threads, seconds, unchained),
        "update+lock+insert": _rate(url, threads, seconds, chained),
    }


def in_process(count: int) -> dict:
    """workflow.book in this process, one at a time (no HTTP): time and SQL statements."""
    import uuid

    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from servicehall.accounts.models import User
    from servicehall.bookings import workflow
    from servicehall.bookings.models import Slot
    from servicehall.core import audit

    slot = Slot.objects.filter(office__code=OFFICE).order_by("-start").first()
    Slot.objects.filter(pk=slot.pk).update(capacity=30000, booked=0, release_at=timezone.now())
    users = list(User.objects.filter(username__startswith="bench").order_by("-pk")[:count])
    times = []
    with CaptureQueriesContext(connection) as queries:
        workflow.book(actor=users[0], slot=slot, client_token=uuid.uuid4().hex)
    statements = len(queries)
    for user in users[1:]:
        started = time.perf_counter()
        workflow.book(actor=user, slot=slot, client_token=uuid.uuid4().hex)
        times.append((time.perf_counter() - started) * 1000)
    audit_times = []
    for _ in range(200):
        started = time.perf_counter()
        audit.record(actor=None, action="bench.audit", details={"n": 1})
        audit_times.append((time.perf_counter() - started) * 1000)
    return {
        "statements": statements,
        "book_ms": statistics.median(times),
        "audit_ms": statistics.median(audit_times),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slots", type=int, default=200)
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=64, help="concurrent wrk clients")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=1, help="gthread threads per worker")
    parser.add_argument(
        "--worker-connections",
        type=int,
        default=0,
        help="gunicorn's cap on one worker's open connections (0: clients ÷ workers, so each "
        "worker holds its share of the keep-alive clients)",
    )
    parser.add_argument(
        "--redis",
        default="redis://127.0.0.1:6379/11",
        help="the shared cache (sessions, rate limits) as in production; this database number "
        "is flushed first; 'none' for local memory per worker (sessions then in PostgreSQL only)",
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--port", type=int, default=8094)
    parser.add_argument("--database", default="servicehall_bench_booking")
    args = parser.parse_args()
    # Never in the rush: the warm-up's bookers, then the in-process measure's.
    args.warm_users = 200
    args.extra_users = args.warm_users + 201
    rng = random.Random(args.seed)
    workdir = ROOT / "var" / "bench" / "booking"
    workdir.mkdir(parents=True, exist_ok=True)
    url = args.url = f"postgres://postgres@127.0.0.1:5432/{args.database}"
    env = {
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SERVICEHALL_BENCH_ENDPOINTS": "1",
        "BOOKING_RUSH_THRESHOLD": "0",
        "LOG_LEVEL": "WARNING",
        "DB_CONN_MAX_AGE": "600",
    }
    cache_note = "local memory per worker, sessions in PostgreSQL"
    if args.redis != "none":
        try:
            import redis

            redis.Redis.from_url(args.redis).flushdb()
        except Exception as exc:  # noqa: BLE001 - no Redis here: measure without it
            say(f"(no Redis at {args.redis}: {exc}; local memory instead)")
        else:
            env["CACHE_BACKEND"] = "django.core.cache.backends.redis.RedisCache"
            env["CACHE_LOCATION"] = args.redis
            cache_note = f"Redis {args.redis}, sessions cached_db"
    env_all = {**os.environ, **env}
    say(
        f"== bench-booking: {args.slots} slots (capacity 1–5), {args.users:,} users, "
        f"{args.clients} clients, {args.workers} gunicorn workers × {args.threads} threads, "
        f"{os.cpu_count()} CPUs; cache: {cache_note}"
    )
    say(f"machine speed: {machine_speed()}")
    started = time.perf_counter()
    fresh_database(args.database)
    manage(env_all, "migrate", "--no-input", "-v", "0")
    for command in ("load_calendar", "load_catalog", "load_offices"):
        manage(env_all, command, "-v", "0")
    django_setup(env)
    chosen, cookies = prepare(args, rng)
    say(f"setup: {time.perf_counter() - started:.1f} s")

    rush_users = cookies[: args.users]
    per_slot = -(-args.users // args.slots)
    targets = [pk for pk in chosen for _ in range(per_slot)][: args.users]
    rng.shuffle(targets)
    rush = [
        (
            "POST",
            "/api/bookings/",
            s,
            c,
            json.dumps({"slot": pk, "client_token": secrets.token_hex(16)}),
        )
        for (s, c), pk in zip(rush_users, targets, strict=True)
    ]
    floor = [("POST", "/api/bookings/bench-floor", s, c, "{}") for s, c in rush_users * 2]
    lean = [("GET", "/api/bench/floor", "", "", "")] * (args.users * 2)
    # Warm-up: every step of a made booking (and of a refusal) runs in both workers before
    # the measures, so first-call costs (imports, prepared statements) stay out of them.
    warm = [
        (
            "POST",
            "/api/bookings/",
            s,
            c,
            json.dumps({"slot": args.warm_slot, "client_token": secrets.token_hex(16)}),
        )
        for s, c in cookies[args.users :][: args.warm_users]
    ]
    warm += [
        ("POST", "/api/bookings/", s, c, '{"slot": 999999999, "client_token": "warm"}')
        for s, c in cookies[args.users :][:100]
    ]

    # gthread with one thread a worker (default): one request at a time per process, like
    # sync, but an idle keep-alive connection (a client that has finished) does not hold a
    # worker.
    connections = args.worker_connections or -(-args.clients // args.workers)
    server = start_server(
        env_all,
        args.port,
        args.workers,
        worker_class=("gthread", "--threads", str(args.threads)),
        extra_args=("--worker-connections", str(connections)),
    )
    try:
        run_clients(args, "warm", warm + floor[:400] + lean[:400], workdir)
        say("HTTP (64 clients, each request answered before the client sends its next):")
        results = {"lean": run_clients(args, "lean", lean, workdir, server)}
        show("lean floor (GET, no session)", results["lean"])
        results["floor"] = run_clients(args, "floor", floor, workdir, server)
        show("session floor (POST, CSRF)", results["floor"])
        results["rush"] = run_clients(args, "rush", rush, workdir, server)
        show("booking rush (POST book)", results["rush"])
        results["floor2"] = run_clients(args, "floor2", floor, workdir, server)
        show("session floor again", results["floor2"])
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

    got = outcome(url, chosen)
    r = results["rush"]
    made = r["statuses"].get(201, 0)
    floor_rps = (results["floor"]["rps"] + results["floor2"]["rps"]) / 2
    say("outcome:")
    say(
        f"  bookings made (201): {made:,} of {got['capacity']:,} places; refusals by code: {r['codes']}"
    )
    say(
        f"  booked per the slots: {got['booked']:,}; audit entries: {got['audits']:,}; SMS queued: {got['sms']:,}"
    )
    say(f"  overbooking SUM(max(0, booked - capacity)): {got['overbooked']}")
    say(
        f"  recount of live bookings per slot: {got['recount_over']} over capacity, "
        f"{got['recount_mismatch']} slots where it differs from `booked`"
    )
    say(f"  slots left with a free place: {got['not_full']} of {len(chosen)}")
    say(f"machine speed after the run: {machine_speed()}")
    say("summary:")
    say(
        f"  bookings/s (all booking requests): {r['rps']:,.0f}; successful bookings/s: {made / r['seconds']:,.0f}"
    )
    say(f"  p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms (target p99 ≤ 250 ms)")
    say(
        f"  throughput {r['rps'] / floor_rps:.0%} of the session floor ({floor_rps:,.0f} req/s, mean "
        f"of before/after; target ≥ 50 %), {r['rps'] / results['lean']['rps']:.0%} of the lean floor"
    )
    ok = got["overbooked"] == 0 and got["recount_over"] == 0 and got["not_full"] == 0
    say(f"  overbooking 0 with every slot full: {'yes' if ok else 'NO'}")

    say("where the time goes:")
    bare = bare_rates(url, 8, 3.0)
    say(
        "  guarded UPDATE alone (8 connections, autocommit): {update:,.0f}/s; + INSERT in one "
        "transaction: {update+insert:,.0f}/s; + the chain's advisory lock: "
        "{update+lock+insert:,.0f}/s".format(**bare)
    )
    inproc = in_process(args.extra_users - args.warm_users)
    say(
        f"  workflow.book in-process, one at a time: {inproc['book_ms']:.2f} ms median, "
        f"{inproc['statements']} SQL statements; audit.record alone: {inproc['audit_ms']:.2f} ms"
    )
    say(
        f"  session floor mean latency {results['floor']['mean']:.1f} ms vs booking {r['mean']:.1f} ms at 64 clients"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
