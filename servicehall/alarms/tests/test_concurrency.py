"""Under concurrency (threads, each with its own PostgreSQL connection): a unit is never
dispatched twice; a redelivered SMS is stored once; first messages from one number racing
each other open one thread and one incident."""

import threading

import pytest
from django.db import connection

from servicehall.alarms import sms as alarm_sms
from servicehall.alarms import workflow
from servicehall.alarms.models import Assignment, Incident, SmsMessage, SmsThread, UnitStatus
from servicehall.notify.models import Message

from .conftest import at, make_unit

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_together(work, count):
    """Run work(n) in `count` threads released at once; return (results, errors)."""
    barrier = threading.Barrier(count)
    results, errors = {}, {}

    def run(n):
        try:
            barrier.wait()
            results[n] = work(n)
        except Exception as exc:  # noqa: BLE001 - collected and checked by the test
            errors[n] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


def test_eight_dispatchers_sending_one_unit_to_eight_incidents_send_it_once(centre):
    incidents = [
        workflow.create_from_call(actor=centre, line="110", received_at=at(0), now=at(5))
        for _ in range(8)
    ]
    car = make_unit()
    results, errors = run_together(
        lambda n: workflow.assign_unit(actor=centre, incident=incidents[n], unit=car, now=at(30)),
        8,
    )
    assert len(results) == 1 and len(errors) == 7
    assert {e.code for e in errors.values()} == {"unit_busy"}
    assert Assignment.objects.filter(unit=car).count() == 1
    car.refresh_from_db()
    assert car.status == UnitStatus.DISPATCHED
    assert Incident.objects.filter(status="dispatched").count() == 1


def test_a_redelivery_racing_the_first_delivery_is_stored_once(districts):
    def deliver(n):
        return alarm_sms.receive_sms(
            gateway="http", message_id="gw-42", phone="13912340001", text="救命", now=at(1)
        )

    results, errors = run_together(deliver, 8)
    assert errors == {}
    assert len({m.pk for m in results.values()}) == 1
    assert SmsMessage.objects.filter(direction="in").count() == 1
    assert SmsThread.objects.count() == 1 == Incident.objects.count()
    assert Message.objects.count() == 1  # one acknowledgement


def test_first_messages_from_one_number_racing_open_one_thread_in_order(districts):
    def deliver(n):
        return alarm_sms.receive_sms(
            gateway="http", message_id=f"gw-{n}", phone="13912340001", text=f"第{n}条"
        )

    results, errors = run_together(deliver, 6)
    assert errors == {}
    assert SmsThread.objects.count() == 1 == Incident.objects.count()
    thread = SmsThread.objects.get()
    sequences = list(thread.messages.order_by("sequence").values_list("sequence", flat=True))
    assert sequences == list(range(1, len(sequences) + 1))
    assert thread.messages.filter(direction="in").count() == 6
    # Stored in arrival order: message ids are increasing in the order they were stored.
    stored = list(thread.messages.filter(direction="in").order_by("sequence"))
    assert [m.pk for m in stored] == sorted(m.pk for m in stored)
