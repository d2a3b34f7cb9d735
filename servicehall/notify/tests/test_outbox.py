import logging
import threading
import time

import pytest
from django.db import connections, transaction
from django.db.transaction import TransactionManagementError

from servicehall.notify.models import Channel, Message, Status
from servicehall.notify.outbox import enqueue, normalise_phone, notify_email, notify_sms


@pytest.mark.django_db
def test_enqueue_inserts_a_pending_row_and_sends_nothing(gateway):
    with transaction.atomic():
        message = notify_sms("13800000001", "办件已受理", about=("cases.case", 42))
    message.refresh_from_db()
    assert message.status == Status.PENDING
    assert message.channel == Channel.SMS and message.recipient == "13800000001"
    assert message.attempts == 0 and message.next_attempt_at is not None
    assert (message.about_type, message.about_id) == ("cases.case", "42")
    assert gateway.calls == 0


@pytest.mark.django_db
def test_enqueue_in_a_transaction_that_rolls_back_leaves_nothing():
    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        notify_sms("13800000001", "不会发出")
        notify_email("a@example.com", "主题", "不会发出", dedupe_key="gone")
        raise Abort
    assert not Message.objects.exists()
    # The key was never taken: queuing again works.
    with transaction.atomic():
        notify_email("a@example.com", "主题", "正文", dedupe_key="gone")
    assert Message.objects.count() == 1


def test_enqueue_outside_a_transaction_is_refused():
    # Refused before any query (this test has no database access at all).
    with pytest.raises(TransactionManagementError, match="transaction.atomic"):
        notify_sms("13800000001", "孤立的通知")


@pytest.mark.django_db
def test_same_dedupe_key_returns_the_first_row():
    with transaction.atomic():
        first = notify_sms("13800000001", "第一次", dedupe_key="case-event:7")
    with transaction.atomic():
        again = notify_sms("13900000002", "第二次", dedupe_key="case-event:7")
        within = notify_sms("13900000002", "第三次", dedupe_key="case-event:7")
    assert again.pk == first.pk == within.pk
    assert again.body == "第一次" and again.recipient == "13800000001"
    assert Message.objects.count() == 1


@pytest.mark.django_db
def test_without_a_key_every_call_queues():
    with transaction.atomic():
        notify_sms("13800000001", "一")
        notify_sms("13800000001", "一")
        notify_sms("13800000001", "二", dedupe_key="a")
        notify_sms("13800000001", "二", dedupe_key="b")
    assert Message.objects.count() == 4


@pytest.mark.django_db
def test_about_a_model_instance():
    with transaction.atomic():
        first = notify_sms("13800000001", "一")
        second = notify_sms("13800000001", "二", about=first)
    assert (second.about_type, second.about_id) == ("notify.message", str(first.pk))


@pytest.mark.django_db
def test_a_bad_recipient_is_recorded_as_failed_not_raised(caplog):
    caplog.set_level(logging.WARNING, logger="servicehall.notify")
    with transaction.atomic():
        sms = notify_sms("1380000", "号码不完整")
        mail = notify_email("not-an-address", "主题", "正文")
        empty = notify_sms("", "没有号码")
    for message in (sms, mail, empty):
        message.refresh_from_db()
        assert message.status == Status.FAILED
        assert message.next_attempt_at is None
        assert message.last_error.startswith("invalid recipient")
    assert "1380000" not in caplog.text


@pytest.mark.django_db
def test_programming_errors_raise():
    with transaction.atomic():
        with pytest.raises(ValueError, match="channel"):
            enqueue(channel="fax", to="13800000001", body="x")
        with pytest.raises(ValueError, match="body"):
            enqueue(channel=Channel.SMS, to="13800000001", body="  ")
        with pytest.raises(ValueError, match="dedupe_key"):
            enqueue(channel=Channel.SMS, to="13800000001", body="x", dedupe_key="k" * 201)
    assert not Message.objects.exists()


@pytest.mark.django_db
def test_email_subject_loses_line_breaks():
    with transaction.atomic():
        message = notify_email(" a@example.com ", "时限\r\n预警", "正文")
    assert message.subject == "时限 预警"
    assert message.recipient == "a@example.com"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13800000001", "13800000001"),
        ("+86 138-0000-0001", "13800000001"),
        ("0086 13800000001", "13800000001"),
        (" 138 0000 0001 ", "13800000001"),
        ("+85291234567", "+85291234567"),
        ("12800000001", None),
        ("1380000000", None),
        ("024-23456789", None),
        ("", None),
        (None, None),
    ],
)
def test_normalise_phone(raw, expected):
    assert normalise_phone(raw) == expected


# --- concurrency (PostgreSQL) -----------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("first_commits", [True, False])
def test_concurrent_enqueue_with_one_key(first_commits):
    """The second writer waits for the first holder of the key: it gets the first row when
    that commits, and queues its own when that rolls back."""
    first_inside = threading.Event()
    results, errors = {}, []

    class Abort(Exception):
        pass

    def first():
        try:
            with transaction.atomic():
                results["first"] = notify_sms("13800000001", "甲", dedupe_key="race").pk
                first_inside.set()
                time.sleep(0.4)  # the second writer is now blocked on the key
                if not first_commits:
                    raise Abort
        except Abort:
            pass
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            first_inside.set()
            connections.close_all()

    def second():
        try:
            assert first_inside.wait(10)
            with transaction.atomic():
                results["second"] = notify_sms("13900000002", "乙", dedupe_key="race").pk
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    row = Message.objects.get(dedupe_key="race")
    assert Message.objects.count() == 1
    assert row.pk == results["second"]
    assert row.body == ("甲" if first_commits else "乙")
