"""make bench-alarms: 12110 SMS through the signed HTTP callback to two live consoles.

One run, printed as it goes:
1. a fresh PostgreSQL database (servicehall_bench_alarms): schema only (departments and
   districts come with it); two city-level call-takers (dispatcher role; the command centre
   and the patrol police, both on the police desk where a 12110 incident opens), each with a
   confirmed TOTP device and a signed-in session that passed the second factor — a session
   row (and its cache entry) holding the user, the OTP device's persistent id and the staff
   "last seen" stamp, exactly what signing in with a code leaves; the HTTP gateway "bench"
   and its secret (ALARM_SMS_INBOUND_SECRETS);
2. the hall under gunicorn (2 workers, gthread with one thread each: one request at a time
   per process, with keep-alive) receives the callbacks; the console's WebSockets run on a
   separate ASGI process (daphne, as the README's production example; --asgi uvicorn); both
   on one Redis channel layer (CHANNEL_LAYER_URL) and, as in production, a Redis cache;
3. two console clients (the `websockets` package, each in its own process, sending the
   session cookie and an allowed Origin) connect to /ws/alarms/console/ and record the
   arrival time of every notice;
4. baseline, consoles connected: a process sends notices straight into the channel layer
   (group_send to the police desk's group, what live.publish does after a commit) at the same
   rate — the layer + ASGI + WebSocket part of the path alone;
5. the load: a sender (asyncio, a pool of keep-alive HTTP/1.1 connections, open loop: message
   i is due at start + i/rate whatever the server does) POSTs one signed message per callback
   at --rate for --seconds, over --numbers phone numbers in turn (each number's text carries
   its sequence number and the send time; the gateway message id says the same);
6. it waits up to --grace seconds after the last answer for the consoles to see every stored
   message, then reads the database.

The console carries notices only (README "Real time"): `sms.received` with the message id,
thread, incident and the thread's sequence; a browser then reads the thread over HTTP. The
delay measured is from the message's arrival (its due time at the gateway) to its notice on
a console — not the HTTP read after it. The message id maps to the gateway message id in the
database, hence to the number and its sequence.

Printed: achieved send rate; messages sent / answered 200 / stored / seen on each console;
lost (answered 200, never seen on a console within the grace period); reordered (per
number, a later message's notice before an earlier one's); the delay arrival → console
p50/p90/p99/max per console; the callback's own latency; the baseline and the ratio; how
busy the machine was. Needs PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379
(database numbers --cache-db and --layer-db are flushed). Never run in CI.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import multiprocessing
import os
import secrets
import statistics
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from harness import (
    ROOT,
    CpuAccount,
    CpuMeter,
    backends_of,
    fresh_database,
    machine_speed,
    manage,
    percentile,
    pids_named,
    process_tree,
    say,
    start_asgi,
    start_server,
    stop,
)

GATEWAY = "bench"
WS_PATH = "/ws/alarms/console/"
CONSOLES = (("910001", "zhihui", "接警员（压测一）"), ("910002", "xunte", "接警员（压测二）"))


def django_setup(env: dict) -> None:
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def console_sessions() -> list[str]:
    """Two call-takers on the police desk, each signed in with the second factor passed:
    returns their session keys."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.hashers import make_password
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from servicehall.accounts.models import Department, RoleAssignment, StaffProfile, User
    from servicehall.accounts.signin import STAFF_SEEN_KEY
    from servicehall.alarms import rules as alarm_rules

    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    keys = []
    for number, department, name in CONSOLES:
        user = User.objects.create(
            username=number, kind=User.Kind.STAFF, name=name, password=make_password(None)
        )
        StaffProfile.objects.create(
            user=user, police_number=number, department=Department.objects.get(code=department)
        )
        RoleAssignment.objects.create(user=user, role="dispatcher")
        device = TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
        user = User.objects.get(pk=user.pk)
        assert "police" in alarm_rules.desks_of(user) and alarm_rules.district_of(user) is None
        session = store_class()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "servicehall.accounts.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session[STAFF_SEEN_KEY] = time.time()
        session.create()  # the database row, and the cache entry with cached_db
        keys.append(session.session_key)
    return keys


