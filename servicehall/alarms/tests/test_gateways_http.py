"""The HTTP callback adapter for inbound 12110 messages: signatures (valid, forged body, wrong
secret, stale, missing), malformed bodies, acknowledgement only after storage (a database
failure answers 5xx and the redelivery stores once), redeliveries, threading by number, and
a concurrent double delivery stored once."""

import json
import threading
import time
from unittest import mock

import pytest
from django.db import OperationalError, connection
from django.test import Client

from servicehall.alarms import sms as alarm_sms
from servicehall.alarms.models import Incident, SmsMessage, SmsThread
from servicehall.notify.gateways import SIGNATURE_HEADER, TIMESTAMP_HEADER, receipt_signature
from servicehall.notify.models import Message

SECRET = "test-inbound-secret"
URL = "/sms/inbound/cloud/"


@pytest.fixture(autouse=True)
def _secrets(settings):
    settings.ALARM_SMS_INBOUND_SECRETS = {"cloud": SECRET, "off": ""}
    settings.ALARM_SMS_INBOUND_MAX_SKEW_SECONDS = 300


def payload(
    message_id="cloud-1", phone="13912340001", text="我在和平区被人跟踪，不方便说话", **extra
):
    return {"id": message_id, "from": phone, "to": "12110", "text": text, **extra}


def post(data, *, secret=SECRET, timestamp=None, url=URL, signature=None, body=None, client=None):
    body = body if body is not None else json.dumps(data, ensure_ascii=False).encode()
    timestamp = str(int(time.time())) if timestamp is None else timestamp
    headers = {}
    if timestamp != "":
        headers[TIMESTAMP_HEADER] = timestamp
    if signature is None:
        signature = receipt_signature(secret, timestamp, body)
    if signature != "":
        headers[SIGNATURE_HEADER] = signature
    return (client or Client()).post(
        url, data=body, content_type="application/json", headers=headers
    )


def inbound():
    return SmsMessage.objects.filter(direction="in")


# --- signatures ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_signed_callback_is_stored_and_acknowledged(districts):
    response = post(payload(received_at="2026-12-07T16:00:00+08:00"))
    assert response.status_code == 200, response.content
    assert response.json() == {"ok": True, "stored": [{"id": "cloud-1", "repeated": False}]}
    message = inbound().get()
    assert (message.gateway, message.gateway_message_id) == ("cloud", "cloud-1")
    assert message.thread.phone == "13912340001"
    assert message.text == "我在和平区被人跟踪，不方便说话"
    assert message.thread.incident.channel == "sms"
    # The automatic acknowledgement went to the outbox with the message.
    assert Message.objects.filter(recipient="13912340001").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "how",
    ["forged_body", "wrong_secret", "stale", "future", "no_signature", "no_timestamp", "garbage"],
)
def test_forged_unsigned_or_stale_callbacks_are_refused_and_store_nothing(districts, how):
    data = payload()
    body = json.dumps(data).encode()
    now = str(int(time.time()))
    kwargs = {}
    if how == "forged_body":
        # Signed for one text, sent with another.
        kwargs = {
            "signature": receipt_signature(SECRET, now, body),
            "timestamp": now,
            "body": json.dumps(payload(text="假消息")).encode(),
        }
    elif how == "wrong_secret":
        kwargs = {"secret": "not-the-secret"}
    elif how == "stale":
        kwargs = {"timestamp": str(int(time.time()) - 3600)}  # a replay an hour later
    elif how == "future":
        kwargs = {"timestamp": str(int(time.time()) + 3600)}
    elif how == "no_signature":
        kwargs = {"signature": ""}
    elif how == "no_timestamp":
        kwargs = {"timestamp": "", "signature": receipt_signature(SECRET, "", body)}
    elif how == "garbage":
        kwargs = {"signature": "sha256=" + "0" * 64}
    response = post(data, **kwargs)
    assert response.status_code == 403
    assert response.json() == {"ok": False, "error": "bad signature"}
    assert not inbound().exists()
    assert not Incident.objects.exists()


@pytest.mark.django_db
def test_unknown_or_disabled_gateways_and_other_methods(districts):
    assert post(payload(), url="/sms/inbound/nosuch/").status_code == 404
    assert post(payload(), url="/sms/inbound/off/", secret="").status_code == 403
    assert Client().get(URL).status_code == 405
    assert not inbound().exists()


@pytest.mark.django_db
def test_the_signature_is_checked_before_the_body_is_read(districts):
    # Without the secret nobody learns whether their JSON was valid.
    response = post(None, body=b"{not json", secret="wrong")
    assert response.status_code == 403


