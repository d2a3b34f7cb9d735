"""Booking verbs: who may book, refusals, idempotency, cancel/rebook, no-shows, closures."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from servicehall.accounts.tests.factories import CitizenFactory, StaffFactory, department
from servicehall.bookings import workflow
from servicehall.bookings.models import Booking, BookingEvent, BookingStatus, Slot
from servicehall.bookings.workflow import BookingError
from servicehall.core.models import AuditEntry
from servicehall.notify.models import Message

from .conftest import MONDAY, NOW, first_slot, token

pytestmark = pytest.mark.usefixtures("travel")


@pytest.fixture
def travel():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def slot(city):
    return first_slot(city)


def refused(code, fn, **kwargs):
    with pytest.raises(BookingError) as info:
        fn(**kwargs)
    assert info.value.code == code, str(info.value)
    return str(info.value)


def test_a_citizen_books_online_and_gets_an_sms_with_the_code(citizen, slot):
    booking = workflow.book(actor=citizen, slot=slot, client_token=token())
    slot.refresh_from_db()
    assert slot.booked == 1
    assert booking.status == BookingStatus.BOOKED and booking.channel == "online"
    assert booking.document_number == citizen.citizen_profile.id_number
    assert booking.account == citizen and booking.date == slot.date
    assert len(booking.code) == 8
    sms = Message.objects.get(dedupe_key=f"booking:{booking.pk}:booked")
    assert booking.code in sms.body and sms.recipient == citizen.citizen_profile.mobile
    assert BookingEvent.objects.filter(booking=booking, action="book").exists()
    assert AuditEntry.objects.filter(action="booking.book", object_id=str(booking.pk)).exists()
    assert workflow.code_from_qr(workflow.qr_payload(booking)) == booking.code


def test_a_double_submit_is_one_booking(citizen, slot):
    key = token()
    first = workflow.book(actor=citizen, slot=slot, client_token=key)
    again = workflow.book(actor=citizen, slot=slot, client_token=key)
    assert again.pk == first.pk
    slot.refresh_from_db()
    assert slot.booked == 1 and Booking.objects.count() == 1
    other = CitizenFactory()
    refused("token_reused", workflow.book, actor=other, slot=slot, client_token=key)


def test_one_live_booking_per_person_per_item_per_day(citizen, city, slot):
    workflow.book(actor=citizen, slot=slot, client_token=token())
    later = Slot.objects.filter(date=slot.date, item=slot.item, start__gt=slot.start).first()
    message = refused("duplicate", workflow.book, actor=citizen, slot=later, client_token=token())
    assert "重复预约" in message
    # Another item the same day is fine.
    other_item = first_slot(city, "CRJ-XK-002")
    workflow.book(actor=citizen, slot=other_item, client_token=token())


def test_the_partial_unique_constraint_holds_without_the_check(citizen, slot):
    from django.db import IntegrityError, transaction

    booking = workflow.book(actor=citizen, slot=slot, client_token=token())
    with pytest.raises(IntegrityError), transaction.atomic():
        Booking.objects.create(
            slot=slot,
            office=booking.office,
            item=booking.item,
            date=booking.date,
            channel="online",
            document_type=booking.document_type,
            document_number=booking.document_number,
            person_name="x",
            phone="13900000000",
            booked_by=citizen,
            client_token=token(),
            code="ZZZZZZZZ",
        )


def test_a_full_slot_refuses_clearly(slot):
    Slot.objects.filter(pk=slot.pk).update(capacity=1)
    workflow.book(actor=CitizenFactory(), slot=slot, client_token=token())
    message = refused(
        "full", workflow.book, actor=CitizenFactory(), slot=slot, client_token=token()
    )
    assert "约满" in message


def test_not_released_past_and_closed_slots_are_refused(citizen, city):
    far = first_slot(city, day=MONDAY + dt.timedelta(days=10))
    assert "尚未放号" in refused(
        "not_released", workflow.book, actor=citizen, slot=far, client_token=token()
    )
    today = first_slot(city, day=MONDAY)
    assert today.start < timezone.now()
    refused("past", workflow.book, actor=citizen, slot=today, client_token=token())
    closed = first_slot(city, "CRJ-XK-002")
    Slot.objects.filter(pk=closed.pk).update(is_closed=True)
    refused("closed", workflow.book, actor=citizen, slot=closed, client_token=token())


def test_only_real_name_citizens_operators_and_liaisons_book(slot, city):
    from django.contrib.auth.models import AnonymousUser

    from servicehall.accounts.tests.factories import UserFactory

    with pytest.raises(PermissionDenied):
        workflow.book(actor=AnonymousUser(), slot=slot, client_token=token())
    with pytest.raises(PermissionDenied):
        workflow.book(actor=UserFactory(), slot=slot, client_token=token())  # no profile
    reviewer = StaffFactory(roles=["reviewer"], department=department("churujing"))
    with pytest.raises(PermissionDenied):
        workflow.book(actor=reviewer, slot=slot, client_token=token())
    citizen = CitizenFactory()
    with pytest.raises(PermissionDenied):  # online booking is for oneself
        workflow.book(
            actor=citizen,
            slot=slot,
            client_token=token(),
            id_number=CitizenFactory().citizen_profile.id_number,
        )


def test_an_operator_books_on_a_callers_behalf(dispatcher, slot):
    id_number = "110101199003071234"
    refused(
        "bad_document",
        workflow.book,
        actor=dispatcher,
        slot=slot,
        client_token=token(),
        person_name="张来电",
        id_number=id_number,
        phone="13800000009",
    )
    from servicehall.core.idnumbers import make_id_number

    good = make_id_number("210102", dt.date(1980, 5, 1), 123)
    refused(
        "missing_phone",
        workflow.book,
        actor=dispatcher,
        slot=slot,
        client_token=token(),
        person_name="张来电",
        id_number=good,
    )
    booking = workflow.book(
        actor=dispatcher,
        slot=slot,
        client_token=token(),
        person_name="张来电",
        id_number=good,
        phone="13800000009",
    )
    assert booking.channel == "phone" and booking.account is None
    assert booking.booked_by == dispatcher and booking.document_number == good
    assert Message.objects.filter(recipient="13800000009", body__contains=booking.code).exists()


def test_a_liaison_books_visa_slots_for_foreign_staff_by_passport(
    liaison, enterprise, offices, slot
):
    visa = first_slot(offices["visa-city"], "CRJ-XK-006")
    booking = workflow.book(
        actor=liaison,
        slot=visa,
        client_token=token(),
        enterprise=enterprise,
        person_name="John Smith",
        passport_number="e 1234 5678",
        nationality="gbr",
    )
    assert booking.channel == "enterprise" and booking.document_type == "passport"
    assert booking.document_number == "E12345678" and booking.nationality == "GBR"
    assert booking.phone == liaison.citizen_profile.mobile
    # Only visa offices, only for their own enterprise.
    refused(
        "wrong_office",
        workflow.book,
        actor=liaison,
        slot=slot,
        client_token=token(),
        enterprise=enterprise,
        person_name="John Smith",
        passport_number="E12345679",
    )
    from servicehall.accounts.tests.factories import EnterpriseFactory

    with pytest.raises(PermissionDenied):
        workflow.book(
            actor=liaison,
            slot=visa,
            client_token=token(),
            enterprise=EnterpriseFactory(),
            person_name="Jane Roe",
            passport_number="E22222222",
        )


def test_cancel_frees_the_place_and_only_the_holder_or_an_operator_cancels(
    citizen, dispatcher, slot
):
    booking = workflow.book(actor=citizen, slot=slot, client_token=token())
    with pytest.raises(PermissionDenied):
        workflow.cancel(actor=CitizenFactory(), booking=booking)
    workflow.cancel(actor=citizen, booking=booking, reason="时间冲突")
    slot.refresh_from_db()
    booking.refresh_from_db()
    assert slot.booked == 0 and booking.status == BookingStatus.CANCELLED
    assert Message.objects.filter(dedupe_key=f"booking:{booking.pk}:cancelled").exists()
    refused("wrong_state", workflow.cancel, actor=citizen, booking=booking)
    # The same day and item can be booked again once cancelled.
    again = workflow.book(actor=citizen, slot=slot, client_token=token())
    workflow.cancel(actor=dispatcher, booking=again)


def test_rebook_is_atomic(citizen, city, slot):
    booking = workflow.book(actor=citizen, slot=slot, client_token=token())
    later = Slot.objects.filter(date=slot.date, item=slot.item, start__gt=slot.start).first()
    key = token()
    new = workflow.rebook(actor=citizen, booking=booking, slot=later, client_token=key)
    booking.refresh_from_db()
    slot.refresh_from_db()
    later.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED and new.rebooked_from == booking
    assert (slot.booked, later.booked) == (0, 1)
    assert workflow.rebook(actor=citizen, booking=booking, slot=later, client_token=key) == new
    # A refused new slot leaves the old booking standing.
    full = Slot.objects.filter(date=slot.date, item=slot.item, start__gt=later.start).first()
    Slot.objects.filter(pk=full.pk).update(capacity=1, booked=1)
    refused("full", workflow.rebook, actor=citizen, booking=new, slot=full, client_token=token())
    new.refresh_from_db()
    later.refresh_from_db()
    assert new.status == BookingStatus.BOOKED and later.booked == 1
    other_item = first_slot(city, "CRJ-XK-002")
    refused(
        "wrong_item",
        workflow.rebook,
        actor=citizen,
        booking=new,
        slot=other_item,
        client_token=token(),
    )


def _no_show_booking(person, day, city):
    slot = first_slot(city, day=day)
    booking = workflow.book(actor=person, slot=slot, client_token=token(), now=slot.release_at)
    return booking


def test_no_shows_are_recorded_after_the_slot_and_restrict_booking(citizen, city, clerk, settings):
    settings.BOOKING_NO_SHOW_LIMIT = 2
    settings.BOOKING_NO_SHOW_WINDOW_DAYS = 90
    settings.BOOKING_NO_SHOW_RESTRICT_DAYS = 30
    first = _no_show_booking(citizen, MONDAY - dt.timedelta(days=7), city)
    second = _no_show_booking(citizen, MONDAY - dt.timedelta(days=6), city)
    upcoming = first_slot(city)
    refused(
        "too_early",
        workflow.record_no_show,
        actor=clerk,
        booking=workflow.book(actor=CitizenFactory(), slot=upcoming, client_token=token()),
    )
    with pytest.raises(PermissionDenied):
        workflow.record_no_show(actor=CitizenFactory(), booking=first)
    workflow.record_no_show(actor=clerk, booking=first)
    assert workflow.sweep_no_shows() == 1  # the second one
    second.refresh_from_db()
    assert second.status == BookingStatus.NO_SHOW
    until = MONDAY - dt.timedelta(days=6) + dt.timedelta(days=30)
    assert workflow.restricted_until("id_card", citizen.citizen_profile.id_number, MONDAY) == until
    assert Message.objects.filter(dedupe_key=f"booking:{second.pk}:restricted").exists()
    message = refused(
        "restricted", workflow.book, actor=citizen, slot=upcoming, client_token=token()
    )
    assert until.isoformat() in message


def test_a_closure_cancels_bookings_and_notifies_their_holders(city, manager, slot):
    holders = [CitizenFactory() for _ in range(2)]
    bookings = [workflow.book(actor=h, slot=slot, client_token=token()) for h in holders]
    elsewhere = workflow.book(
        actor=CitizenFactory(),
        slot=first_slot(city, day=MONDAY + dt.timedelta(days=2)),
        client_token=token(),
    )
    start = timezone.make_aware(dt.datetime.combine(slot.date, dt.time(8, 0)))
    closure = workflow.add_closure(
        actor=manager,
        office=city,
        start=start,
        end=start + dt.timedelta(hours=4),
        reason="系统升级",
    )
    slot.refresh_from_db()
    assert slot.is_closed and slot.booked == 0
    for booking, holder in zip(bookings, holders, strict=True):
        booking.refresh_from_db()
        assert booking.status == BookingStatus.CLOSED
        sms = Message.objects.get(dedupe_key=f"booking:{booking.pk}:closed")
        assert sms.recipient == holder.citizen_profile.mobile and "系统升级" in sms.body
    elsewhere.refresh_from_db()
    assert elsewhere.status == BookingStatus.BOOKED
    assert AuditEntry.objects.filter(
        action="booking.add_closure", object_id=str(closure.pk)
    ).exists()
    refused("closed", workflow.book, actor=CitizenFactory(), slot=slot, client_token=token())


def test_closures_need_the_offices_supervisor(city, offices, clerk):
    from servicehall.accounts.tests.factories import district

    start = timezone.now() + dt.timedelta(days=1)
    args = {"start": start, "end": start + dt.timedelta(hours=1), "reason": "停电"}
    with pytest.raises(PermissionDenied):
        workflow.add_closure(actor=clerk, office=city, **args)
    heping_manager = StaffFactory(
        roles=["supervisor"], department=department("churujing"), district=district("210102")
    )
    with pytest.raises(PermissionDenied):  # a district's supervisor manages its own office
        workflow.add_closure(actor=heping_manager, office=city, **args)
    workflow.add_closure(actor=heping_manager, office=offices["crj-heping"], **args)
    traffic = StaffFactory(roles=["supervisor"], department=department("jiaojing"))
    with pytest.raises(PermissionDenied):
        workflow.add_closure(actor=traffic, office=city, **args)
    refused(
        "missing_reason",
        workflow.add_closure,
        actor=heping_manager,
        office=offices["crj-heping"],
        **{**args, "reason": " "},
    )


def test_slots_generated_inside_a_closure_are_closed(city, manager):
    from servicehall.bookings import slots

    day = MONDAY + dt.timedelta(days=3)
    start = timezone.make_aware(dt.datetime.combine(day, dt.time(0, 0)))
    workflow.add_closure(
        actor=manager, office=city, start=start, end=start + dt.timedelta(days=1), reason="培训"
    )
    slots.generate_slots(city, day, day)
    assert Slot.objects.filter(date=day).exists()
    assert not Slot.objects.filter(date=day, is_closed=False).exists()
