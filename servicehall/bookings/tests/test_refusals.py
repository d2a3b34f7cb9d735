"""Wrong role and wrong state for each verb; the database's own capacity check."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from servicehall.accounts.tests.factories import CitizenFactory, StaffFactory, department
from servicehall.bookings import queue, workflow
from servicehall.bookings.models import Slot
from servicehall.bookings.workflow import BookingError

from .conftest import MONDAY, NOW, first_slot, token

TUESDAY = MONDAY + dt.timedelta(days=1)


def refused(expected, fn, **kwargs):
    with pytest.raises(BookingError) as info:
        fn(**kwargs)
    assert info.value.code == expected, str(info.value)


@pytest.fixture
def booking(city, citizen):
    with time_machine.travel(NOW, tick=False):
        return workflow.book(actor=citizen, slot=first_slot(city), client_token=token())


def test_the_database_refuses_more_than_capacity(city):
    slot = first_slot(city)
    with pytest.raises(IntegrityError), transaction.atomic():
        Slot.objects.filter(pk=slot.pk).update(booked=F("capacity") + 1)


def test_rebook_wrong_role_and_wrong_state(booking, city):
    later = Slot.objects.filter(
        date=booking.date, item=booking.item, start__gt=booking.slot.start
    ).first()
    with time_machine.travel(NOW, tick=False):
        with pytest.raises(PermissionDenied):
            workflow.rebook(
                actor=CitizenFactory(), booking=booking, slot=later, client_token=token()
            )
        refused(
            "same_slot",
            workflow.rebook,
            actor=booking.account,
            booking=booking,
            slot=booking.slot,
            client_token=token(),
        )
        workflow.cancel(actor=booking.account, booking=booking)
        refused(
            "wrong_state",
            workflow.rebook,
            actor=booking.account,
            booking=booking,
            slot=later,
            client_token=token(),
        )


def test_cancel_after_the_slot_started_is_refused(booking):
    with time_machine.travel(f"{TUESDAY} 08:35 +0800", tick=False):
        refused("past", workflow.cancel, actor=booking.account, booking=booking)


def test_no_show_wrong_state(booking, clerk):
    with time_machine.travel(NOW, tick=False):
        workflow.cancel(actor=booking.account, booking=booking)
    with time_machine.travel(f"{TUESDAY} 18:00 +0800", tick=False):
        refused("wrong_state", workflow.record_no_show, actor=clerk, booking=booking)
        assert workflow.sweep_no_shows() == 0


def test_no_show_by_staff_of_another_department(booking):
    traffic = StaffFactory(roles=["window_clerk"], department=department("jiaojing"))
    with (
        time_machine.travel(f"{TUESDAY} 18:00 +0800", tick=False),
        pytest.raises(PermissionDenied),
    ):
        workflow.record_no_show(actor=traffic, booking=booking)


def test_closure_period_and_counter_are_checked(city, offices, manager):
    with time_machine.travel(NOW, tick=False):
        start = timezone.now() + dt.timedelta(days=1)
        refused(
            "bad_period",
            workflow.add_closure,
            actor=manager,
            office=city,
            start=start,
            end=start,
            reason="停电",
        )
        refused(
            "past",
            workflow.add_closure,
            actor=manager,
            office=city,
            start=start - dt.timedelta(days=3),
            end=start - dt.timedelta(days=2),
            reason="停电",
        )
        refused(
            "wrong_counter",
            workflow.add_closure,
            actor=manager,
            office=city,
            start=start,
            end=start + dt.timedelta(hours=1),
            reason="停电",
            counter=offices["crj-heping"].counters.first(),
        )


def test_complete_and_skip_wrong_role_and_wrong_state(booking, city, clerk):
    with time_machine.travel(f"{TUESDAY} 08:20 +0800", tick=False):
        ticket = queue.check_in(actor=clerk, office=city, booking=booking)
        refused("wrong_state", queue.skip, actor=clerk, ticket=ticket)  # not called yet
        called = queue.call_next(actor=clerk, counter=city.counters.get(code="01"))
        with pytest.raises(PermissionDenied):
            queue.complete(actor=CitizenFactory(), ticket=called)
        reviewer = StaffFactory(roles=["reviewer"], department=department("churujing"))
        with pytest.raises(PermissionDenied):
            queue.skip(actor=reviewer, ticket=called)
        queue.skip(actor=clerk, ticket=called)
        refused("wrong_state", queue.complete, actor=clerk, ticket=called)
        # A checked-in booking cannot be cancelled any more.
        refused("wrong_state", workflow.cancel, actor=booking.account, booking=booking)