# --- the consoles (one process each) --------------------------------------------------------


def console_process(index, uri, cookie, origin, ready, stop_event, seen, out_path) -> None:
    """One console's socket: every frame with its arrival time (wall clock, as the sender's),
    written to `out_path` as JSON lines when `stop_event` is set."""

    async def listen():
        from websockets.asyncio.client import connect

        frames = []
        async with connect(
            uri,
            additional_headers={"Cookie": cookie},
            origin=origin,
            max_queue=None,
            ping_interval=None,
        ) as socket:
            hello = json.loads(await socket.recv())
            if hello.get("event") != "hello":
                raise SystemExit(f"console {index}: no hello but {hello}")
            frames.append([time.time(), hello])
            ready.set()
            while not stop_event.is_set():
                try:
                    raw = await asyncio.wait_for(socket.recv(), timeout=0.2)
                except TimeoutError:
                    continue
                at = time.time()
                event = json.loads(raw)
                frames.append([at, event])
                if event.get("event") == "sms.received":
                    with seen.get_lock():
                        seen.value += 1
        with open(out_path, "w") as fh:
            for frame in frames:
                fh.write(json.dumps(frame) + "\n")

    asyncio.run(listen())


# --- the sender ---------------------------------------------------------------------------------


class Connection:
    """A minimal HTTP/1.1 keep-alive client connection (one request at a time)."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader = self.writer = None

    async def post(self, path: str, headers: dict, body: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        head = [f"POST {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        head += [f"{k}: {v}" for k, v in headers.items()]
        head += ["Content-Type: application/json", f"Content-Length: {len(body)}", "", ""]
        self.writer.write("\r\n".join(head).encode() + body)
        try:
            raw = await self.reader.readuntil(b"\r\n\r\n")
            lines = raw.decode("latin-1").split("\r\n")
            status = int(lines[0].split(" ", 2)[1])
            fields = {
                k.strip().lower(): v.strip()
                for k, _, v in (line.partition(":") for line in lines[1:] if line)
            }
            if fields.get("transfer-encoding", "").lower() == "chunked":
                answer = b""
                while size := int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16):
                    answer += (await self.reader.readexactly(size + 2))[:-2]
                await self.reader.readuntil(b"\r\n")  # no trailers are sent
            else:
                answer = await self.reader.readexactly(int(fields.get("content-length", "0")))
        except Exception:
            self.close()
            raise
        if fields.get("connection", "").lower() == "close":
            self.close()
        return status, answer

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def message_plan(args) -> list[dict]:
    """Message i goes to number i % N as that number's sequence i // N, due i / rate after
    the start."""
    total = int(args.rate * args.seconds)
    return [
        {"i": i, "number": i % args.numbers, "seq": i // args.numbers, "offset": i / args.rate}
        for i in range(total)
    ]


def phone_of(number: int) -> str:
    return f"1391{number:07d}"


async def send_all(args, plan: list[dict], secret: str) -> dict:
    """Open loop: a pacer releases each message at its due time into a queue that
    `connections` keep-alive connections drain. Records due / sent / answered per message."""
    queue: asyncio.Queue = asyncio.Queue()
    retries = Counter()
    path = f"/sms/inbound/{GATEWAY}/"
    key = secret.encode()

    async def worker():
        connection = Connection("127.0.0.1", args.port)
        while True:
            item = await queue.get()
            if item is None:
                connection.close()
                return
            now = time.time()
            item["sent"] = now
            sent_at = datetime.fromtimestamp(item["due"], UTC).isoformat(timespec="milliseconds")
            body = json.dumps(
                {
                    "id": f"{item['number']:04d}-{item['seq']:05d}",
                    "from": phone_of(item["number"]),
                    "to": "12110",
                    "text": f"压测 号码{item['number']} 第{item['seq']}条 发送于{sent_at}",
                    "received_at": sent_at,
                },
                ensure_ascii=False,
            ).encode()
            for attempt in range(5):
                stamp = str(int(time.time()))
                signature = hmac.new(key, stamp.encode() + b"." + body, hashlib.sha256)
                headers = {
                    "X-Servicehall-Timestamp": stamp,
                    "X-Servicehall-Signature": "sha256=" + signature.hexdigest(),
                }
                try:
                    item["status"], _answer = await connection.post(path, headers, body)
                except (OSError, asyncio.IncompleteReadError) as exc:
                    # A gateway that gets no answer delivers again (the message id makes
                    # the redelivery a look-up, never a second message).
                    retries[type(exc).__name__] += 1
                    item["status"] = 0
                    await asyncio.sleep(0.05 * (attempt + 1))
                    continue
                if item["status"] != 503:
                    break
                retries["503"] += 1
            item["done"] = time.time()

    workers = [asyncio.create_task(worker()) for _ in range(args.connections)]
    start = time.time() + 0.5
    for item in plan:
        item["due"] = start + item["offset"]
        delay = item["due"] - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        queue.put_nowait(item)
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.gather(*workers)
    return {"start": start, "retries": dict(retries)}


async def ping_all(args, rate: float, seconds: float) -> list[float]:
    """Baseline: notices straight into the police desk's group of incidents not located yet,
    where every SMS incident starts (live.publish's group_send without HTTP, database or the
    incident look-up), at `rate` for `seconds`; returns the send times by ping number."""
    from channels.layers import get_channel_layer

    from servicehall.alarms import live

    layer = get_channel_layer()
    group = live.district_group("police", None)
    sent = []
    start = time.time() + 0.2
    for i in range(int(rate * seconds)):
        delay = start + i / rate - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        sent.append(time.time())
        await layer.group_send(
            group, {"type": live.EVENT_TYPE, "kind": "bench.ping", "payload": {"ping": i}}
        )
    return sent


# --- analysis -----------------------------------------------------------------------------------


def read_frames(path: Path) -> list[tuple[float, dict]]:
    return [tuple(json.loads(line)) for line in path.read_text().splitlines() if line]


def stats(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "p50": percentile(values, 0.50),
        "p90": percentile(values, 0.90),
        "p99": percentile(values, 0.99),
        "max": max(values),
        "mean": statistics.fmean(values),
    }


def fmt(s: dict) -> str:
    if not s.get("n"):
        return "none"
    return (
        f"p50 {s['p50']:7.1f} ms  p90 {s['p90']:7.1f} ms  p99 {s['p99']:7.1f} ms  "
        f"max {s['max']:7.1f} ms  (n={s['n']:,})"
    )


def stored_messages(url: str) -> dict[int, tuple[int, int]]:
    """message pk -> (number, sequence) of every stored inbound message of the bench."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT id, gateway_message_id FROM alarms_smsmessage "
            "WHERE gateway = %s AND direction = 'in'",
            [GATEWAY],
        ).fetchall()
    return {pk: tuple(int(part) for part in mid.split("-")) for pk, mid in rows}


