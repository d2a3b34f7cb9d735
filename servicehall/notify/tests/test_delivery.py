import datetime as dt
import logging

import pytest
from django.db import transaction

from servicehall.notify import delivery
from servicehall.notify.checks import notify_settings as check_settings
from servicehall.notify.delivery import backoff_seconds, deliver_due
from servicehall.notify.gateways import FileGateway, GatewayError, PermanentGatewayError
from servicehall.notify.models import Message, Status
from servicehall.notify.outbox import notify_email, notify_sms

from .conftest import T0
from .support import RecordingGateway

pytestmark = pytest.mark.django_db


def queue(n=1, **kwargs):
    with transaction.atomic():
        return [notify_sms(f"1380000{i:04d}", f"消息{i}", **kwargs) for i in range(n)]


def test_a_due_message_is_sent_once(frozen, gateway):
    [message] = queue()
    report = deliver_due(gateways={"sms": gateway})
    assert (report.claimed, report.sent) == (1, 1)
    message.refresh_from_db()
    assert message.status == Status.SENT
    assert message.attempts == 1
    assert message.gateway == "recording"
    assert message.provider_message_id == f"rec-{message.pk}-1"
    assert message.sent_at == T0 and message.next_attempt_at is None
    assert deliver_due(gateways={"sms": gateway}).claimed == 0
    assert gateway.sent == [message.pk]


def test_a_gateway_failure_keeps_the_message_and_schedules_a_retry(frozen, gateway):
    [message] = queue()
    gateway.down = GatewayError("HTTP 503 from SMS gateway")
    report = deliver_due(gateways={"sms": gateway})
    assert (report.claimed, report.sent, report.retried) == (1, 0, 1)
    message.refresh_from_db()
    assert message.status == Status.PENDING
    assert message.attempts == 1
    assert message.last_error == "HTTP 503 from SMS gateway"
    assert message.next_attempt_at == T0 + dt.timedelta(seconds=30)

    # Not due yet: nothing is tried before the backoff has passed.
    frozen.shift(dt.timedelta(seconds=29))
    assert deliver_due(gateways={"sms": gateway}).claimed == 0

    # Still down at the second attempt: the wait doubles.
    frozen.shift(dt.timedelta(seconds=1))
    assert deliver_due(gateways={"sms": gateway}).retried == 1
    message.refresh_from_db()
    assert message.attempts == 2
    assert message.next_attempt_at == T0 + dt.timedelta(seconds=30 + 60)

    # The gateway recovers; the message goes out at its next due time.
    gateway.down = None
    frozen.shift(dt.timedelta(seconds=60))
    assert deliver_due(gateways={"sms": gateway}).sent == 1
    message.refresh_from_db()
    assert message.status == Status.SENT and message.attempts == 3
    assert gateway.sent == [message.pk]


def test_a_permanent_error_fails_at_once(frozen, gateway):
    [message] = queue()
    gateway.down = PermanentGatewayError("HTTP 400 from SMS gateway: invalid number")
    report = deliver_due(gateways={"sms": gateway})
    assert (report.failed, report.retried) == (1, 0)
    message.refresh_from_db()
    assert message.status == Status.FAILED
    assert message.attempts == 1 and message.next_attempt_at is None
    assert "invalid number" in message.last_error
    frozen.shift(dt.timedelta(days=1))
    assert deliver_due(gateways={"sms": gateway}).claimed == 0


@pytest.mark.parametrize("permanent", [True, False])
def test_recipients_echoed_in_gateway_errors_are_masked(frozen, gateway, caplog, permanent):
    [message] = queue()
    error = PermanentGatewayError if permanent else GatewayError
    gateway.down = error("number +8613800000000 refused; cc zhang.san@example.com")
    with caplog.at_level(logging.INFO, logger="servicehall.notify"):
        deliver_due(gateways={"sms": gateway})
    message.refresh_from_db()
    assert message.last_error == "number 138****0000 refused; cc z********@example.com"
    assert "13800000000" not in caplog.text and "zhang.san" not in caplog.text


