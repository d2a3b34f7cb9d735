"""At the office in a browser: the hall's public display is open on a TV; a clerk checks two
people in at the desk (a scanner types the QR payload and presses Enter; an ID number typed
by hand), then calls the next number at the counter. The display shows the new number
without a reload, and never a name."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from servicehall.accounts.tests.factories import CitizenFactory, StaffFactory, department
from servicehall.bookings import workflow
from servicehall.bookings.models import Counter, Office, Session, Slot
from servicehall.catalog.models import ServiceItem

from .conftest import PHONE
from .test_letters_staff import PASSWORD, sign_in

pytestmark = pytest.mark.django_db(transaction=True)
TV = {"width": 1280, "height": 720}


@pytest.fixture
def city(catalogue):
    from servicehall.accounts.models import District
    from servicehall.accounts.organisation import sync_districts

    sync_districts(District)  # a transactional test's flush empties the seeded districts
    call_command("load_offices", verbosity=0)
    return Office.objects.get(code="crj-city")


def slot_starting_soon(office) -> Slot:
    """A slot of today that starts in a few minutes: check-in is open now, whatever the
    hour the test runs at (office hours play no part in check-in)."""
    now = timezone.now()
    start = now.replace(second=0, microsecond=0) + dt.timedelta(minutes=5)
    return Slot.objects.create(
        office=office,
        counter=Counter.objects.get(office=office, code="01"),
        item=ServiceItem.objects.get(code="CRJ-XK-001"),
        date=timezone.localdate(start),
        start=start,
        end=start + dt.timedelta(minutes=20),
        session=Session.NORMAL,
        capacity=3,
        release_at=now - dt.timedelta(days=1),
    )


@pytest.fixture
def two_booked(city):
    slot = slot_starting_soon(city)
    return [
        workflow.book(actor=CitizenFactory(name=name), slot=slot, client_token=f"office-{i}")
        for i, name in enumerate(["赵静怡", "孙立群"])
    ]


def test_a_counter_calls_the_next_number_and_the_display_updates_without_reload(
    browser, live_server, city, two_booked, screenshot
):
    first, second = two_booked
    clerk = StaffFactory(
        roles=["window_clerk"], department=department("churujing"), password=PASSWORD
    )

    tv_context = browser.new_context(viewport=TV, locale="zh-CN")
    desk_context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    try:
        tv = tv_context.new_page()
        tv.set_default_timeout(10_000)
        tv.goto(f"{live_server.url}/office/{city.code}/display/")
        assert tv.locator("#latest-number").inner_text().strip() == "—"
        tv.evaluate("window.__sameDocument = 'still here'")  # gone if the page reloads
        screenshot(tv, "1-display-before", full_page=False)

        desk = desk_context.new_page()
        desk.set_default_timeout(10_000)
        desk.base_url = live_server.url
        sign_in(desk, clerk)
        desk.get_by_role("link", name="办证大厅签到叫号").click()
        desk.get_by_role("link", name="签到台").first.click()
        field = desk.get_by_label("扫描预约二维码，或输入预约码、证件号码")
        assert field.evaluate("el => el === document.activeElement")  # ready for the scanner
        desk.keyboard.type(workflow.qr_payload(first))  # what a USB scanner does
        with desk.expect_navigation():
            desk.keyboard.press("Enter")
        expect(desk.locator("#ticket-number")).to_have_text("001")
        assert "赵**" in desk.locator("#checkin-result").inner_text()
        assert "赵静怡" not in desk.locator("main").inner_text()
        screenshot(desk, "2-desk-checked-in")

        desk.get_by_label("扫描预约二维码，或输入预约码、证件号码").fill(second.document_number)
        desk.get_by_role("button", name="签到取号").click()
        expect(desk.locator("#ticket-number")).to_have_text("002")

        desk.get_by_role("link", name="签到叫号").click()
        desk.get_by_role("link", name="1号窗口").first.click()
        assert "等候中（2人）" in desk.locator("main").inner_text()
        screenshot(desk, "3-counter-waiting")
        call = desk.get_by_role("button", name="叫下一位")
        assert call.evaluate("el => el === document.activeElement")  # Enter calls
        with desk.expect_navigation():
            desk.keyboard.press("Enter")
        expect(desk.locator("#serving-number")).to_have_text("001")
        screenshot(desk, "4-counter-serving")

        expect(tv.locator("#latest-number")).to_have_text("001")  # polled, not reloaded
        assert tv.locator("#latest-counter").inner_text().strip() == "1号窗口"
        assert tv.evaluate("window.__sameDocument") == "still here"  # no reload happened
        assert tv.locator("#announcer").inner_text() == "请001号到1号窗口办理"
        assert tv.locator("#waiting-count").inner_text() == "1"
        tv.wait_for_timeout(3_200)  # let the highlight end before the picture
        screenshot(tv, "5-display-after-first-call", full_page=False)

        desk.get_by_role("button", name="办结").click()
        desk.wait_for_load_state()
        desk.get_by_role("button", name="叫下一位").click()
        desk.wait_for_load_state()
        expect(tv.locator("#latest-number")).to_have_text("002")  # polled, not reloaded
        rows = tv.locator("#recent-calls tr").all_inner_texts()
        assert [row.split()[0] for row in rows] == ["002", "001"]
        assert tv.evaluate("window.__sameDocument") == "still here"
        for name in ("赵", "孙", first.document_number[-4:], second.document_number[-4:]):
            assert name not in tv.locator("body").inner_text()
        tv.wait_for_timeout(3_200)
        screenshot(tv, "6-display-after-second-call", full_page=False)

        desk.set_viewport_size(PHONE)  # the desk on a small screen still reads
        desk.goto(f"{live_server.url}/office/{city.code}/checkin/")
        screenshot(desk, "7-desk-phone")
    finally:
        tv_context.close()
        desk_context.close()


def test_a_manager_closes_a_counter_and_reads_the_waiting_figures(
    browser, live_server, city, two_booked, screenshot
):
    manager = StaffFactory(
        roles=["supervisor"], department=department("churujing"), password=PASSWORD
    )
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    try:
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.base_url = live_server.url
        sign_in(page, manager)
        page.get_by_role("link", name="办证大厅签到叫号").click()
        screenshot(page, "1-office-index")
        page.get_by_role("link", name="停办安排").first.click()
        start = two_booked[0].slot.start - dt.timedelta(minutes=5)
        end = two_booked[0].slot.end + dt.timedelta(hours=1)
        page.get_by_label("停办范围").select_option(label="1号窗口")
        page.get_by_label("开始时间").fill(timezone.localtime(start).strftime("%Y-%m-%dT%H:%M"))
        page.get_by_label("结束时间").fill(timezone.localtime(end).strftime("%Y-%m-%dT%H:%M"))
        page.get_by_label("停办原因").fill("设备检修")
        screenshot(page, "2-closure-form")
        page.get_by_role("button", name="添加停办并通知预约人").click()
        page.wait_for_load_state()
        assert "2个预约已取消" in page.locator(".messages").inner_text()
        row = page.locator("#closures tr", has_text="设备检修")
        assert "1号窗口" in row.inner_text() and "2 个（已短信通知）" in row.inner_text()
        screenshot(page, "3-closure-listed")

        page.goto(f"{live_server.url}/office/figures/")
        assert city.name in page.locator("#waiting-figures").inner_text()
        screenshot(page, "4-figures")
        page.set_viewport_size(PHONE)
        screenshot(page, "5-figures-phone")
    finally:
        context.close()
