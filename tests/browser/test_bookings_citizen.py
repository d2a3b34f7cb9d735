"""Booking on a phone: a citizen signs in, picks the city exit-entry office, the passport
item, a day and a time, confirms, and sees the booking code and the check-in QR code — which
decodes to the booking's signed payload. Then cancels it from "my bookings"."""

import datetime as dt
import io

import pytest
import zxingcpp
from django.core.management import call_command
from django.utils import timezone
from PIL import Image

from servicehall.accounts.tests.factories import CitizenFactory
from servicehall.bookings import slots, workflow
from servicehall.bookings.models import Booking, BookingStatus, Counter, Office, Session, Slot
from servicehall.catalog.models import ServiceItem

from .test_letters_citizen import PASSWORD, fits_the_screen, sign_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def city(catalogue):
    from servicehall.accounts.models import District
    from servicehall.accounts.organisation import sync_districts

    sync_districts(District)  # a transactional test's flush empties the seeded districts
    call_command("load_offices", verbosity=0)
    office = Office.objects.get(code="crj-city")
    today = timezone.localdate()
    slots.generate_slots(office, today, today + dt.timedelta(days=7))
    if not slots.bookable(office.slots.filter(item__code="CRJ-XK-001")).exists():
        # Outside a confirmed calendar year no slots are generated: make one by hand.
        start = timezone.now().replace(second=0, microsecond=0) + dt.timedelta(days=1)
        Slot.objects.create(
            office=office,
            counter=Counter.objects.get(office=office, code="01"),
            item=ServiceItem.objects.get(code="CRJ-XK-001"),
            date=timezone.localdate(start),
            start=start,
            end=start + dt.timedelta(minutes=20),
            session=Session.NORMAL,
            capacity=3,
            release_at=timezone.now() - dt.timedelta(days=1),
        )
    return office


def test_a_citizen_books_an_exit_entry_slot_on_a_phone_and_sees_the_qr(phone, screenshot, city):
    citizen = CitizenFactory(password=PASSWORD, name="王芳")
    sign_in(phone, citizen.citizen_profile.mobile, PASSWORD)

    phone.get_by_role("link", name="我的预约").first.click()
    phone.get_by_role("link", name="新的预约").click()
    phone.wait_for_url("**/bookings/")
    fits_the_screen(phone)
    screenshot(phone, "1-offices")
    phone.get_by_role("link", name="沈阳市公安局出入境管理局办证大厅").click()
    phone.get_by_role("link", name="普通护照签发").click()
    phone.wait_for_url("**/CRJ-XK-001/")
    fits_the_screen(phone)
    screenshot(phone, "2-day-strip")
    strip = phone.locator(".day-strip a")
    assert strip.count() == 7
    assert phone.locator('.day-strip a[aria-current="date"]').count() == 1
    first_time = phone.locator(".times a").first
    time_text = first_time.locator(".clock").inner_text()
    assert "余" in first_time.inner_text()
    first_time.click()

    phone.wait_for_url("**/bookings/slot/*/")
    main = phone.locator("main").inner_text()
    profile = citizen.citizen_profile
    assert profile.id_number[:6] + "********" + profile.id_number[-4:] in main
    assert profile.id_number not in main and time_text in main
    fits_the_screen(phone)
    screenshot(phone, "3-confirm")
    phone.get_by_role("button", name="确认预约").click()
    phone.wait_for_url("**/bookings/mine/*/")

    booking = Booking.objects.get(account=citizen)
    assert booking.channel == "online" and booking.status == BookingStatus.BOOKED
    main = phone.locator("main").inner_text()
    assert "预约成功" in main and booking.code in main and "预约短信已发送至" in main
    assert phone.locator("#booking-code").inner_text().strip() == booking.code
    image = phone.get_by_role("img", name=f"签到二维码，预约码 {booking.code}")
    image.scroll_into_view_if_needed()
    assert image.evaluate("img => img.complete && img.naturalWidth > 0")
    fits_the_screen(phone)
    screenshot(phone, "4-booked-with-qr")
    # The QR code the phone shows is the booking's signed check-in payload (signed with a
    # timestamp, so it is checked by what the office's scanner does with it).
    png = phone.request.get(image.evaluate("img => img.src")).body()
    decoded = [code.text for code in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]
    assert len(decoded) == 1 and workflow.code_from_qr(decoded[0]) == booking.code
    # And what the screen shows decodes too (a scanner reads the screen, not the file).
    shot = Image.open(io.BytesIO(image.screenshot()))
    on_screen = [code.text for code in zxingcpp.read_barcodes(shot)]
    assert len(on_screen) == 1 and workflow.code_from_qr(on_screen[0]) == booking.code
    # Large type still fits the phone.
    phone.get_by_role("button", name="大字模式").click()
    phone.wait_for_load_state()
    fits_the_screen(phone)
    screenshot(phone, "5-large-type")

    phone.get_by_role("link", name="取消预约").click()
    phone.get_by_label("取消原因（可选）").fill("行程有变")
    screenshot(phone, "6-cancel")
    phone.get_by_role("button", name="确认取消").click()
    phone.wait_for_url("**/bookings/mine/")
    assert "预约已取消，名额已释放。" in phone.locator("main").inner_text()
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED and booking.slot.booked == 0
    fits_the_screen(phone)
    screenshot(phone, "7-mine")