def test_max_attempts(frozen, gateway, settings):
    settings.NOTIFY_MAX_ATTEMPTS = 3
    [message] = queue()
    gateway.down = GatewayError("connection refused")
    for _ in range(3):
        deliver_due(gateways={"sms": gateway})
        frozen.shift(dt.timedelta(hours=2))
    message.refresh_from_db()
    assert message.status == Status.FAILED
    assert message.attempts == 3
    assert message.last_error == "attempts exhausted (3): connection refused"
    assert gateway.calls == 3
    assert deliver_due(gateways={"sms": gateway}).claimed == 0


def test_an_unexpected_exception_is_retried_and_logged(frozen, gateway, caplog):
    [message] = queue()
    gateway.down = RuntimeError("bug in a gateway")
    with caplog.at_level(logging.ERROR, logger="servicehall.notify"):
        assert deliver_due(gateways={"sms": gateway}).retried == 1
    message.refresh_from_db()
    assert message.status == Status.PENDING
    assert message.last_error == "RuntimeError: bug in a gateway"
    assert "Traceback" in caplog.text


def test_a_worker_that_dies_while_sending_leaves_the_message_to_be_sent_again(frozen, gateway):
    [message] = queue()
    crashing = RecordingGateway(down=KeyboardInterrupt())  # the process is killed mid-send
    with pytest.raises(KeyboardInterrupt):
        deliver_due(gateways={"sms": crashing})
    message.refresh_from_db()
    assert message.status == Status.SENDING and message.attempts == 1
    lease_end = T0 + dt.timedelta(seconds=300)
    assert message.next_attempt_at == lease_end

    # While the lease runs, no other worker touches it.
    frozen.move_to(lease_end - dt.timedelta(seconds=1), tick=False)
    assert deliver_due(gateways={"sms": gateway}).claimed == 0

    frozen.move_to(lease_end, tick=False)
    assert deliver_due(gateways={"sms": gateway}).sent == 1
    message.refresh_from_db()
    assert message.status == Status.SENT and message.attempts == 2


def test_a_message_stuck_after_its_last_attempt_fails(frozen, gateway, settings):
    settings.NOTIFY_MAX_ATTEMPTS = 1
    [message] = queue()
    with pytest.raises(KeyboardInterrupt):
        deliver_due(gateways={"sms": RecordingGateway(down=KeyboardInterrupt())})
    frozen.shift(dt.timedelta(seconds=301))
    report = deliver_due(gateways={"sms": gateway})
    assert (report.claimed, report.failed) == (0, 1)
    message.refresh_from_db()
    assert message.status == Status.FAILED
    assert message.last_error.startswith("attempts exhausted (1)")
    assert gateway.calls == 0


def test_a_late_result_does_not_overwrite_the_worker_that_took_over(frozen):
    """Worker A's send outlives its lease; worker B re-claims and sends; A's result is
    dropped (and counted), B's stands."""
    [message] = queue()
    b_gateway = RecordingGateway()
    b_reports = []

    def slow_send(msg):
        frozen.shift(dt.timedelta(seconds=301))
        b_reports.append(deliver_due(gateways={"sms": b_gateway}))

    a_gateway = RecordingGateway(on_send=slow_send)
    a_report = deliver_due(gateways={"sms": a_gateway})
    assert b_reports[0].sent == 1
    assert (a_report.sent, a_report.lost) == (0, 1)
    message.refresh_from_db()
    assert message.status == Status.SENT
    assert message.attempts == 2
    assert message.provider_message_id == f"rec-{message.pk}-1"  # B's id


def test_a_batch_whose_lease_runs_short_hands_the_rest_back(frozen):
    messages = queue(3)
    # The first send takes most of the lease (300 s); starting another would risk a
    # second worker taking it over mid-send.
    gateway = RecordingGateway(on_send=lambda m: frozen.shift(dt.timedelta(seconds=290)))
    report = deliver_due(gateways={"sms": gateway})
    assert (report.claimed, report.sent, report.released) == (3, 1, 2)
    rest = Message.objects.filter(pk__in=[m.pk for m in messages[1:]])
    assert {(m.status, m.attempts) for m in rest} == {(Status.PENDING, 0)}
    assert deliver_due(gateways={"sms": RecordingGateway()}).sent == 2


def test_should_stop_releases_the_unsent_rest(frozen, gateway):
    queue(3)
    report = deliver_due(gateways={"sms": gateway}, should_stop=lambda: gateway.calls >= 1)
    assert (report.sent, report.released) == (1, 2)
    assert Message.objects.filter(status=Status.PENDING, attempts=0).count() == 2


