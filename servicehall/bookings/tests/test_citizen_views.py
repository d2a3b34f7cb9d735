"""Citizen booking pages: office → item → day and time → confirm → booking with its QR code;
my bookings with cancel and rebook; who may see what; refusals on the form."""

import datetime as dt
import io
import re

import pytest
import time_machine
import zxingcpp
from django.urls import reverse
from django.utils import timezone
from PIL import Image
from pytest_django.asserts import assertContains, assertNotContains

from servicehall.accounts.tests.factories import (
    AgentFactory,
    CitizenFactory,
    HotelUserFactory,
    login_verified_staff,
)
from servicehall.bookings import slots, workflow
from servicehall.bookings.models import Booking, BookingStatus, Slot
from servicehall.notify.models import Message

from .conftest import MONDAY, NOW, token

pytestmark = pytest.mark.usefixtures("travel")
TUESDAY = MONDAY + dt.timedelta(days=1)


@pytest.fixture
def travel():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def week(city):
    """The city exit-entry office's slots for the coming week (released at NOW)."""
    slots.generate_slots(city, MONDAY, MONDAY + dt.timedelta(days=7))
    return city


@pytest.fixture
def signed_in(client, citizen):
    client.force_login(citizen)
    return client


def time_slots(office, start_hhmm, day=TUESDAY, item="CRJ-XK-001"):
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.fromisoformat(start_hhmm)))
    return Slot.objects.filter(office=office, item__code=item, start=start).order_by(
        "counter__code"
    )


def form(**extra):
    return {"client_token": token(), "phone": ""} | extra


def book_url(slot):
    return reverse("bookings:book", args=[slot.pk])


def page_text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


# --- who may use the pages --------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(client, week):
    slot = time_slots(week, "08:30").first()
    for url in (
        reverse("bookings:index"),
        reverse("bookings:office", args=["crj-city"]),
        reverse("bookings:day", args=["crj-city", "CRJ-XK-001"]),
        book_url(slot),
        reverse("bookings:mine"),
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url
    response = client.post(book_url(slot), form())
    assert response.status_code == 302 and not Booking.objects.exists()


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: HotelUserFactory(), "仅限个人实名用户"),
        (lambda: AgentFactory(), "单位经办人请使用"),
    ],
)
def test_hotel_and_enterprise_accounts_cannot_use_the_citizen_pages(client, week, make, message):
    client.force_login(make())
    slot = time_slots(week, "08:30").first()
    response = client.get(reverse("bookings:index"))
    assert response.status_code == 403
    assertContains(response, message, status_code=403)
    response = client.post(book_url(slot), form())
    assert response.status_code == 403 and not Booking.objects.exists()


def test_staff_are_pointed_to_phone_booking(client, week, dispatcher):
    login_verified_staff(client, dispatcher)
    response = client.get(book_url(time_slots(week, "08:30").first()))
    assertContains(response, "电话预约", status_code=403)


# --- choosing ---------------------------------------------------------------------------------


def test_offices_by_kind_and_only_the_items_an_office_serves(signed_in, offices):
    response = signed_in.get(reverse("bookings:index"))
    for text in ("出入境证件", "外国人签证", "车辆登记", "沈阳市公安局出入境管理局办证大厅"):
        assertContains(response, text)
    text = page_text(response)
    # The city office comes before the district offices.
    assert text.index("出入境管理局办证大厅") < text.index("和平区分局出入境办证大厅")
    response = signed_in.get(reverse("bookings:office", args=["crj-city"]))
    assertContains(response, "普通护照签发")
    assertContains(response, reverse("bookings:day", args=["crj-city", "CRJ-XK-001"]))
    assertNotContains(response, "外国人签证证件申请")
    # An item the office does not serve has no page there.
    url = reverse("bookings:day", args=["crj-city", "CRJ-XK-006"])
    assert signed_in.get(url).status_code == 404


def test_a_catalogue_item_lists_only_the_offices_serving_it(signed_in, offices):
    response = signed_in.get(reverse("bookings:index") + "?item=CRJ-XK-006")
    assertContains(response, "外国人签证大厅")
    assertNotContains(response, "和平区分局出入境办证大厅")