def console_figures(frames, by_pk, plan_index, answered: set) -> dict:
    """What one console saw: delays, lost, reordered, duplicates, other notices.

    Reordered: a number's message whose notice came before that of an earlier message of
    the same number which the hall had already acknowledged (200) when this one was sent —
    the order a gateway can rely on. Two messages of one number in flight at once (the
    later sent before the earlier was answered) have no order to keep; the hall numbers
    them in the order it commits them, and `out_of_thread_order` counts notices that came
    before a lower sequence of the same thread (the hall's own order)."""
    delays, seen, dupes, kinds = [], set(), 0, Counter()
    reordered = out_of_thread_order = 0
    thread_max: dict[int, int] = {}
    for at, event in frames:
        kinds[event.get("event")] += 1
        if event.get("event") != "sms.received":
            continue
        key = by_pk.get(event.get("message"))
        if key is None:
            continue
        if key in seen:
            dupes += 1
            continue
        seen.add(key)
        number, seq = key
        item = plan_index[key]
        if any(
            (number, earlier) in answered
            and (number, earlier) not in seen
            and plan_index[(number, earlier)]["done"] < item["sent"]
            for earlier in range(seq)
        ):
            reordered += 1
        thread, sequence = event.get("thread"), event.get("sequence", 0)
        if sequence < thread_max.get(thread, -1):
            out_of_thread_order += 1
        thread_max[thread] = max(sequence, thread_max.get(thread, -1))
        delays.append((at - item["due"]) * 1000)
    return {
        "seen": len(seen),
        "lost": len(answered - seen),
        "reordered": reordered,
        "out_of_thread_order": out_of_thread_order,
        "duplicates": dupes,
        "delay": stats(delays),
        "kinds": dict(kinds),
    }


