"""The SMPP 3.4 adapter against a real SMPP server process on loopback (tests/smpp/smsc.py:
an SMSC built on smpp34, an implementation independent of smpplib, which the adapter uses).

Inbound: a deliver_sm is stored and only then answered; a failed store is answered with a
temporary error (or not at all) and the SMSC's redelivery is stored once; a permanent
refusal is final; messages thread by number. Outbound: submit_sm of a reply reaches the
SMSC (Chinese in UCS-2, long texts in parts) and its delivery receipt updates the outbox.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from unittest import mock

import pytest
import smpplib.gsm
from django.db import OperationalError

from servicehall.alarms import gateways_smpp
from servicehall.alarms import sms as alarm_sms
from servicehall.alarms.gateways_smpp import SmppGateway, SmppReceiver, decode_text
from servicehall.alarms.models import Incident, SmsMessage, SmsThread
from servicehall.notify import outbox
from servicehall.notify.delivery import deliver_due
from servicehall.notify.gateways import GatewayError
from servicehall.notify.models import Message

SMSC_SCRIPT = Path(__file__).resolve().parents[3] / "tests" / "smpp" / "smsc.py"
TIMEOUT = 20.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Smsc:
    """The SMSC process: commands on its stdin, events from its stdout."""

    def __init__(self):
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, str(SMSC_SCRIPT), "--port", str(self.port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        self.events: list[dict] = []
        self._queue: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.wait_for(lambda e: e["event"] == "listening")

    def _read(self):
        for line in self.process.stdout:
            self._queue.put(json.loads(line))

    def _drain(self, block_for: float = 0.0):
        try:
            self.events.append(
                self._queue.get(timeout=block_for) if block_for else self._queue.get_nowait()
            )
            while True:
                self.events.append(self._queue.get_nowait())
        except queue.Empty:
            pass

    def find(self, match) -> dict | None:
        self._drain()
        return next((e for e in self.events if match(e)), None)

    def wait_for(self, match, timeout: float = TIMEOUT) -> dict:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            found = self.find(match)
            if found:
                return found
            self._drain(block_for=0.05)
        raise AssertionError(f"SMSC event not seen; events: {self.events}")

    def send(self, **command):
        self.process.stdin.write(json.dumps(command, ensure_ascii=False) + "\n")
        self.process.stdin.flush()

    def deliver(self, ref: str, source: str, text: str, **extra):
        self.send(cmd="deliver", ref=ref, source=source, text=text, retry_delay=0.1, **extra)

    def outcome(self, ref: str) -> dict | None:
        return self.find(
            lambda e: e.get("ref") == ref and e["event"] in ("delivered", "rejected", "gave_up")
        )

    def of(self, ref: str, event: str) -> list[dict]:
        self._drain()
        return [e for e in self.events if e.get("ref") == ref and e["event"] == event]

    def stop(self):
        if self.process.poll() is None:
            try:
                self.send(cmd="stop")
                self.process.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()


@pytest.fixture
def smsc():
    server = Smsc()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _fast(settings):
    settings.ALARM_SMPP_RECONNECT_SECONDS = 0.1
    settings.ALARM_SMPP_MO_ID_TLV = ""


def receiver_for(smsc, **kwargs) -> SmppReceiver:
    return SmppReceiver("127.0.0.1", smsc.port, "hall", "secret", timeout=0.5, **kwargs)


def run_until(receiver: SmppReceiver, done, timeout: float = TIMEOUT):
    """Run the receiver in this thread (it stores through this test's database connection)
    until done() or the timeout; then unbind."""
    end = time.monotonic() + timeout
    try:
        receiver.run(should_stop=lambda: done() or time.monotonic() > end)
    finally:
        receiver.close()
    assert done(), "timed out"


def inbound():
    return SmsMessage.objects.filter(direction="in")


# --- inbound --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_deliver_sm_is_stored_and_then_answered(smsc, districts):
    calls = []
    real = alarm_sms.receive_sms

    def store(**kwargs):
        message = real(**kwargs)
        # Still unanswered while we store: the SMSC has no resp for it yet.
        calls.append(smsc.of("m1", "deliver_sm_resp"))
        return message

    smsc.deliver("m1", "13912340001", "救命，我在沈阳北站被人跟踪")
    run_until(receiver_for(smsc, store=store), lambda: smsc.outcome("m1"))
    assert smsc.outcome("m1") == {"event": "delivered", "ref": "m1", "attempts": 1}
    assert calls == [[]]
    assert smsc.of("m1", "deliver_sm_resp")[0]["status"] == 0
    message = inbound().get()
    assert message.text == "救命，我在沈阳北站被人跟踪"
    assert message.gateway == "smpp"
    assert message.thread.phone == "13912340001"
    assert message.thread.incident.channel == "sms"
    assert Message.objects.filter(recipient="13912340001").count() == 1  # the acknowledgement


@pytest.mark.django_db
def test_a_failed_store_is_answered_with_a_temporary_error_and_the_redelivery_stored_once(
    smsc, districts, first_message_insert_fails
):
    smsc.deliver("m1", "13912340001", "有人撬门")
    with first_message_insert_fails(OperationalError("the database restarted")):
        run_until(receiver_for(smsc), lambda: smsc.outcome("m1"))
    answers = [e["status"] for e in smsc.of("m1", "deliver_sm_resp")]
    assert answers == [gateways_smpp.TEMPORARY, 0]
    assert smsc.outcome("m1")["event"] == "delivered"
    assert inbound().count() == 1
    assert Incident.objects.count() == 1
    assert Message.objects.count() == 1


@pytest.mark.django_db
def test_a_crash_before_storing_leaves_it_unanswered_and_the_smsc_redelivers(smsc, districts):
    real = alarm_sms.receive_sms
    calls = {"n": 0}

    def crash_once(**kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("the receiver died before storing")
        return real(**kwargs)

    smsc.deliver("m1", "13912340001", "我在家里，他还在门外")
    run_until(receiver_for(smsc, store=crash_once), lambda: smsc.outcome("m1"))
    # The first delivery got no answer (the session dropped); the second was stored.
    assert smsc.of("m1", "deliver_error")
    assert [e["status"] for e in smsc.of("m1", "deliver_sm_resp")] == [0]
    assert inbound().count() == 1


@pytest.mark.django_db
def test_a_crash_after_storing_before_answering_is_redelivered_and_not_duplicated(smsc, districts):
    real = alarm_sms.receive_sms
    calls = {"n": 0}

    def store_then_crash(**kwargs):
        message = real(**kwargs)
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("killed between the commit and the deliver_sm_resp")
        return message

    smsc.deliver("m1", "13912340001", "救命")
    run_until(receiver_for(smsc, store=store_then_crash), lambda: smsc.outcome("m1"))
    assert smsc.outcome("m1")["event"] == "delivered"
    assert smsc.outcome("m1")["attempts"] >= 2
    assert inbound().count() == 1  # the redelivery was recognised
    assert Message.objects.count() == 1  # acknowledged once
    assert calls["n"] == 1  # the redelivery never reached receive_sms


@pytest.mark.django_db
def test_a_message_that_can_never_be_stored_is_refused_permanently(smsc, districts):
    smsc.deliver("bad", "12345", "不是手机号")
    run_until(receiver_for(smsc), lambda: smsc.outcome("bad"))
    assert smsc.outcome("bad") == {"event": "rejected", "ref": "bad", "attempts": 1}
    assert [e["status"] for e in smsc.of("bad", "deliver_sm_resp")] == [gateways_smpp.PERMANENT]
    assert not inbound().exists()


@pytest.mark.django_db
def test_messages_thread_by_number_in_order(smsc, districts):
    smsc.deliver("a1", "13912340001", "被困电梯")
    # International format, as SMSCs send it: TON 1, no "+".
    smsc.deliver("b1", "8613912340002", "别的人", source_ton=1)
    run_until(receiver_for(smsc), lambda: smsc.outcome("a1") and smsc.outcome("b1"))
    smsc.deliver("a2", "13912340001", "在五楼和六楼之间")
    run_until(receiver_for(smsc), lambda: smsc.outcome("a2"))
    assert SmsThread.objects.count() == 2 == Incident.objects.count()
    thread = SmsThread.objects.get(phone="13912340001")
    assert [m.text for m in thread.messages.filter(direction="in").order_by("sequence")] == [
        "被困电梯",
        "在五楼和六楼之间",
    ]
    assert SmsThread.objects.filter(phone="13912340002").exists()


@pytest.mark.django_db
def test_the_same_words_again_after_the_window_are_a_new_message(smsc, districts, settings):
    settings.ALARM_SMPP_DEDUPE_SECONDS = 1
    smsc.deliver("x1", "13912340001", "救命")
    run_until(receiver_for(smsc), lambda: smsc.outcome("x1"))
    time.sleep(2.1)  # two windows later
    smsc.deliver("x2", "13912340001", "救命")
    run_until(receiver_for(smsc), lambda: smsc.outcome("x2"))
    assert inbound().count() == 2


@pytest.mark.django_db
def test_an_smsc_message_id_is_used_when_the_smsc_sends_one(districts, settings):
    settings.ALARM_SMPP_MO_ID_TLV = "receipted_message_id"
    pdu = mock.Mock(
        command="deliver_sm",
        esm_class=0,
        source_addr_ton=1,
        source_addr=b"13912340001",
        destination_addr=b"12110",
        data_coding=8,
        short_message="在路口".encode("utf-16-be"),
        receipted_message_id=b"SMSC-77",
    )
    receiver = SmppReceiver("127.0.0.1", 1, "x", "y")
    assert receiver.handle(pdu) == 0
    assert receiver.handle(pdu) == 0
    assert list(inbound().values_list("gateway_message_id", flat=True)) == ["smsc:SMSC-77"]


# --- outbound -------------------------------------------------------------------------------


def queued(phone="13912340001", body="【12110】已收到您的报警短信，请保持手机畅通。"):
    return outbox.notify_sms(phone, body, dedupe_key=f"t:{phone}:{body[:10]}")


@pytest.mark.django_db
def test_submit_sm_of_a_reply_reaches_the_smsc(smsc):
    message = queued()
    gateway = SmppGateway("127.0.0.1", smsc.port, "hall", "secret", source_addr="12110")
    provider_id = gateway.send(message)
    submitted = smsc.wait_for(lambda e: e["event"] == "submit_sm")
    assert submitted["text"] == message.body
    assert submitted["destination"] == "13912340001"
    assert submitted["source"] == "12110"
    assert submitted["data_coding"] == 8  # UCS-2 for Chinese
    assert submitted["registered_delivery"] == 1
    assert provider_id == submitted["message_id"]


@pytest.mark.django_db
def test_a_long_reply_goes_in_parts_that_join_to_the_text(smsc):
    body = "请您保持冷静，民警正在赶往您所在的位置。" * 8
    message = queued(body=body)
    SmppGateway("127.0.0.1", smsc.port, "hall", "secret").send(message)
    expected = len(smpplib.gsm.make_parts(body)[0])
    smsc.wait_for(lambda e: len([x for x in smsc.events if x["event"] == "submit_sm"]) >= expected)
    parts = [e for e in smsc.events if e["event"] == "submit_sm"]
    assert len(parts) == expected > 1
    assert all(p["esm_class"] & 0x40 for p in parts)  # with a user data header
    assert "".join(p["text"] for p in parts) == body


@pytest.mark.django_db
def test_the_acknowledgement_goes_out_through_the_outbox_and_its_receipt_comes_back(
    smsc, districts
):
    smsc.deliver("m1", "13912340001", "救命")
    run_until(receiver_for(smsc), lambda: smsc.outcome("m1"))
    gateway = SmppGateway("127.0.0.1", smsc.port, "hall", "secret")
    report = deliver_due(gateways={"sms": gateway})
    assert report.sent == 1
    submitted = smsc.wait_for(lambda e: e["event"] == "submit_sm")
    ack = Message.objects.get()
    assert ack.status == "sent" and ack.provider_message_id == submitted["message_id"]
    assert submitted["text"] == ack.body
    # The SMSC's delivery receipt for it, on the receiver's session.
    receipt = (
        f"id:{submitted['message_id']} sub:001 dlvrd:001 submit date:2612071000 "
        "done date:2612071000 stat:DELIVRD err:000 text:"
    )
    smsc.send(
        cmd="deliver_raw",
        ref="dlr",
        source="13912340001",
        short_message_hex=receipt.encode().hex(),
        data_coding=0,
        esm_class=4,
    )
    run_until(receiver_for(smsc), lambda: smsc.outcome("dlr"))
    ack.refresh_from_db()
    assert ack.status == "delivered"
    assert inbound().count() == 1  # a receipt is not a message


@pytest.mark.django_db
def test_an_unreachable_smsc_is_a_temporary_error():
    with pytest.raises(GatewayError) as caught:
        SmppGateway("127.0.0.1", free_port(), "hall", "secret", timeout=2).send(queued())
    assert type(caught.value) is GatewayError


def test_texts_decode_by_their_coding():
    assert decode_text(8, "一二三".encode("utf-16-be")) == "一二三"
    assert decode_text(0, b"Help @ 5\x1b\x65") == "Help ¡ 5€"  # GSM 03.38: 0x40 is ¡
    assert decode_text(3, "café".encode("latin-1")) == "café"
    assert decode_text(1, b"ok") == "ok"


@pytest.mark.django_db
def test_concatenated_parts_and_gsm_text_are_stored_in_order(smsc, districts):
    text = "我在浑南区一个工地，被人关在板房里，" * 2
    body = text.encode("utf-16-be")
    half = len(body) // 2
    for number, chunk in ((1, body[:half]), (2, body[half:])):
        udh = bytes([5, 0, 3, 0x2A, 2, number])
        smsc.send(
            cmd="deliver_raw",
            ref=f"p{number}",
            source="13912340009",
            short_message_hex=(udh + chunk).hex(),
            data_coding=8,
            esm_class=0x40,
        )
        run_until(receiver_for(smsc), lambda n=number: smsc.outcome(f"p{n}"))
    smsc.send(
        cmd="deliver_raw",
        ref="g",
        source="13912340009",
        short_message_hex=b"Help 110".hex(),
        data_coding=0,
    )
    run_until(receiver_for(smsc), lambda: smsc.outcome("g"))
    texts = [m.text for m in inbound().order_by("thread", "sequence")]
    assert "".join(texts[:2]) == text
    assert texts[2] == "Help 110"
    assert SmsThread.objects.count() == 1


# --- the receiver process -------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_run_smpp_receiver_as_a_process_stores_then_answers_and_stops_on_sigterm(
    smsc, districts, settings
):
    """Two processes on loopback: the SMSC and `manage.py run_smpp_receiver` (on this test's
    database); the message is committed when the SMSC has its answer; SIGTERM ends the
    receiver cleanly."""
    db = settings.DATABASES["default"]
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = dict(
        os.environ,
        DATABASE_URL=url,
        ALARM_SMPP_PORT=str(smsc.port),
        ALARM_SMPP_SYSTEM_ID="hall",
        ALARM_SMPP_PASSWORD="secret",
        ALARM_SMPP_TIMEOUT_SECONDS="0.5",
    )
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    manage = Path(__file__).resolve().parents[3] / "manage.py"
    receiver = subprocess.Popen(
        [sys.executable, str(manage), "run_smpp_receiver"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        smsc.deliver("p1", "13912340001", "家里着火了，在皇姑区")
        smsc.wait_for(lambda e: e.get("ref") == "p1" and e["event"] == "delivered")
        # Committed by the other process before it answered: visible here now.
        assert inbound().get().text == "家里着火了，在皇姑区"
        receiver.send_signal(signal.SIGTERM)
        output, _ = receiver.communicate(timeout=15)
    finally:
        if receiver.poll() is None:
            receiver.kill()
            receiver.wait()
    assert receiver.returncode == 0, output
    assert "run_smpp_receiver: 1 message(s) stored" in output