def test_the_day_strip_shows_open_weekend_and_holiday_days(signed_in, week, offices):
    slots.generate_slots(offices["visa-city"], MONDAY, MONDAY + dt.timedelta(days=7))
    response = signed_in.get(reverse("bookings:day", args=["crj-city", "CRJ-XK-001"]))
    strip = response.context["strip"]
    assert [cell.day for cell in strip] == [MONDAY + dt.timedelta(days=n) for n in range(7)]
    assert all(cell.state == "open" for cell in strip)  # 5+2: Saturday is open here
    # A working day: 4 counters × 3 places × (10 + 12 slots of 20 min, + 3 in the lunch hour).
    assert strip[1].free == 4 * 3 * (10 + 12 + 3)
    # The visa office keeps no weekend hours: Saturday is closed there.
    response = signed_in.get(reverse("bookings:day", args=["visa-city", "CRJ-XK-006"]))
    states = {cell.day.weekday(): cell.state for cell in response.context["strip"]}
    assert states[5] == "closed"
    assertContains(response, "不办公")


def test_days_not_yet_released_show_when_they_will_be(signed_in, city, settings):
    settings.BOOKING_RELEASE_DAYS_AHEAD = 3
    slots.generate_slots(city, MONDAY, MONDAY + dt.timedelta(days=4))
    response = signed_in.get(reverse("bookings:day", args=["crj-city", "CRJ-XK-001"]))
    states = {cell.day: cell for cell in response.context["strip"]}
    assert states[MONDAY + dt.timedelta(days=3)].state == "open"
    friday = states[MONDAY + dt.timedelta(days=4)]
    assert friday.state == "not_released"
    assertContains(response, "9/15 08:00放号")
    # A day with no slots generated yet, beyond the horizon, says the same.
    assert states[MONDAY + dt.timedelta(days=6)].state == "not_released"
    response = signed_in.get(
        reverse("bookings:day", args=["crj-city", "CRJ-XK-001"]) + "?day=2026-09-18"
    )
    assertContains(response, "该日号源尚未放出，将于2026-09-15 08:00开放预约。")


def test_times_of_a_day_with_places_and_the_extended_hours(signed_in, week):
    url = reverse("bookings:day", args=["crj-city", "CRJ-XK-001"]) + "?day=2026-09-15"
    response = signed_in.get(url)
    text = page_text(response)
    assert "08:30–08:50" in text and "余12个名额" in text  # four counters of three
    assert "12:00–12:20" in text and "午间延时（8+1）" in text
    first = time_slots(week, "08:30").first()
    assertContains(response, book_url(first))
    saturday = reverse("bookings:day", args=["crj-city", "CRJ-XK-001"]) + "?day=2026-09-19"
    assertContains(signed_in.get(saturday), "周末延时（5+2）")


def test_a_full_time_is_shown_full_and_cannot_be_chosen(signed_in, week):
    time_slots(week, "08:30").update(booked=3)
    url = reverse("bookings:day", args=["crj-city", "CRJ-XK-001"]) + "?day=2026-09-15"
    response = signed_in.get(url)
    assertContains(response, "已约满")
    for slot in time_slots(week, "08:30"):
        assertNotContains(response, book_url(slot))


# --- booking ------------------------------------------------------------------------------------


def test_a_citizen_confirms_and_gets_the_code_address_qr_and_sms(signed_in, citizen, week):
    slot = time_slots(week, "08:30").first()
    response = signed_in.get(book_url(slot))
    profile = citizen.citizen_profile
    # Masked, never in full: the ID number from the account and the phone.
    assertContains(response, profile.id_number[:6] + "********" + profile.id_number[-4:])
    assertNotContains(response, profile.id_number)
    assertNotContains(response, profile.mobile)
    response = signed_in.post(book_url(slot), form(), follow=True)
    booking = Booking.objects.get()
    assert booking.channel == "online" and booking.account == citizen
    assert booking.document_number == profile.id_number
    assert response.redirect_chain[-1][0] == reverse("bookings:detail", args=[booking.code])
    text = page_text(response)
    for shown in (
        "预约成功",
        booking.code,
        "沈阳市（示例地址）",
        "2026-09-15",
        "08:30–08:50",
        "预约短信已发送至 " + profile.mobile[:3] + "****" + profile.mobile[-4:],
    ):
        assert shown in text, shown
    assertContains(response, reverse("bookings:qr", args=[booking.code]))
    assert Message.objects.filter(dedupe_key=f"booking:{booking.pk}:booked").exists()


