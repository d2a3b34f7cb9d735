"""The phone operator's desk and the enterprise liaison's desk: who may use them, booking for
a caller / a foreign employee, refusals on the right field, masked display, cancel."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from servicehall.accounts.tests.factories import (
    AgentFactory,
    CitizenFactory,
    EnterpriseFactory,
    login_verified_staff,
)
from servicehall.bookings import slots, workflow
from servicehall.bookings.models import Booking, BookingStatus, Slot
from servicehall.core.idnumbers import make_id_number
from servicehall.core.models import AuditEntry
from servicehall.notify.models import Message

from .conftest import MONDAY, NOW, crj_staff, token

pytestmark = pytest.mark.usefixtures("travel")
TUESDAY = MONDAY + dt.timedelta(days=1)
CALLER_ID = make_id_number("210102", dt.date(1970, 5, 1), 991)


@pytest.fixture
def travel():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def week(offices):
    for code in ("crj-city", "visa-city"):
        slots.generate_slots(offices[code], MONDAY, MONDAY + dt.timedelta(days=7))
    return offices


def slot_at(office, item, hhmm="08:30", day=TUESDAY):
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.fromisoformat(hhmm)))
    return Slot.objects.filter(office=office, item__code=item, start=start).order_by(
        "counter__code"
    )[0]


@pytest.fixture
def operator(client, dispatcher):
    login_verified_staff(client, dispatcher)
    return client


def caller(slot, **extra):
    return {
        "client_token": token(),
        "slot": slot.pk,
        "person_name": "李来电",
        "document_type": "id_card",
        "document_number": CALLER_ID,
        "nationality": "",
        "phone": "13800000009",
    } | extra


# --- the phone operator ----------------------------------------------------------------------


def test_the_desk_is_for_operators_only(client, week):
    url = reverse("bookings:operator")
    response = client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    client.force_login(CitizenFactory())
    assert client.get(url).status_code == 403
    login_verified_staff(client, crj_staff("reviewer"))
    assertContains(client.get(url), "您的角色无权访问此页面", status_code=403)
    slot = slot_at(week["crj-city"], "CRJ-XK-001")
    response = client.post(reverse("bookings:operator_book"), caller(slot))
    assert response.status_code == 403 and not Booking.objects.exists()


def test_an_operator_finds_times_at_any_office(operator, week):
    response = operator.get(reverse("bookings:operator"))
    for text in ("沈阳市公安局出入境管理局办证大厅", "外国人签证证件申请", "普通护照签发"):
        assertContains(response, text)
    response = operator.get(
        reverse("bookings:operator") + "?offer=crj-city/CRJ-XK-001&day=2026-09-15"
    )
    assertContains(response, "余12个名额")
    assertContains(response, f'value="{slot_at(week["crj-city"], "CRJ-XK-001").pk}"')
    assertContains(response, "?offer=crj-city%2FCRJ-XK-001&amp;day=2026-09-16")


def test_an_operator_books_for_a_caller_by_phone_and_reads_the_code_back(
    operator, dispatcher, week
):
    slot = slot_at(week["crj-city"], "CRJ-XK-001")
    response = operator.post(reverse("bookings:operator_book"), caller(slot), follow=True)
    booking = Booking.objects.get()
    assert booking.channel == "phone" and booking.booked_by == dispatcher
    assert booking.account is None and booking.document_number == CALLER_ID
    assert response.redirect_chain[-1][0] == reverse(
        "bookings:operator_booking", args=[booking.code]
    )
    assertContains(response, "请向来电人复述")
    assertContains(response, booking.code)
    # Masked: the caller's ID number, name and phone are not shown in full.
    assertContains(response, "210102********" + CALLER_ID[-4:])
    for full in (CALLER_ID, "13800000009", "李来电"):
        assertNotContains(response, full)
    assert AuditEntry.objects.filter(
        action="booking.book", object_id=str(booking.pk), actor=dispatcher
    ).exists()
    assert Message.objects.get(dedupe_key=f"booking:{booking.pk}:booked").recipient == (
        "13800000009"
    )


def test_a_bad_id_number_is_refused_on_its_field(operator, week):
    slot = slot_at(week["crj-city"], "CRJ-XK-001")
    wrong = CALLER_ID[:-1] + ("0" if CALLER_ID[-1] != "0" else "1")
    response = operator.post(reverse("bookings:operator_book"), caller(slot, document_number=wrong))
    assert response.status_code == 400
    assert response.context["form"].errors["document_number"]
    assertContains(response, "校验", status_code=400)
    assert not Booking.objects.exists()


def test_missing_time_and_phone_are_refused(operator, week):
    slot = slot_at(week["crj-city"], "CRJ-XK-001")
    data = caller(slot, phone="")
    del data["slot"]
    response = operator.post(reverse("bookings:operator_book"), data)
    assertContains(response, "请选择预约时段。", status_code=400)
    response = operator.post(reverse("bookings:operator_book"), caller(slot, phone=""))
    assertContains(response, "请填写接收短信的手机号码。", status_code=400)
    assert not Booking.objects.exists()


def test_a_caller_with_a_passport(operator, week):
    slot = slot_at(week["crj-city"], "CRJ-XK-001")
    data = caller(slot, document_type="passport", document_number="e 1234 5678", nationality="kor")
    operator.post(reverse("bookings:operator_book"), data)
    booking = Booking.objects.get()
    assert (booking.document_type, booking.document_number, booking.nationality) == (
        "passport",
        "E12345678",
        "KOR",
    )


def test_an_operator_double_submit_is_one_booking_and_a_full_time_is_refused(operator, week):
    slot = slot_at(week["crj-city"], "CRJ-XK-001")
    sent = caller(slot)
    first = operator.post(reverse("bookings:operator_book"), sent)
    second = operator.post(reverse("bookings:operator_book"), sent)
    assert first["Location"] == second["Location"] and Booking.objects.count() == 1
    Slot.objects.filter(start=slot.start, office=slot.office, item=slot.item).update(booked=3)
    other = caller(slot, document_number=make_id_number("210102", dt.date(1980, 1, 2), 13))
    response = operator.post(reverse("bookings:operator_book"), other)
    assertContains(response, "该时段已约满", status_code=409)
    assert Booking.objects.count() == 1


def test_an_operator_cancels_for_a_caller_and_lists_only_own_bookings(operator, dispatcher, week):
    slot = slot_at(week["crj-city"], "CRJ-XK-001")
    operator.post(reverse("bookings:operator_book"), caller(slot))
    booking = Booking.objects.get()
    clerk = crj_staff("window_clerk")
    someone_elses = workflow.book(
        actor=clerk,
        slot=slot,
        client_token=token(),
        person_name="王某",
        id_number=make_id_number("210102", dt.date(1985, 3, 3), 21),
        phone="13800000010",
    )
    response = operator.get(reverse("bookings:operator_made"))
    assertContains(response, booking.code)
    assertNotContains(response, someone_elses.code)
    response = operator.post(
        reverse("bookings:operator_cancel", args=[booking.code]), {"reason": "来电取消"}
    )
    booking.refresh_from_db()
    slot.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED and slot.booked == 1
    assert AuditEntry.objects.filter(action="booking.cancel", actor=dispatcher).exists()


# --- the enterprise liaison --------------------------------------------------------------------


@pytest.fixture
def liaison_client(client, liaison):
    client.force_login(liaison)
    return client


def employee(slot, enterprise, **extra):
    return {
        "client_token": token(),
        "enterprise": enterprise.pk,
        "slot": slot.pk,
        "person_name": "John Demo",
        "passport_number": "E12345678",
        "nationality": "GBR",
        "phone": "",
    } | extra


def test_the_liaison_desk_is_for_an_enterprises_agents(client, week, citizen):
    url = reverse("bookings:liaison")
    assert client.get(url).status_code == 302
    client.force_login(citizen)
    assertContains(client.get(url), "企业授权经办人", status_code=403)
    client.force_login(AgentFactory())  # no membership
    assert client.get(url).status_code == 403


def test_the_liaison_sees_only_visa_offices(liaison_client, week):
    response = liaison_client.get(reverse("bookings:liaison"))
    assertContains(response, "外国人签证证件申请")
    assertNotContains(response, "普通护照签发")
    response = liaison_client.get(reverse("bookings:liaison") + "?offer=crj-city/CRJ-XK-001")
    assert response.context["offer"] is None


def test_a_liaison_books_a_visa_time_for_a_foreign_employee(
    liaison_client, liaison, enterprise, week
):
    slot = slot_at(week["visa-city"], "CRJ-XK-006")
    response = liaison_client.post(
        reverse("bookings:liaison_book"), employee(slot, enterprise), follow=True
    )
    booking = Booking.objects.get()
    assert booking.channel == "enterprise" and booking.enterprise == enterprise
    assert (booking.document_type, booking.nationality) == ("passport", "GBR")
    assert booking.phone == liaison.citizen_profile.mobile
    assertContains(response, booking.code)
    assertContains(response, "E*****678")
    assertNotContains(response, "E12345678")


def test_liaison_refusals_bad_passport_and_a_non_visa_office(liaison_client, enterprise, week):
    slot = slot_at(week["visa-city"], "CRJ-XK-006")
    response = liaison_client.post(
        reverse("bookings:liaison_book"), employee(slot, enterprise, passport_number="E1")
    )
    assert response.status_code == 400
    assert "护照号码应为5至20位字母或数字。" in response.context["form"].errors["passport_number"]
    crj = slot_at(week["crj-city"], "CRJ-XK-001")
    response = liaison_client.post(reverse("bookings:liaison_book"), employee(crj, enterprise))
    assertContains(response, "单位代为预约仅限外国人签证业务。", status_code=400)
    other = EnterpriseFactory()
    response = liaison_client.post(reverse("bookings:liaison_book"), employee(slot, other))
    assert response.status_code == 404
    assert not Booking.objects.exists()


def test_a_liaison_cancels_its_enterprises_booking_but_not_anothers(
    liaison_client, liaison, enterprise, week
):
    slot = slot_at(week["visa-city"], "CRJ-XK-006")
    ours = workflow.book(
        actor=liaison,
        slot=slot,
        client_token=token(),
        enterprise=enterprise,
        person_name="Anna Demo",
        passport_number="P7654321",
    )
    other_enterprise = EnterpriseFactory()
    theirs = workflow.book(
        actor=AgentFactory(enterprise=other_enterprise),
        slot=slot,
        client_token=token(),
        enterprise=other_enterprise,
        person_name="Bob Demo",
        passport_number="P1111111",
    )
    assertNotContains(liaison_client.get(reverse("bookings:liaison")), theirs.code)
    url = reverse("bookings:liaison_cancel", args=[theirs.code])
    assert liaison_client.post(url).status_code == 404
    url = reverse("bookings:liaison_cancel", args=[ours.code])
    assertContains(liaison_client.get(url), "确定要取消这个预约吗")
    liaison_client.post(url, {"reason": ""})
    ours.refresh_from_db()
    theirs.refresh_from_db()
    assert ours.status == BookingStatus.CANCELLED and theirs.status == BookingStatus.BOOKED