def test_configured_gateways_are_used(frozen, settings):
    settings.NOTIFY_SMS_GATEWAY = "servicehall.notify.gateways.FileGateway"
    settings.NOTIFY_EMAIL_GATEWAY = "servicehall.notify.gateways.FileGateway"
    [sms] = queue()
    with transaction.atomic():
        mail = notify_email("a@example.com", "主题", "正文")
    assert deliver_due().sent == 2
    lines = FileGateway().read()
    assert {line["message_id"] for line in lines} == {sms.pk, mail.pk}
    sms.refresh_from_db()
    assert sms.gateway == "file" and sms.provider_message_id.startswith("file-")


def test_a_gateway_that_cannot_be_loaded_keeps_messages_waiting(frozen, settings):
    settings.NOTIFY_SMS_GATEWAY = "servicehall.notify.nowhere.Gateway"
    [message] = queue()
    assert deliver_due().retried == 1
    message.refresh_from_db()
    assert message.status == Status.PENDING
    assert message.last_error.startswith("gateway not loadable")
    assert [e.id for e in check_settings(None)] == ["servicehall.notify.E001"]


def test_settings_check(settings):
    assert check_settings(None) == []
    settings.NOTIFY_SENDING_TIMEOUT_SECONDS = 20
    settings.NOTIFY_MAX_ATTEMPTS = 0
    assert [e.id for e in check_settings(None)] == [
        "servicehall.notify.E003",
        "servicehall.notify.E004",
    ]


@pytest.mark.parametrize(
    ("url", "secret", "expected"),
    [
        ("https://sms.example.cn/v1/send", "s", []),
        ("http://127.0.0.1:8080/send", "s", []),
        ("", "s", ["servicehall.notify.W001"]),
        ("http://sms.example.cn/v1/send", "s", ["servicehall.notify.W002"]),
        ("https://sms.example.cn/v1/send", "", ["servicehall.notify.W003"]),
    ],
)
def test_settings_check_of_the_http_sms_gateway(settings, url, secret, expected):
    settings.NOTIFY_SMS_GATEWAY = "servicehall.notify.gateways.HttpSmsGateway"
    settings.NOTIFY_SMS_HTTP_URL = url
    settings.NOTIFY_SMS_RECEIPT_SECRET = secret
    assert [e.id for e in check_settings(None)] == expected


def test_backoff(settings):
    settings.NOTIFY_RETRY_BASE_SECONDS = 30
    settings.NOTIFY_RETRY_MAX_SECONDS = 3600
    assert [backoff_seconds(n, jitter=0) for n in range(1, 10)] == [
        30,
        60,
        120,
        240,
        480,
        960,
        1920,
        3600,
        3600,
    ]
    spread = [backoff_seconds(3, jitter=0.2) for _ in range(200)]
    assert all(120 <= s <= 144 for s in spread) and len(set(spread)) > 1


def test_oldest_due_first_and_limit(frozen, gateway):
    first = queue()[0]
    frozen.shift(dt.timedelta(seconds=1))
    queue(2)
    report = deliver_due(1, gateways={"sms": gateway})
    assert report.claimed == 1 and gateway.sent == [first.pk]


def test_claim_without_skip_locked(frozen, gateway, monkeypatch):
    # The SQLite path (guarded per-row UPDATEs), exercised on whatever database runs.
    monkeypatch.setattr(delivery, "_skip_locked_supported", lambda: False)
    queue(3)
    assert deliver_due(gateways={"sms": gateway}).sent == 3
    assert Message.objects.filter(status=Status.SENT, attempts=1).count() == 3


def test_purge_removes_finished_messages_past_retention(frozen, gateway):
    from servicehall.core.models import AuditEntry

    old_sent, old_pending = queue(2)
    deliver_due(1, gateways={"sms": gateway})  # the first is sent, the second stays pending
    Message.objects.filter(pk=old_pending.pk).update(next_attempt_at=T0 + dt.timedelta(days=999))
    frozen.shift(dt.timedelta(days=181))
    [recent] = queue()
    assert delivery.purge() == 1
    assert set(Message.objects.values_list("pk", flat=True)) == {old_pending.pk, recent.pk}
    entry = AuditEntry.objects.filter(action="notify.purge").latest("sequence")
    assert entry.details["deleted"] == 1
    assert delivery.purge() == 0