def test_the_qr_code_is_the_bookings_signed_payload(signed_in, citizen, week):
    booking = workflow.book(
        actor=citizen, slot=time_slots(week, "08:30").first(), client_token=token()
    )
    response = signed_in.get(reverse("bookings:qr", args=[booking.code]))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(response.content)))
    assert [code.text for code in decoded] == [workflow.qr_payload(booking)]
    assert workflow.code_from_qr(decoded[0].text) == booking.code


def test_a_phone_for_the_sms_may_be_given_and_a_wrong_one_is_refused(signed_in, week):
    slot = time_slots(week, "08:30").first()
    response = signed_in.post(book_url(slot), form(phone="12345"))
    assertContains(response, "请填写正确的手机号码", status_code=400)
    assert not Booking.objects.exists()
    signed_in.post(book_url(slot), form(phone="138 0000 1234"))
    assert Booking.objects.get().phone == "13800001234"


def test_a_form_without_its_token_books_nothing(signed_in, week):
    slot = time_slots(week, "08:30").first()
    response = signed_in.post(book_url(slot), {"phone": ""})
    assertContains(response, "页面已过期", status_code=400)
    assert not Booking.objects.exists()


def test_a_double_submit_is_one_booking(signed_in, week):
    slot = time_slots(week, "08:30").first()
    sent = form()
    first = signed_in.post(book_url(slot), sent)
    second = signed_in.post(book_url(slot), sent)
    booking = Booking.objects.get()
    assert first["Location"] == second["Location"] == booking_detail(booking)
    slot_total = sum(s.booked for s in time_slots(week, "08:30"))
    assert slot_total == 1


def booking_detail(booking):
    return reverse("bookings:detail", args=[booking.code])


def test_a_full_counter_sends_the_booking_to_a_free_one_at_the_same_time(signed_in, week):
    counters = list(time_slots(week, "08:30"))
    Slot.objects.filter(pk=counters[0].pk).update(booked=3)
    signed_in.post(book_url(counters[0]), form())
    assert Booking.objects.get().slot.start == counters[0].start
    assert Booking.objects.get().slot_id != counters[0].pk


@pytest.mark.parametrize(
    "prepare, message, status",
    [
        (lambda s: time_slots(s.office, "08:30").update(booked=3), "该时段已约满", 409),
        (lambda s: time_slots(s.office, "08:30").update(is_closed=True), "已停止办理", 409),
        (
            lambda s: time_slots(s.office, "08:30").update(
                release_at=timezone.now() + dt.timedelta(hours=3)
            ),
            "尚未放号，将于2026-09-14 12:00开放预约",
            409,
        ),
    ],
    ids=["full", "closed", "not-released"],
)
def test_a_refused_slot_says_why_and_books_nothing(signed_in, week, prepare, message, status):
    slot = time_slots(week, "08:30").first()
    prepare(slot)
    response = signed_in.post(book_url(slot), form())
    assertContains(response, message, status_code=status)
    assertContains(response, "选择其他时段", status_code=status)
    assert not Booking.objects.exists()


def test_a_slot_in_the_past_is_refused(signed_in, week):
    earlier = time_slots(week, "08:30", day=MONDAY).first()  # it is 09:00 on Monday
    response = signed_in.post(book_url(earlier), form())
    assertContains(response, "该时段已过，请选择其他时段。", status_code=409)
    assert not Booking.objects.exists()


def test_a_second_booking_of_the_item_that_day_is_refused(signed_in, week):
    signed_in.post(book_url(time_slots(week, "08:30").first()), form())
    response = signed_in.post(book_url(time_slots(week, "10:30").first()), form())
    assertContains(response, "不能重复预约", status_code=409)
    assertContains(response, reverse("bookings:mine"), status_code=409)
    assert Booking.objects.count() == 1


def test_repeated_no_shows_restrict_booking(signed_in, citizen, week, settings):
    settings.BOOKING_NO_SHOW_LIMIT = 1
    booking = workflow.book(
        actor=citizen,
        slot=time_slots(week, "08:30", day=MONDAY + dt.timedelta(days=2)).first(),
        client_token=token(),
    )
    Booking.objects.filter(pk=booking.pk).update(status=BookingStatus.NO_SHOW, date=MONDAY)
    response = signed_in.post(book_url(time_slots(week, "08:30").first()), form())
    assertContains(response, "暂停预约", status_code=403)
    assert Booking.objects.count() == 1


