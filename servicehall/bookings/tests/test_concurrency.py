"""Under concurrency (threads, each with its own PostgreSQL connection): a slot never holds
more than its capacity, a double submit is one booking, queue numbers are unique and in
order, and two counters never call the same person."""

import datetime as dt
import threading

import pytest
import time_machine
from django.db import connection

from servicehall.accounts.tests.factories import CitizenFactory
from servicehall.bookings import queue, workflow
from servicehall.bookings.models import Booking, Counter, Slot, Ticket

from .conftest import MONDAY, first_slot, token

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


@pytest.fixture
def travel():
    with time_machine.travel("2026-09-14 09:00 +0800", tick=False):
        yield


def test_twenty_bookers_for_a_capacity_3_slot_give_exactly_3_bookings(city, travel):
    slot = first_slot(city)
    Slot.objects.filter(pk=slot.pk).update(capacity=3)
    people = [CitizenFactory() for _ in range(20)]

    results, errors = run_together(
        lambda n: workflow.book(actor=people[n], slot=slot, client_token=token()), 20
    )
    assert len(results) == 3
    assert len(errors) == 17
    assert all(isinstance(e, workflow.BookingError) and e.code == "full" for e in errors.values())
    assert all("约满" in str(e) for e in errors.values())
    slot.refresh_from_db()
    assert slot.booked == 3 == Booking.objects.filter(slot=slot).count()


def test_a_concurrent_double_submit_is_one_booking(city, citizen, travel):
    slot = first_slot(city)
    key = token()
    results, errors = run_together(
        lambda n: workflow.book(actor=citizen, slot=slot, client_token=key), 8
    )
    assert errors == {}
    assert len({booking.pk for booking in results.values()}) == 1
    slot.refresh_from_db()
    assert slot.booked == 1


def test_one_person_booking_two_slots_at_once_gets_one(city, citizen, travel):
    slot = first_slot(city)
    other = Slot.objects.filter(date=slot.date, item=slot.item, start__gt=slot.start).first()
    results, errors = run_together(
        lambda n: workflow.book(actor=citizen, slot=(slot, other)[n % 2], client_token=token()),
        6,
    )
    assert len(results) == 1
    assert {e.code for e in errors.values()} == {"duplicate"}
    assert (
        sum(Slot.objects.filter(pk__in=[slot.pk, other.pk]).values_list("booked", flat=True)) == 1
    )


def test_concurrent_check_ins_get_unique_numbers_in_order(city, clerk):
    tuesday = MONDAY + dt.timedelta(days=1)
    slot = first_slot(city)
    Slot.objects.filter(pk=slot.pk).update(capacity=12)
    with time_machine.travel("2026-09-14 09:00 +0800", tick=False):
        bookings = [
            workflow.book(actor=CitizenFactory(), slot=slot, client_token=token())
            for _ in range(12)
        ]
    with time_machine.travel(f"{tuesday.isoformat()} 08:20 +0800", tick=False):
        results, errors = run_together(
            lambda n: queue.check_in(actor=clerk, office=city, booking=bookings[n]), 12
        )
        assert errors == {}
        numbers = sorted(ticket.number for ticket in results.values())
        assert numbers == list(range(1, 13))
        # Issued in order: a higher number was never issued before a lower one.
        by_number = Ticket.objects.filter(office=city, date=tuesday).order_by("number")
        assert list(by_number.values_list("number", flat=True)) == numbers

        counters = list(Counter.objects.filter(office=city).order_by("code"))
        called, errors = run_together(
            lambda n: queue.call_next(actor=clerk, counter=counters[n % len(counters)]), 8
        )
        assert errors == {}
        picked = [t.number for t in called.values() if t is not None]
        assert len(picked) == len(set(picked)) == 8
        assert sorted(picked) == list(range(1, 9))
