"""A test SMSC: an SMPP 3.4 server process on loopback, for the 12110 SMPP adapter's tests.

It is built on `smpp34` (a Rust SMPP 3.4 implementation: codec, sessions and server from
PyPI), not on smpplib, the client library our adapter uses: the two sides of every test
speak SMPP through independent implementations over a real TCP socket.

    python tests/smpp/smsc.py --port 2775

It accepts any bind. Driven by JSON lines on stdin, it reports JSON lines on stdout:

    stdin  {"cmd": "deliver", "ref": "m1", "source": "13912340001", "text": "救命",
            "retries": 5, "retry_delay": 0.2}          # a mobile-originated message
    stdin  {"cmd": "deliver_raw", "ref": "r1", "source": ..., "short_message_hex": "...",
            "data_coding": 0, "esm_class": 4}          # any bytes (receipts, GSM text)
    stdin  {"cmd": "stop"}
    stdout {"event": "listening", "port": 2775}
    stdout {"event": "bound", "session": "...", "system_id": "...", "can_receive": true}
    stdout {"event": "deliver_sm_resp", "ref": "m1", "attempt": 1, "status": 100}
    stdout {"event": "deliver_error", "ref": "m1", "attempt": 1, "error": "..."}
    stdout {"event": "delivered", "ref": "m1", "attempts": 2}
    stdout {"event": "gave_up", "ref": "m1", "attempts": 5}
    stdout {"event": "rejected", "ref": "m1", "attempts": 1}   # ESME_RX_P_APPN: final
    stdout {"event": "submit_sm", "source": "12110", "destination": "139...", "text": "...",
            "data_coding": 8, "esm_class": 0, "registered_delivery": 1, "message_id": "smsc-1"}
    stdout {"event": "unbound", "session": "..."}

Like a real SMSC it keeps a mobile-originated message until an ESME answers its deliver_sm
with ESME_ROK: a temporary error status, no answer, or a dropped session makes it deliver
the same message again (to whichever receiver is bound then), up to `retries` attempts; a
permanent refusal (ESME_RX_P_APPN) ends it.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import sys
import threading

import smpp34

UCS2 = 8
# Answers after which an SMSC does not deliver the message again.
PERMANENT = {0x65}  # ESME_RX_P_APPN


def emit(**event) -> None:
    sys.stdout.write(json.dumps(event, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def decode(data_coding: int, raw: bytes, esm_class: int) -> str:
    if esm_class & 0x40 and raw:  # user data header: skip it
        raw = raw[1 + raw[0] :]
    if data_coding == UCS2:
        return raw.decode("utf-16-be", "replace")
    return raw.decode("latin-1")


class Smsc:
    def __init__(self, port: int):
        self.port = port
        self.sessions: dict[str, smpp34.Esme] = {}
        self.bound = asyncio.Event()
        self.ids = itertools.count(1)
        self.tasks: set[asyncio.Task] = set()

    async def receiver(self) -> smpp34.Esme:
        while True:
            for esme in list(self.sessions.values()):
                if esme.can_receive:
                    return esme
            self.bound.clear()
            await self.bound.wait()

    async def deliver(self, command: dict) -> None:
        ref = command.get("ref", "")
        retries = int(command.get("retries", 5))
        delay = float(command.get("retry_delay", 0.2))
        if "short_message_hex" in command:
            body = bytes.fromhex(command["short_message_hex"])
            coding = int(command.get("data_coding", 0))
        else:
            body, coding = command["text"].encode("utf-16-be"), UCS2
        for attempt in range(1, retries + 1):
            esme = await self.receiver()
            try:
                resp = await esme.deliver_sm(
                    command.get("destination", "12110"),
                    body,
                    source_addr=command["source"],
                    source_addr_ton=int(command.get("source_ton", 0)),
                    source_addr_npi=1,
                    data_coding=coding,
                    esm_class=int(command.get("esm_class", 0)),
                )
            except Exception as exc:  # noqa: BLE001 - no answer, session dropped: retry
                emit(event="deliver_error", ref=ref, attempt=attempt, error=str(exc))
                self.sessions.pop(esme.session_id, None)
            else:
                emit(
                    event="deliver_sm_resp",
                    ref=ref,
                    attempt=attempt,
                    status=resp.command_status,
                )
                if resp.is_success:
                    emit(event="delivered", ref=ref, attempts=attempt)
                    return
                if resp.command_status in PERMANENT:
                    emit(event="rejected", ref=ref, attempts=attempt)
                    return
            await asyncio.sleep(delay)
        emit(event="gave_up", ref=ref, attempts=retries)

    async def serve(self, server: smpp34.Server) -> None:
        while True:
            event = await server.next()
            if isinstance(event, smpp34.Esme):
                self.sessions[event.session_id] = event
                self.bound.set()
                emit(
                    event="bound",
                    session=event.session_id,
                    system_id=event.system_id,
                    can_receive=event.can_receive,
                )
            elif isinstance(event, smpp34.SubmitSmEvent):
                message_id = f"smsc-{next(self.ids)}"
                event.accept(message_id)
                emit(
                    event="submit_sm",
                    source=event.source_addr,
                    destination=event.destination_addr,
                    text=decode(event.data_coding, event.short_message, event.esm_class),
                    data_coding=event.data_coding,
                    esm_class=event.esm_class,
                    registered_delivery=event.registered_delivery,
                    message_id=message_id,
                )
            elif isinstance(event, smpp34.Unbound):
                self.sessions.pop(event.session_id, None)
                emit(event="unbound", session=event.session_id)

    async def commands(self, queue: asyncio.Queue) -> None:
        while True:
            line = await queue.get()
            if line is None:
                return
            command = json.loads(line)
            if command["cmd"] == "stop":
                return
            if command["cmd"] in ("deliver", "deliver_raw"):
                task = asyncio.create_task(self.deliver(command))
                self.tasks.add(task)
                task.add_done_callback(self.tasks.discard)

    async def run(self) -> None:
        server = smpp34.Server(host="127.0.0.1", port=self.port, system_id="TESTSMSC")
        await server.start()
        emit(event="listening", port=self.port)
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue()

        def read_stdin():
            for line in sys.stdin:
                if line.strip():
                    loop.call_soon_threadsafe(queue.put_nowait, line)
            loop.call_soon_threadsafe(queue.put_nowait, None)  # stdin closed: stop

        threading.Thread(target=read_stdin, daemon=True).start()
        serving = asyncio.create_task(self.serve(server))
        await self.commands(queue)
        serving.cancel()
        await server.stop()
        emit(event="stopped")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=2775)
    args = parser.parse_args()
    asyncio.run(Smsc(args.port).run())


if __name__ == "__main__":
    main()
