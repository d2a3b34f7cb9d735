import json
import time

import pytest
from django.db import transaction

from servicehall.notify.delivery import ReceiptOutcome, apply_receipt, deliver_due
from servicehall.notify.gateways import SIGNATURE_HEADER, TIMESTAMP_HEADER, receipt_signature
from servicehall.notify.models import Message, Status
from servicehall.notify.outbox import notify_sms

from .conftest import RECEIPT_SECRET
from .support import RecordingGateway

pytestmark = pytest.mark.django_db
URL = "/notify/receipts/sms/"


@pytest.fixture
def sent():
    with transaction.atomic():
        message = notify_sms("13800000001", "办件已办结。")
    deliver_due(gateways={"sms": RecordingGateway()})
    message.refresh_from_db()
    assert message.status == Status.SENT
    return message


def post(client, payload, *, secret=RECEIPT_SECRET, timestamp=None, signature=None):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    timestamp = str(int(time.time())) if timestamp is None else timestamp
    headers = {TIMESTAMP_HEADER: timestamp}
    headers[SIGNATURE_HEADER] = (
        receipt_signature(secret, timestamp, body) if signature is None else signature
    )
    return client.post(URL, data=body, content_type="application/json", headers=headers)


def test_delivered(client, sent):
    response = post(client, {"id": sent.provider_message_id, "status": "delivered"})
    assert response.status_code == 200
    assert response.json() == {"ok": True, "outcome": "applied"}
    sent.refresh_from_db()
    assert sent.status == Status.DELIVERED and sent.delivered_at is not None


def test_failed(client, sent):
    payload = {"id": sent.provider_message_id, "status": "failed", "error": "用户停机"}
    assert post(client, payload).status_code == 200
    sent.refresh_from_db()
    assert sent.status == Status.FAILED
    assert sent.last_error == "undeliverable: 用户停机"


def test_a_repeated_receipt_is_accepted_and_changes_nothing(client, sent):
    post(client, {"id": sent.provider_message_id, "status": "delivered"})
    response = post(client, {"id": sent.provider_message_id, "status": "failed"})
    assert response.status_code == 200 and response.json()["outcome"] == "ignored"
    sent.refresh_from_db()
    assert sent.status == Status.DELIVERED


def test_unknown_id(client, sent):
    response = post(client, {"id": "no-such-id", "status": "delivered"})
    assert response.status_code == 404


@pytest.mark.parametrize(
    "kwargs",
    [
        {"secret": "wrong-secret"},
        {"signature": ""},
        {"signature": "sha256=" + "0" * 64},
        {"timestamp": "not-a-number"},
        {"timestamp": "١٢٣"},  # digits, but not ASCII ones
        {"timestamp": str(int(time.time()) - 3600)},  # a replay an hour later
    ],
)
def test_bad_signature(client, sent, kwargs):
    response = post(client, {"id": sent.provider_message_id, "status": "delivered"}, **kwargs)
    assert response.status_code == 403
    sent.refresh_from_db()
    assert sent.status == Status.SENT


def test_a_stale_timestamp_within_skew_is_accepted(client, sent):
    ts = str(int(time.time()) - 200)
    assert post(client, {"id": sent.provider_message_id, "status": "delivered"}, timestamp=ts)


def test_the_signature_covers_the_body(client, sent):
    ts = str(int(time.time()))
    good = json.dumps({"id": sent.provider_message_id, "status": "failed"}).encode()
    forged = json.dumps({"id": sent.provider_message_id, "status": "delivered"}).encode()
    response = client.post(
        URL,
        data=forged,
        content_type="application/json",
        headers={
            TIMESTAMP_HEADER: ts,
            SIGNATURE_HEADER: receipt_signature(RECEIPT_SECRET, ts, good),
        },
    )
    assert response.status_code == 403


def test_receipts_are_off_without_a_secret(client, sent, settings):
    settings.NOTIFY_SMS_RECEIPT_SECRET = ""
    response = post(client, {"id": sent.provider_message_id, "status": "delivered"}, secret="")
    assert response.status_code == 403


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        b"[1, 2]",
        {"status": "delivered"},
        {"id": "", "status": "delivered"},
        {"id": 42, "status": "delivered"},
        {"id": "x" * 129, "status": "delivered"},
        {"id": "p-1", "status": "read"},
        {"id": "p-1"},
        {"id": "p-1", "status": "failed", "error": {"code": 1}},
    ],
)
def test_malformed(client, sent, payload):
    assert post(client, payload).status_code == 400


def test_only_post(client):
    assert client.get(URL).status_code == 405


def test_no_csrf_token_needed(sent):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    assert post(client, {"id": sent.provider_message_id, "status": "delivered"}).status_code == 200


def test_apply_receipt_only_touches_sms(sent):
    with transaction.atomic():
        mail = Message.objects.create(
            channel="email",
            recipient="a@example.com",
            body="x",
            status=Status.SENT,
            provider_message_id="<shared@id>",
        )
    assert apply_receipt("<shared@id>", "delivered") is ReceiptOutcome.UNKNOWN
    mail.refresh_from_db()
    assert mail.status == Status.SENT
    with pytest.raises(ValueError):
        apply_receipt(sent.provider_message_id, "sent")