# --- malformed bodies: 400, permanent -----------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[]",
        b'"text"',
        json.dumps({"from": "13912340001", "to": "12110", "text": "x"}).encode(),  # no id
        json.dumps(payload(text="")).encode(),
        json.dumps(payload(phone="12345")).encode(),  # not a mobile
        json.dumps({**payload(), "to": "95555"}).encode(),  # not sent to 12110
        json.dumps(payload(received_at="yesterday")).encode(),
        json.dumps([payload(), "x"]).encode(),
    ],
)
def test_malformed_callbacks_answer_400_and_store_nothing(districts, body):
    response = post(None, body=body)
    assert response.status_code == 400, response.content
    assert response.json()["ok"] is False
    assert not inbound().exists()


# --- acknowledgement only after storage ---------------------------------------------------


@pytest.mark.django_db
def test_a_redelivery_answers_200_again_without_a_duplicate(districts):
    first = post(payload())
    again = post(payload())
    assert first.status_code == again.status_code == 200
    assert again.json()["stored"] == [{"id": "cloud-1", "repeated": True}]
    assert inbound().count() == 1
    assert Message.objects.count() == 1  # acknowledged once


@pytest.mark.django_db
def test_a_crash_before_storage_answers_5xx_and_the_redelivery_stores_once(
    districts, first_message_insert_fails
):
    """The database fails while storing: nothing is committed, the provider is told to retry
    (503), and its redelivery is stored once, in its thread, acknowledged once."""
    with first_message_insert_fails(OperationalError("server closed the connection unexpectedly")):
        failed = post(payload())
    assert failed.status_code == 503
    assert failed["Retry-After"]
    assert not inbound().exists()
    assert not Incident.objects.exists()  # the whole transaction was rolled back
    assert not Message.objects.exists()  # no acknowledgement for a message not stored

    redelivered = post(payload())
    assert redelivered.status_code == 200
    assert inbound().count() == 1
    assert Incident.objects.count() == 1
    assert Message.objects.count() == 1
    assert post(payload()).status_code == 200  # and once more: still one
    assert inbound().count() == 1


@pytest.mark.django_db
def test_the_answer_comes_only_after_receive_sms_returned(districts):
    """The view answers 200 only with what receive_sms returned: if it raises, no 200."""
    with mock.patch(
        "servicehall.alarms.gateways_http.receive_sms",
        side_effect=OperationalError("could not serialize access"),
    ):
        assert post(payload()).status_code == 503
    order = []
    real = alarm_sms.receive_sms

    def spy(**kwargs):
        message = real(**kwargs)
        order.append(("stored", SmsMessage.objects.filter(pk=message.pk).exists()))
        return message

    with mock.patch("servicehall.alarms.gateways_http.receive_sms", side_effect=spy):
        response = post(payload())
    order.append(("answered", response.status_code))
    assert order == [("stored", True), ("answered", 200)]


@pytest.mark.django_db
def test_a_batch_is_stored_in_order_and_a_failure_midway_is_redelivered_whole(districts):
    batch = [payload(f"b-{n}", text=f"第{n}条") for n in range(1, 4)]
    real = alarm_sms.receive_sms

    def fail_on_third(**kwargs):
        if kwargs["message_id"] == "b-3":
            raise OperationalError("disk full")
        return real(**kwargs)

    with mock.patch("servicehall.alarms.gateways_http.receive_sms", side_effect=fail_on_third):
        assert post(batch).status_code == 503
    assert list(inbound().values_list("gateway_message_id", flat=True)) == ["b-1", "b-2"]
    response = post(batch)
    assert response.status_code == 200
    assert [s["repeated"] for s in response.json()["stored"]] == [True, True, False]
    thread = SmsThread.objects.get()
    texts = list(thread.messages.filter(direction="in").order_by("sequence"))
    assert [m.text for m in texts] == ["第1条", "第2条", "第3条"]


# --- threading by number ------------------------------------------------------------------


@pytest.mark.django_db
def test_messages_from_one_number_join_its_thread_others_open_their_own(districts):
    assert post(payload("t-1", phone="+86 139-1234-0001", text="有人闯入")).status_code == 200
    assert post(payload("t-2", phone="13912340001", text="在二楼")).status_code == 200
    assert post(payload("t-3", phone="13912340002", text="别的号码")).status_code == 200
    assert SmsThread.objects.count() == 2 == Incident.objects.count()
    thread = SmsThread.objects.get(phone="13912340001")
    assert [m.text for m in thread.messages.filter(direction="in").order_by("sequence")] == [
        "有人闯入",
        "在二楼",
    ]


# --- concurrency --------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_concurrent_double_delivery_stores_one_row(districts):
    count = 6
    barrier = threading.Barrier(count)
    statuses, errors = {}, {}

    def deliver(n):
        try:
            barrier.wait()
            statuses[n] = post(payload("dup-1")).status_code
        except Exception as exc:  # noqa: BLE001 - collected and checked
            errors[n] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == {}
    assert set(statuses.values()) == {200}
    assert inbound().count() == 1
    assert SmsThread.objects.count() == 1 == Incident.objects.count()
    assert Message.objects.count() == 1
