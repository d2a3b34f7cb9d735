"""The booking POST stays cheap: few SQL statements per request (issue 6's benchmark), a
full slot refused from the slot's row before the person's bookings are read, the sibling
counter's slot chosen in the same read — with every answer as before."""

import json

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from servicehall.accounts.tests.factories import CitizenFactory
from servicehall.bookings import rush, workflow
from servicehall.bookings.models import Booking, Slot

from .conftest import NOW, first_slot, token

API = "/api/bookings/"
FULL = {"detail": "该时段已约满，请选择其他时段。", "code": "full"}


@pytest.fixture(autouse=True)
def travel():
    cache.clear()
    with time_machine.travel(NOW, tick=False):
        yield
    cache.clear()


@pytest.fixture
def slot(city):
    return first_slot(city)


def warm(client):
    """Sign in, and let the waiting room's look-up of the next release moment be cached (once
    per 30 s per process, as between the requests of a rush)."""
    client.force_login(CitizenFactory())
    rush.release_near(timezone.now())
    return client


def book(client, slot_pk, key=None):
    body = json.dumps({"slot": slot_pk, "client_token": key or token()})
    return client.post(API, body, content_type="application/json")


def siblings(slot):
    return Slot.objects.filter(office=slot.office, item=slot.item, start=slot.start)


def test_a_booking_post_makes_a_bounded_number_of_statements(
    client, slot, django_assert_max_num_queries
):
    warm(client)
    # Session, user with profile, the slots of the time with the token's booking, the
    # person's bookings, the guarded UPDATE with the booking's INSERT, the audit chain's
    # lock and head, and its entry written with the SMS and the event; + 2 savepoints and
    # their releases only because the test runs in a transaction. (SQLite: one statement a
    # row, so the guard, the booking, the SMS, the event and the entry are five.)
    with django_assert_max_num_queries(11 if connection.vendor == "postgresql" else 14):
        answer = book(client, slot.pk)
    assert answer.status_code == 201, answer.content


def test_a_full_refusal_makes_three_statements_and_says_why(
    client, slot, django_assert_max_num_queries
):
    siblings(slot).update(booked=0, capacity=0)
    warm(client)
    with django_assert_max_num_queries(3):  # session, user with profile, the time's slots
        answer = book(client, slot.pk)
    assert answer.status_code == 409 and answer.json() == FULL


def test_a_full_time_is_refused_before_the_persons_bookings_are_read(slot):
    siblings(slot).update(capacity=1, booked=1)
    citizen = CitizenFactory()
    with CaptureQueriesContext(connection) as queries, pytest.raises(workflow.BookingError) as info:
        workflow.book(actor=citizen, slot=slot, client_token=token())
    assert info.value.code == "full" and str(info.value) == FULL["detail"]
    assert len(queries) == 1  # the time's slots with office, item and the token's booking
    assert "FROM bookings_slot r" in queries[0]["sql"]


def test_a_double_submit_after_the_slot_filled_is_still_the_same_booking(client, slot):
    Slot.objects.filter(pk=slot.pk).update(capacity=1)
    siblings(slot).exclude(pk=slot.pk).update(capacity=0)
    warm(client)
    key = token()
    first = book(client, slot.pk, key)
    assert first.status_code == 201
    again = book(client, slot.pk, key)
    assert again.status_code == 200 and again.json()["code"] == first.json()["code"]
    assert Booking.objects.count() == 1


def test_a_full_slot_moves_to_the_emptiest_sibling_and_an_open_one_may_too(client, slot):
    others = list(siblings(slot).exclude(pk=slot.pk).order_by("counter__code"))
    assert others, "the city office has several counters for CRJ-XK-001"
    siblings(slot).update(capacity=5, booked=4)
    emptiest = others[-1]
    Slot.objects.filter(pk=emptiest.pk).update(booked=1)
    warm(client)
    assert book(client, slot.pk).status_code == 201
    assert Booking.objects.get().slot_id == emptiest.pk  # as the page's "most places" offer
    siblings(slot).update(booked=5)
    Slot.objects.filter(pk=others[0].pk).update(booked=3)
    warm(client)
    assert book(client, slot.pk).status_code == 201
    assert Booking.objects.filter(slot_id=others[0].pk).count() == 1


def test_an_unknown_slot_or_a_closed_office_is_404(client, slot):
    warm(client)
    assert book(client, 999999999).status_code == 404
    slot.office.__class__.objects.filter(pk=slot.office_id).update(is_active=False)
    answer = book(client, slot.pk)
    assert answer.status_code == 404 and answer.json()["code"] == "not_found"


def test_only_at_any_counter_moves_a_booking_or_a_rebooking_to_a_sibling(slot):
    """The verb books the slot asked for unless told a counter does not matter (the pages,
    the API and the desks): then a full slot's time is booked at a sibling counter — for a
    rebooking too."""
    others = list(siblings(slot).exclude(pk=slot.pk).order_by("counter__code"))
    Slot.objects.filter(pk=slot.pk).update(capacity=1, booked=1)
    citizen = CitizenFactory()
    with pytest.raises(workflow.BookingError) as info:
        workflow.book(actor=citizen, slot=slot, client_token=token())
    assert info.value.code == "full"
    booking = workflow.book(actor=citizen, slot=slot, client_token=token(), at_any_counter=True)
    assert booking.slot_id == others[0].pk
    later = (
        Slot.objects.filter(office=slot.office, item=slot.item, date=slot.date)
        .exclude(start=slot.start)
        .order_by("start", "counter__code")
        .first()
    )
    siblings(later).update(booked=0)
    Slot.objects.filter(pk=later.pk).update(capacity=1, booked=1)
    moved = workflow.rebook(
        actor=citizen, booking=booking, slot=later, client_token=token(), at_any_counter=True
    )
    assert moved.slot_id != later.pk and moved.slot.start == later.start
