"""Acceptance criterion of the cases issue: "the outbox survives a gateway failure and
delivers after it recovers" — end to end, with the configured HTTP SMS gateway talking to a
real (local) provider and the provider's signed delivery receipt coming back."""

import datetime as dt
import json
import time

import pytest
from django.db import transaction

from servicehall.notify.delivery import deliver_due
from servicehall.notify.gateways import SIGNATURE_HEADER, TIMESTAMP_HEADER, receipt_signature
from servicehall.notify.models import Status
from servicehall.notify.outbox import notify_sms

from .conftest import RECEIPT_SECRET, T0


@pytest.mark.django_db
def test_outbox_survives_a_gateway_outage_and_delivers_after_it_recovers(
    sms_provider, frozen, settings, client
):
    settings.NOTIFY_SMS_GATEWAY = "servicehall.notify.gateways.HttpSmsGateway"
    settings.NOTIFY_SMS_HTTP_URL = sms_provider.url
    settings.NOTIFY_SMS_HTTP_API_KEY = "test-api-key"

    # A case changes status; its notification commits with it.
    with transaction.atomic():
        message = notify_sms(
            "13800000001",
            "办件ZA2026000001已受理。",
            dedupe_key="case-event:1",
            about=("cases.case", "1"),
        )

    # The provider is down: the message stays queued with the error and a retry time.
    sms_provider.status_while_down = 503
    assert deliver_due().retried == 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Status.PENDING, 1)
    assert message.last_error.startswith("HTTP 503 from SMS gateway")
    assert message.next_attempt_at == T0 + dt.timedelta(seconds=30)

    # Still down half a minute later: retried again, and the wait doubles.
    frozen.shift(dt.timedelta(seconds=30))
    assert deliver_due().retried == 1
    message.refresh_from_db()
    assert message.next_attempt_at == T0 + dt.timedelta(seconds=90)

    # The provider recovers; nothing happens before the message is due ...
    sms_provider.status_while_down = None
    frozen.shift(dt.timedelta(seconds=59))
    assert deliver_due().claimed == 0
    # ... and then it is sent, once.
    frozen.shift(dt.timedelta(seconds=1))
    assert deliver_due().sent == 1
    message.refresh_from_db()
    assert (message.status, message.attempts, message.gateway) == (Status.SENT, 3, "http_sms")
    assert message.provider_message_id == "p-3"
    assert message.sent_at == T0 + dt.timedelta(seconds=90)
    assert len(sms_provider.requests) == 3
    assert {r["headers"]["Idempotency-Key"] for r in sms_provider.requests} == {
        f"servicehall-notify-{message.pk}"
    }

    # The provider's receipt says it reached the phone.
    body = json.dumps({"id": "p-3", "status": "delivered"}).encode()
    ts = str(int(time.time()))
    response = client.post(
        "/notify/receipts/sms/",
        data=body,
        content_type="application/json",
        headers={
            TIMESTAMP_HEADER: ts,
            SIGNATURE_HEADER: receipt_signature(RECEIPT_SECRET, ts, body),
        },
    )
    assert response.status_code == 200
    message.refresh_from_db()
    assert message.status == Status.DELIVERED
    assert message.delivered_at == T0 + dt.timedelta(seconds=90)