# --- my bookings: only mine; cancel and rebook ---------------------------------------------------


@pytest.fixture
def mine(citizen, week):
    return workflow.book(
        actor=citizen, slot=time_slots(week, "08:30").first(), client_token=token()
    )


def test_another_citizen_cannot_see_or_change_my_booking(client, mine):
    client.force_login(CitizenFactory())
    for name in ("detail", "qr", "cancel", "rebook"):
        assert client.get(reverse(f"bookings:{name}", args=[mine.code])).status_code == 404
    assert client.post(reverse("bookings:cancel", args=[mine.code])).status_code == 404
    response = client.post(
        reverse("bookings:rebook", args=[mine.code]),
        {"client_token": token(), "slot": time_slots(mine.office, "10:30").first().pk},
    )
    assert response.status_code == 404
    mine.refresh_from_db()
    assert mine.status == BookingStatus.BOOKED and Booking.objects.count() == 1
    assertNotContains(client.get(reverse("bookings:mine")), mine.code)


def test_my_bookings_live_and_past(signed_in, citizen, mine, week):
    other = workflow.book(
        actor=citizen,
        slot=time_slots(week, "09:30", item="CRJ-XK-002").first(),
        client_token=token(),
    )
    workflow.cancel(actor=citizen, booking=other)
    response = signed_in.get(reverse("bookings:mine"))
    live, past = response.context["live"], response.context["past"]
    assert [b.code for b in live] == [mine.code] and [b.code for b in past] == [other.code]
    assertContains(response, "已取消")


def test_cancel_asks_first_then_frees_the_place(signed_in, mine):
    url = reverse("bookings:cancel", args=[mine.code])
    response = signed_in.get(url)
    assertContains(response, "确定要取消这个预约吗")
    mine.refresh_from_db()
    assert mine.status == BookingStatus.BOOKED  # a GET changes nothing
    response = signed_in.post(url, {"reason": "行程有变"}, follow=True)
    assertContains(response, "预约已取消，名额已释放。")
    mine.refresh_from_db()
    mine.slot.refresh_from_db()
    assert mine.status == BookingStatus.CANCELLED and mine.slot.booked == 0
    # Cancelled: no QR code any more, and a second cancel is refused, not a 500.
    assert signed_in.get(reverse("bookings:qr", args=[mine.code])).status_code == 404
    assertContains(signed_in.post(url), "不能进行此操作", status_code=409)


def test_rebook_moves_to_another_time_of_the_same_item(signed_in, mine):
    url = reverse("bookings:rebook", args=[mine.code])
    response = signed_in.get(url + "?day=2026-09-15")
    # Its own time is not offered again, at any counter.
    assert mine.slot.start not in {time.start for time in response.context["times"]}
    new_slot = time_slots(mine.office, "10:30").first()
    sent = {"client_token": token(), "slot": new_slot.pk}
    response = signed_in.post(url + "?day=2026-09-15", sent)
    new = Booking.objects.get(rebooked_from=mine)
    assert response["Location"] == booking_detail(new)
    mine.refresh_from_db()
    assert mine.status == BookingStatus.CANCELLED and new.slot.start == new_slot.start
    # The same form again is the same rebooking.
    assert signed_in.post(url, sent)["Location"] == booking_detail(new)
    assert Booking.objects.count() == 2


def test_rebook_without_a_time_says_so(signed_in, mine):
    url = reverse("bookings:rebook", args=[mine.code])
    response = signed_in.post(url, {"client_token": token()})
    assertContains(response, "请选择新的预约时段。", status_code=400)
    mine.refresh_from_db()
    assert mine.status == BookingStatus.BOOKED


def test_the_home_page_the_nav_and_a_bookable_items_guide_link_here(signed_in, offices):
    assertContains(signed_in.get("/"), f'href="{reverse("bookings:index")}"')
    assertContains(signed_in.get("/"), f'href="{reverse("bookings:mine")}"')
    guide = signed_in.get(reverse("catalog:item", args=["CRJ-XK-001"]))
    assertContains(guide, reverse("bookings:index") + "?item=CRJ-XK-001")
    # An item no counter serves offers no booking.
    assertNotContains(signed_in.get(reverse("catalog:item", args=["CRJ-XK-004"])), "?item=")
