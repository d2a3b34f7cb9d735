"""Cash escorts on a phone: a citizen requests an escort, is refused field by field first,
then sees the request in "my escorts"; the duty station accepts it (through the verb) and the
citizen's timeline shows it. The station's pages are photographed on a phone too."""

import datetime as dt

import pytest
from django.utils import timezone

from servicehall.accounts.tests.factories import (
    CitizenFactory,
    StaffFactory,
    StationFactory,
    department,
    district,
    totp_token,
)
from servicehall.escorts import workflow
from servicehall.escorts.models import EscortRequest

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "Correct-horse-2026"


def sign_in(page, login, password):
    page.goto(page.base_url + "/accounts/login/")
    page.get_by_label("账号").fill(login)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").last.click()
    page.wait_for_load_state()


def fits_the_screen(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], width


@pytest.fixture
def station(db):
    from servicehall.accounts.models import District
    from servicehall.accounts.organisation import sync_districts

    sync_districts(District)  # a transactional test's flush empties the seeded table
    return StationFactory(code="210102-A01", name="和平测试派出所", district=district("210102"))


def test_a_citizen_requests_an_escort_on_a_phone(phone, screenshot, station):
    citizen = CitizenFactory(password=PASSWORD, name="王芳")
    sign_in(phone, citizen.citizen_profile.mobile, PASSWORD)
    phone.get_by_role("link", name="我的护送").click()
    phone.get_by_role("link", name="申请大额取送款护送").click()
    fits_the_screen(phone)
    screenshot(phone, "1-form")

    day = timezone.localdate() + dt.timedelta(days=3)
    phone.get_by_label("银行或单位名称").fill("中国工商银行沈阳和平支行")
    phone.get_by_label("护送日期").fill(day.isoformat())
    phone.get_by_label("开始时间").fill("10:00")
    phone.get_by_label("结束时间").fill("09:00")
    phone.get_by_label("取款地点所在区县").select_option(label="和平区")
    phone.locator("#id_pickup_address").fill("和平区南京北街100号")
    phone.get_by_label("送达地点").fill("和平区太原街50号财务室")
    phone.get_by_label("金额（元）").fill("0")
    phone.get_by_role("button", name="提交申请").click()
    phone.wait_for_load_state()
    main = phone.locator("main").inner_text()
    for message in ("结束时间应晚于开始时间。", "金额应大于0元。"):
        assert message in main
    assert phone.locator("#id_pickup_address").input_value() == "和平区南京北街100号"
    assert not EscortRequest.objects.exists()
    fits_the_screen(phone)
    screenshot(phone, "2-errors")

    phone.get_by_label("结束时间").fill("11:30")
    phone.get_by_label("金额（元）").fill("500000")
    phone.get_by_role("button", name="提交申请").click()
    phone.wait_for_load_state()
    escort = EscortRequest.objects.get()
    assert escort.number in phone.locator("main").inner_text()
    assert "护送申请已提交" in phone.locator("main").inner_text()
    screenshot(phone, "3-submitted")

    workflow.accept(actor=StaffFactory(roles=["dispatcher"], station=station), escort=escort)
    phone.get_by_role("link", name="我的护送").first.click()
    mine = phone.locator("main").inner_text()
    assert escort.number in mine and "已受理" in mine
    fits_the_screen(phone)
    screenshot(phone, "4-mine")
    phone.get_by_role("link", name=f"{day:%Y-%m-%d} 10:00").click()
    timeline = phone.locator("ol.timeline").inner_text()
    assert "提交申请" in timeline and "派出所已受理" in timeline
    fits_the_screen(phone)
    screenshot(phone, "5-timeline")


def test_the_duty_desk_answers_on_a_phone(phone, screenshot, station):
    citizen = CitizenFactory()
    escort = workflow.request_escort(
        actor=citizen,
        client_token="browser-escort",
        date=timezone.localdate() + dt.timedelta(days=2),
        start_time=dt.time(14),
        end_time=dt.time(15),
        district=station.district,
        pickup_address="和平区南京北街100号",
        destination_address="和平区太原街50号财务室",
        amount=500000,
        contact_phone="13912345678",
        organisation="中国工商银行沈阳和平支行",
    ).escort
    duty = StaffFactory(
        roles=["dispatcher"], station=station, department=department("zhian"), password=PASSWORD
    )
    sign_in(phone, duty.username, PASSWORD)
    phone.get_by_label("动态口令").fill(totp_token(duty))
    phone.get_by_role("button", name="验证并登录").click()
    phone.wait_for_url("**/accounts/staff/")
    phone.goto(phone.base_url + "/escorts/station/")
    assert escort.number in phone.locator("main").inner_text()
    fits_the_screen(phone)
    screenshot(phone, "1-queue")
    phone.get_by_role("link", name=escort.number).click()
    phone.locator("#action-decline").get_by_role("button", name="不予护送").click()
    phone.wait_for_load_state()
    assert "请填写不予护送的理由" in phone.locator("main").inner_text()
    screenshot(phone, "2-decline-needs-reason")
    phone.locator("#action-accept").get_by_role("button", name="受理").click()
    phone.wait_for_load_state()
    assert "已受理，已短信通知申请人。" in phone.locator("main").inner_text()
    escort.refresh_from_db()
    assert escort.status == "accepted"
    fits_the_screen(phone)
    screenshot(phone, "3-accepted")


def test_a_supervisor_reads_the_monthly_figures_on_a_phone(phone, screenshot):
    from io import StringIO

    from django.core.management import call_command

    from servicehall.accounts.demo import STAFF_PASSWORD
    from servicehall.accounts.models import User

    call_command("demo_accounts", stdout=StringIO())
    call_command("demo_escorts", stdout=StringIO())
    supervisor = User.objects.get(username="900032")
    sign_in(phone, "900032", STAFF_PASSWORD)
    phone.get_by_label("动态口令").fill(totp_token(supervisor))
    phone.get_by_role("button", name="验证并登录").click()
    phone.wait_for_url("**/accounts/staff/")
    phone.goto(phone.base_url + "/escorts/station/")
    phone.get_by_role("link", name="护送情况统计").click()
    table = phone.locator("table.figures").inner_text()
    assert "全年合计" in table and "月" in table
    fits_the_screen(phone)  # the wide table scrolls inside its own box
    screenshot(phone, "1-figures")
