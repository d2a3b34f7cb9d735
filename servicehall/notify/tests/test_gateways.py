import json
import logging
import smtplib
import stat

import pytest
from django.core import mail
from django.db import transaction

from servicehall.notify.gateways import (
    ConsoleGateway,
    FileGateway,
    GatewayError,
    HttpSmsGateway,
    PermanentGatewayError,
    SmtpEmailGateway,
    get_gateway,
)
from servicehall.notify.outbox import notify_email, notify_sms

pytestmark = pytest.mark.django_db


@pytest.fixture
def sms():
    with transaction.atomic():
        return notify_sms("13800000001", "办件ZA2026000001已受理。")


@pytest.fixture
def email():
    with transaction.atomic():
        return notify_email("zhang.san@example.com", "时限预警", "办件将于明日到期。")


def test_get_gateway_follows_settings(settings):
    assert isinstance(get_gateway("sms"), ConsoleGateway)
    settings.NOTIFY_EMAIL_GATEWAY = "servicehall.notify.gateways.SmtpEmailGateway"
    assert isinstance(get_gateway("email"), SmtpEmailGateway)


# --- console and file --------------------------------------------------------------------


def test_console_logs_the_text_with_the_number_masked(sms, caplog):
    with caplog.at_level(logging.INFO, logger="servicehall.notify"):
        provider_id = ConsoleGateway().send(sms)
    assert provider_id.startswith("console-")
    assert "138****0001" in caplog.text and "办件ZA2026000001已受理。" in caplog.text
    assert "13800000001" not in caplog.text


def test_file_gateway_appends_json_lines(sms, email, tmp_path):
    path = tmp_path / "spool" / "out.jsonl"
    gateway = FileGateway(path)
    ids = [gateway.send(sms), gateway.send(email)]
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [line["provider_message_id"] for line in lines] == ids
    assert lines[0]["to"] == "13800000001" and lines[0]["body"] == sms.body
    assert lines[1]["subject"] == "时限预警"
    assert gateway.read() == lines
    # It holds full numbers: readable by its owner only.
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_file_gateway_reports_an_unwritable_path_as_temporary(sms, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(GatewayError) as info:
        FileGateway(blocker / "out.jsonl").send(sms)
    assert not isinstance(info.value, PermanentGatewayError)


# --- e-mail through Django's backend -----------------------------------------------------


def test_smtp_gateway_sends_through_the_email_backend(email, settings):
    settings.NOTIFY_EMAIL_FROM = "noreply@hall.example.cn"
    provider_id = SmtpEmailGateway().send(email)
    [sent] = mail.outbox
    assert sent.to == ["zhang.san@example.com"]
    assert sent.subject == "时限预警" and sent.body == "办件将于明日到期。"
    assert sent.from_email == "noreply@hall.example.cn"
    assert sent.message()["Message-ID"] == provider_id


@pytest.mark.parametrize(
    ("error", "permanent"),
    [
        (smtplib.SMTPRecipientsRefused({"x@example.com": (550, b"no such user")}), True),
        (smtplib.SMTPDataError(554, b"rejected as spam"), True),
        (smtplib.SMTPDataError(451, b"try again later"), False),
        (smtplib.SMTPServerDisconnected("gone"), False),
        (ConnectionRefusedError(111, "Connection refused"), False),
        (TimeoutError("timed out"), False),
    ],
)
def test_smtp_gateway_classifies_errors(email, settings, error, permanent):
    settings.EMAIL_BACKEND = "servicehall.notify.tests.support.ScriptedEmailBackend"
    settings.TEST_EMAIL_ERROR = error
    with pytest.raises(GatewayError) as info:
        SmtpEmailGateway().send(email)
    assert isinstance(info.value, PermanentGatewayError) is permanent


def test_smtp_gateway_refuses_sms(sms):
    with pytest.raises(PermanentGatewayError):
        SmtpEmailGateway().send(sms)


# --- SMS over HTTP, against a real server on 127.0.0.1 ----------------------------------


def http_gateway(provider, **kwargs):
    return HttpSmsGateway(provider.url, "test-api-key", sender="【测试公安局】", **kwargs)


def test_http_gateway_posts_json_and_returns_the_provider_id(sms, sms_provider):
    assert http_gateway(sms_provider).send(sms) == "p-1"
    [request] = sms_provider.requests
    assert request["path"] == "/v1/sms"
    assert request["headers"]["Authorization"] == "Bearer test-api-key"
    assert request["headers"]["Idempotency-Key"] == f"servicehall-notify-{sms.pk}"
    assert request["headers"]["Content-Type"].startswith("application/json")
    assert sms_provider.json(0) == {
        "to": "13800000001",
        "body": "办件ZA2026000001已受理。",
        "sender": "【测试公安局】",
        "reference": str(sms.pk),
    }


def test_http_gateway_same_idempotency_key_on_every_attempt(sms, sms_provider):
    gateway = http_gateway(sms_provider)
    gateway.send(sms)
    gateway.send(sms)
    keys = {r["headers"]["Idempotency-Key"] for r in sms_provider.requests}
    assert keys == {f"servicehall-notify-{sms.pk}"}


@pytest.mark.parametrize(
    ("status", "permanent"),
    [
        (400, True),  # this message: bad number, blocked content
        (422, True),
        (401, False),  # our key or URL: fixed by an operator, then retries succeed
        (403, False),
        (404, False),
        (429, False),  # throttled
        (500, False),
        (503, False),
        (302, False),  # a redirect means a wrong URL; never followed with the body dropped
    ],
)
def test_http_gateway_classifies_status_codes(sms, sms_provider, status, permanent):
    sms_provider.script = [(status, {"error": "号码无效"}, 0)]
    with pytest.raises(GatewayError) as info:
        http_gateway(sms_provider).send(sms)
    assert isinstance(info.value, PermanentGatewayError) is permanent
    assert f"HTTP {status}" in str(info.value)
    assert len(sms_provider.requests) == 1


def test_http_gateway_error_text_carries_the_provider_message(sms, sms_provider):
    sms_provider.script = [(400, {"error": "号码无效"}, 0)]
    with pytest.raises(PermanentGatewayError, match="号码无效"):
        http_gateway(sms_provider).send(sms)


def test_http_gateway_timeout_is_temporary(sms, sms_provider):
    sms_provider.script = [(200, {"id": "late"}, 1.0)]
    with pytest.raises(GatewayError, match="unreachable") as info:
        http_gateway(sms_provider, timeout=0.2).send(sms)
    assert not isinstance(info.value, PermanentGatewayError)


def test_http_gateway_connection_refused_is_temporary(sms, sms_provider):
    url = sms_provider.url
    sms_provider.close()
    with pytest.raises(GatewayError, match="unreachable") as info:
        HttpSmsGateway(url, "k", timeout=1).send(sms)
    assert not isinstance(info.value, PermanentGatewayError)


def test_http_gateway_accepted_without_an_id(sms, sms_provider):
    sms_provider.script = [(202, b"OK", 0)]
    assert http_gateway(sms_provider).send(sms) == ""


def test_http_gateway_needs_an_http_url(sms):
    with pytest.raises(GatewayError, match="http"):
        HttpSmsGateway("file:///etc/passwd", "k").send(sms)
    with pytest.raises(GatewayError):
        HttpSmsGateway("", "k").send(sms)


def test_http_gateway_refuses_email(email, sms_provider):
    with pytest.raises(PermanentGatewayError):
        http_gateway(sms_provider).send(email)
    assert sms_provider.requests == []