def overlapping(plan: list[dict], numbers: int) -> int:
    """Messages sent before the previous message of their number was answered."""
    last_done: dict[int, float] = {}
    count = 0
    for item in plan:  # in sending order per number (seq ascending)
        if item["sent"] < last_done.get(item["number"], 0):
            count += 1
        last_done[item["number"]] = item["done"]
    return count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200, help="messages a second")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--numbers", type=int, default=500, help="phone numbers, in turn")
    parser.add_argument("--connections", type=int, default=32, help="sender's HTTP connections")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=1, help="gthread threads per worker")
    parser.add_argument("--asgi", choices=("daphne", "uvicorn"), default="daphne")
    parser.add_argument(
        "--publish-loop",
        action="store_true",
        help="experiment: live.publish on one event loop per gunicorn worker "
        "(bench/alarms_publish_loop.py) instead of async_to_sync per group",
    )
    parser.add_argument("--grace", type=float, default=10, help="seconds to wait for notices")
    parser.add_argument("--baseline-seconds", type=float, default=10)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379")
    parser.add_argument("--cache-db", type=int, default=12)
    parser.add_argument("--layer-db", type=int, default=13)
    parser.add_argument("--port", type=int, default=8095)
    parser.add_argument("--ws-port", type=int, default=8096)
    parser.add_argument("--database", default="servicehall_bench_alarms")
    args = parser.parse_args()
    if args.numbers > 9999:
        parser.error("--numbers: at most 9,999")

    import redis

    for db in (args.cache_db, args.layer_db):
        redis.Redis.from_url(f"{args.redis}/{db}").flushdb()
    workdir = ROOT / "var" / "bench" / "alarms"
    workdir.mkdir(parents=True, exist_ok=True)
    url = f"postgres://postgres@127.0.0.1:5432/{args.database}"
    secret = secrets.token_hex(32)
    env = {
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "0",
        "ASGI_RUNSERVER": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SERVICEHALL_BENCH_ENDPOINTS": "1",
        "LOG_LEVEL": "WARNING",
        "DB_CONN_MAX_AGE": "600",
        "CACHE_BACKEND": "django.core.cache.backends.redis.RedisCache",
        "CACHE_LOCATION": f"{args.redis}/{args.cache_db}",
        "CHANNEL_LAYER_URL": f"{args.redis}/{args.layer_db}",
        "ALARM_SMS_INBOUND_SECRETS": f"{GATEWAY}={secret}",
    }
    env_all = {**os.environ, **env}
    total = int(args.rate * args.seconds)
    say(
        f"== bench-alarms: {total:,} messages at {args.rate:g}/s for {args.seconds:g} s over "
        f"{args.numbers} numbers, one per signed callback, {args.connections} sender "
        f"connections; gunicorn {args.workers} workers × {args.threads} threads; {args.asgi} "
        f"for the WebSockets; Redis channel layer; publish: "
        f"{'one loop per worker (experiment)' if args.publish_loop else 'live.publish as is'}; "
        f"{os.cpu_count()} CPUs; load average " + " ".join(f"{v:.2f}" for v in os.getloadavg())
    )
    say(f"machine speed: {machine_speed()}")
    started = time.perf_counter()
    fresh_database(args.database)
    manage(env_all, "migrate", "--no-input", "-v", "0")
    django_setup(env)
    keys = console_sessions()
    say(f"setup: {time.perf_counter() - started:.1f} s")

    from django.conf import settings

    ctx = multiprocessing.get_context("spawn")
    stop_event = ctx.Event()
    servers, consoles = [], []
    try:
        servers.append(
            start_server(
                env_all,
                args.port,
                args.workers,
                worker_class=("gthread", "--threads", str(args.threads)),
                extra_args=(
                    ("--config", str(ROOT / "bench" / "alarms_publish_loop.py"))
                    if args.publish_loop
                    else ()
                ),
            )
        )
        servers.append(start_asgi(env_all, args.ws_port, args.asgi))
        uri = f"ws://127.0.0.1:{args.ws_port}{WS_PATH}"
        origin = f"http://127.0.0.1:{args.ws_port}"
        seen_counts, outs = [], []
        for index, key in enumerate(keys):
            ready, seen = ctx.Event(), ctx.Value("i", 0)
            out = workdir / f"console-{index + 1}.jsonl"
            process = ctx.Process(
                target=console_process,
                args=(
                    index + 1,
                    uri,
                    f"{settings.SESSION_COOKIE_NAME}={key}",
                    origin,
                    ready,
                    stop_event,
                    seen,
                    str(out),
                ),
            )
            process.start()
            consoles.append(process)
            if not ready.wait(30):
                raise SystemExit(f"console {index + 1} did not connect (refused or no hello)")
            seen_counts.append(seen)
            outs.append(out)
        say(f"two consoles connected to {uri} (hello received)")

        # No warm-up of the threads: each number's first message opens its thread and
        # incident inside the run, as a real first alarm does.
        meter = CpuMeter().start()
        ping_sent = asyncio.run(ping_all(args, args.rate, args.baseline_seconds))
        time.sleep(1.0)
        base_meter = meter.stop()

        plan = message_plan(args)
        account = CpuAccount(
            {
                f"gunicorn ({args.workers} workers)": process_tree(servers[0].pid),
                f"{args.asgi} (WebSockets)": process_tree(servers[1].pid),
                "the 2 console clients": [p.pid for p in consoles],
                "the sender (this process)": [os.getpid()],
                "redis-server (shared)": pids_named("redis-server"),
            }
        )
        meter = CpuMeter().start()
        sender = asyncio.run(send_all(args, plan, secret))
        send_meter = meter.stop()
        cpu = account.stop(backends_of(url, args.database))
        answered_at = time.time()
        ok = sum(1 for item in plan if item.get("status") == 200)
        while time.time() - answered_at < args.grace and min(s.value for s in seen_counts) < ok:
            time.sleep(0.05)
        waited = time.time() - answered_at
    finally:
        stop_event.set()
        for process in consoles:
            process.join(timeout=30)
            if process.is_alive():
                process.terminate()
        for server in reversed(servers):
            stop(server)

    # --- figures ---
    sends = [item["sent"] for item in plan]
    span = max(sends) - min(sends)
    achieved = (len(plan) - 1) / span if span else float("nan")
    lag = stats([(item["sent"] - item["due"]) * 1000 for item in plan])
    callback = stats([(item["done"] - item["sent"]) * 1000 for item in plan])
    statuses = Counter(item.get("status") for item in plan)
    by_pk = stored_messages(url)
    plan_index = {(item["number"], item["seq"]): item for item in plan}
    answered = {(item["number"], item["seq"]) for item in plan if item.get("status") == 200}
    with psycopg.connect(url) as conn:
        incidents = conn.execute(
            "SELECT COUNT(*) FROM alarms_incident WHERE channel = 'sms'"
        ).fetchone()[0]
        queued = conn.execute("SELECT COUNT(*) FROM notify_message").fetchone()[0]

    say("load:")
    say(
        f"  sent {len(plan):,} messages in {span:.2f} s: achieved {achieved:,.1f}/s "
        f"(target ≥ {args.rate:g}/s); lag behind schedule {fmt(lag)}"
    )
    say(f"  answers {dict(sorted(statuses.items(), key=str))}; retries {sender['retries']}")
    say(f"  callback latency (POST → 200, stored and published): {fmt(callback)}")
    say(
        f"  sent while the number's previous message was still unanswered: "
        f"{overlapping(plan, args.numbers):,}"
    )
    say(
        f"  stored (database): {len(by_pk):,} inbound messages, {incidents:,} SMS incidents, "
        f"{queued:,} acknowledgements queued"
    )
    say(
        f"  machine during the load: {send_meter['busy']:.0%} of {os.cpu_count()} CPUs busy, "
        "load average " + " ".join(f"{v:.2f}" for v in send_meter["load"])
    )

    load_seconds = max(item["done"] for item in plan) - min(sends)
    say(
        f"  CPU seconds over the {load_seconds:.0f} s of load ({os.cpu_count()} CPUs = {os.cpu_count() * load_seconds:.0f} s"
        " available), per stored message:"
    )
    for name, seconds in cpu.items():
        say(f"    {name:45s} {seconds:7.1f} s  {seconds / max(len(by_pk), 1) * 1000:6.2f} ms")
    say(f"consoles (waited {waited:.1f} s after the last answer; grace {args.grace:g} s):")
    results = []
    base_results = []
    for index, out in enumerate(outs, start=1):
        frames = read_frames(out)
        r = console_figures(frames, by_pk, plan_index, answered)
        results.append(r)
        say(
            f"  console {index}: seen {r['seen']:,} of {len(answered):,} answered; lost "
            f"{r['lost']}; reordered {r['reordered']}; duplicates {r['duplicates']}; notices "
            f"out of their thread's order {r['out_of_thread_order']}; "
            f"notices by kind {r['kinds']}"
        )
        say(f"    arrival → console: {fmt(r['delay'])}")
        pings = [
            (at - ping_sent[event["ping"]]) * 1000
            for at, event in frames
            if event.get("event") == "bench.ping"
        ]
        base_results.append(stats(pings))
        say(
            f"    baseline, group_send → console ({args.rate:g}/s for "
            f"{args.baseline_seconds:g} s, {len(pings):,} of {len(ping_sent):,} seen): "
            f"{fmt(base_results[-1])}"
        )
    say(
        f"  machine during the baseline: {base_meter['busy']:.0%} busy, load average "
        + " ".join(f"{v:.2f}" for v in base_meter["load"])
    )

    say(f"machine speed after the run: {machine_speed()}")
    say("summary:")
    worst = max(r["delay"].get("p99", float("inf")) for r in results)
    base = max(b.get("p99", float("nan")) for b in base_results)
    lost = sum(r["lost"] for r in results)
    reordered = sum(r["reordered"] for r in results)
    say(
        f"  achieved rate {achieved:,.1f}/s (≥ {args.rate:g}/s: {'yes' if achieved >= args.rate * 0.99 else 'NO'})"
    )
    say(
        f"  lost {lost}, reordered {reordered} (must be 0: {'yes' if lost == reordered == 0 else 'NO'})"
    )
    say(
        f"  p99 arrival → console {worst:,.1f} ms (target ≤ 500 ms: "
        f"{'met' if worst <= 500 else 'NOT met'}); baseline p99 {base:,.1f} ms, "
        f"ratio {worst / base:,.1f}×"
    )
    good = lost == reordered == 0 and worst <= 500 and achieved >= args.rate * 0.99
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
