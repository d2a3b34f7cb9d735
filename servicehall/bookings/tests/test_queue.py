"""At the office: check-in, queue numbers in order, calling, waiting-time figures."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied

from servicehall.accounts.tests.factories import CitizenFactory
from servicehall.bookings import queries, queue, workflow
from servicehall.bookings.models import BookingStatus, Counter, TicketStatus
from servicehall.bookings.workflow import BookingError

from .conftest import MONDAY, first_slot, token

TUESDAY = MONDAY + dt.timedelta(days=1)


def at(hhmm: str):
    return time_machine.travel(f"{TUESDAY.isoformat()} {hhmm} +0800", tick=False)


@pytest.fixture
def booked(city):
    """Three people booked into Tuesday's first slot of the city office."""
    slot = first_slot(city)
    with at("08:00"):
        return [
            workflow.book(actor=CitizenFactory(), slot=slot, client_token=token()) for _ in range(3)
        ]


def refused(expected, fn, **kwargs):
    with pytest.raises(BookingError) as info:
        fn(**kwargs)
    assert info.value.code == expected, str(info.value)


def test_check_in_by_qr_code_or_id_number_issues_numbers_in_order(city, clerk, booked):
    first, second, third = booked
    with at("08:20"):
        a = queue.check_in(actor=clerk, office=city, qr=workflow.qr_payload(second))
        b = queue.check_in(actor=clerk, office=city, code=first.code.lower())
        c = queue.check_in(actor=clerk, office=city, id_number=third.document_number)
        again = queue.check_in(actor=clerk, office=city, code=first.code)
    assert [a.number, b.number, c.number] == [1, 2, 3]
    assert (a.booking, b.booking, c.booking) == (second, first, third)
    assert again.pk == b.pk and b.display_number == "002"
    first.refresh_from_db()
    assert first.status == BookingStatus.CHECKED_IN


def test_numbers_start_again_each_day_and_per_office(offices, clerk):
    city, heping = offices["crj-city"], offices["crj-heping"]
    with at("08:00"):
        here = workflow.book(actor=CitizenFactory(), slot=first_slot(city), client_token=token())
        there = workflow.book(actor=CitizenFactory(), slot=first_slot(heping), client_token=token())
    with at("08:30"):
        assert queue.check_in(actor=clerk, office=city, booking=here).number == 1
        assert queue.check_in(actor=clerk, office=heping, booking=there).number == 1


def test_check_in_refusals(city, offices, clerk, heping_clerk, booked):
    first = booked[0]
    with at("07:00"):
        refused("too_early", queue.check_in, actor=clerk, office=city, booking=first)
    with at("09:30"):
        refused("too_late", queue.check_in, actor=clerk, office=city, booking=first)
    with at("08:30"):
        refused("bad_qr", queue.check_in, actor=clerk, office=city, qr="forged")
        refused("not_found", queue.check_in, actor=clerk, office=city, code="NOPE2345")
        refused("missing_key", queue.check_in, actor=clerk, office=city)
        refused(
            "wrong_office", queue.check_in, actor=clerk, office=offices["crj-heping"], booking=first
        )
        with pytest.raises(PermissionDenied):  # a district clerk works at its own office
            queue.check_in(actor=heping_clerk, office=city, booking=first)
        with pytest.raises(PermissionDenied):
            queue.check_in(actor=CitizenFactory(), office=city, booking=first)
    with at("08:00"):
        workflow.cancel(actor=booked[1].account, booking=booked[1])
    with at("08:30"):
        refused("wrong_state", queue.check_in, actor=clerk, office=city, booking=booked[1])
    with at("08:00"):
        later = workflow.book(
            actor=CitizenFactory(),
            slot=first_slot(city, day=TUESDAY + dt.timedelta(days=1)),
            client_token=token(),
        )
    with at("08:30"):
        refused("wrong_day", queue.check_in, actor=clerk, office=city, booking=later)


def test_a_counter_calls_the_next_number_it_serves_then_completes_or_skips(city, clerk, booked):
    counter = Counter.objects.get(office=city, code="01")
    with at("08:20"):
        tickets = [queue.check_in(actor=clerk, office=city, booking=b) for b in booked]
    with at("08:40"):
        called = queue.call_next(actor=clerk, counter=counter)
        assert called.pk == tickets[0].pk and called.status == TicketStatus.CALLED
        assert called.counter == counter
        queue.complete(actor=clerk, ticket=called)
        refused("wrong_state", queue.complete, actor=clerk, ticket=called)
        second = queue.call_next(actor=clerk, counter=counter)
        assert second.pk == tickets[1].pk
        queue.skip(actor=clerk, ticket=second)
    with at("09:00"):
        third = queue.call_next(actor=clerk, counter=counter)
        assert queue.call_next(actor=clerk, counter=counter) is None
    booked[0].refresh_from_db()
    booked[1].refresh_from_db()
    assert booked[0].status == BookingStatus.COMPLETED
    assert booked[1].status == BookingStatus.CHECKED_IN  # 过号: was here, not served
    assert third.pk == tickets[2].pk
    with pytest.raises(PermissionDenied):
        queue.call_next(actor=CitizenFactory(), counter=counter)

    figures = queries.waiting_figures(city, TUESDAY)
    assert (figures.issued, figures.completed, figures.skipped, figures.called) == (3, 1, 1, 1)
    assert figures.waiting == 0
    assert figures.average_wait_minutes == pytest.approx((20 + 20 + 40) / 3, abs=0.1)
    assert figures.longest_wait_minutes == 40.0


def test_a_counter_is_not_called_for_items_it_does_not_serve(offices, clerk):
    visa = offices["visa-city"]
    from servicehall.bookings.models import CounterItem

    only_006 = Counter.objects.get(office=visa, code="V2")
    assert set(
        CounterItem.objects.filter(counter=only_006).values_list("item__code", flat=True)
    ) == {"CRJ-XK-006"}
    from servicehall.accounts.tests.factories import AgentFactory, EnterpriseFactory

    enterprise = EnterpriseFactory()
    liaison = AgentFactory(enterprise=enterprise)
    with at("08:00"):
        booking = workflow.book(
            actor=liaison,
            slot=first_slot(visa, "CRJ-XK-007"),
            client_token=token(),
            enterprise=enterprise,
            person_name="Ana Lima",
            passport_number="BR1234567",
        )
    with at("08:30"):
        queue.check_in(actor=clerk, office=visa, booking=booking)
        assert queue.call_next(actor=clerk, counter=only_006) is None
        assert queue.call_next(actor=clerk, counter=Counter.objects.get(office=visa, code="V1"))


def test_read_side_free_places_and_the_qr_image(city, booked):
    slot = booked[0].slot
    with at("08:00"):
        free = queries.day_availability(city, slot.item, TUESDAY, TUESDAY)
        assert free[TUESDAY] == sum(
            s.capacity - s.booked for s in city.slots.filter(item=slot.item, date=TUESDAY)
        )
        assert slot.pk not in {s.pk for s in queries.open_slots(city, slot.item, TUESDAY)}
    assert set(queries.bookings_of(booked[0].account)) == {booked[0]}
    assert b"<svg" in queries.booking_qr(booked[0])
