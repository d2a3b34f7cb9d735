"""The whole journey of a case in two browsers: a citizen on a phone applies for birth
registration; at the bureau a clerk asks for a correction; the citizen answers it; the case is
accepted, reviewed, approved and completed; the citizen rates the service."""

import pytest
from PIL import Image

from servicehall.accounts.models import Department
from servicehall.accounts.tests.factories import CitizenFactory, StaffFactory, totp_token

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "Correct-horse-2026"


def scan(tmp_path, name):
    path = tmp_path / name
    Image.new("RGB", (600, 400), "white").save(path, "PNG")
    return str(path)


def sign_in(page, login, password, officer=None):
    page.goto(page.base_url + "/accounts/login/")
    page.get_by_label("账号").fill(login)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").last.click()
    if officer is not None:
        page.get_by_label("动态口令").fill(totp_token(officer))
        page.get_by_role("button", name="验证并登录").click()
    page.wait_for_load_state()


@pytest.fixture
def desks(browser, live_server):
    """One signed-in desktop browser per officer (a TOTP code cannot be used twice)."""
    contexts, pages = [], {}

    def desk_of(officer):
        if officer.pk not in pages:
            context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
            contexts.append(context)
            page = context.new_page()
            page.set_default_timeout(10_000)
            page.base_url = live_server.url
            sign_in(page, officer.staff_profile.police_number, PASSWORD, officer)
            pages[officer.pk] = page
        return pages[officer.pk]

    yield desk_of
    for context in contexts:
        context.close()


def act(desk, screenshot, case_url, button, fill=None, shot=None):
    """An officer opens the case and takes one action."""
    desk.goto(case_url)
    if fill:
        for label, value in fill.items():
            desk.get_by_label(label).fill(value)
    if shot:
        screenshot(desk, shot)
    desk.get_by_role("button", name=button, exact=True).click()
    desk.wait_for_load_state()
    assert desk.locator(".message.success").count() == 1, desk.locator("main").inner_text()


def test_birth_registration_from_application_to_rating(phone, desks, screenshot, tmp_path):
    huzheng = Department.objects.get(code="huzheng")
    clerk = StaffFactory(
        roles=["window_clerk"], department=huzheng, password=PASSWORD, name="李窗口"
    )
    reviewer = StaffFactory(
        roles=["reviewer"], department=huzheng, password=PASSWORD, name="周审核"
    )
    approver = StaffFactory(
        roles=["approver"], department=huzheng, password=PASSWORD, name="吴审批"
    )
    citizen = CitizenFactory(password=PASSWORD, name="王芳")

    # The citizen finds the service and applies on her phone.
    sign_in(phone, citizen.citizen_profile.mobile, PASSWORD)
    phone.goto(phone.base_url + "/services/item/HZ-QR-001/")
    phone.get_by_role("link", name="网上申请").click()
    phone.get_by_label("婴儿姓名").fill("王小明")
    phone.get_by_label("性别").select_option("男")
    phone.get_by_label("出生日期").fill("2026-11-20")
    phone.get_by_label("申报人居民身份证号码").fill(citizen.citizen_profile.id_number)
    phone.get_by_label("《出生医学证明》").set_input_files(scan(tmp_path, "birth.png"))
    phone.get_by_label("父母双方居民户口簿").set_input_files(scan(tmp_path, "hukou.png"))
    phone.get_by_label("父母双方居民身份证").set_input_files(scan(tmp_path, "ids.png"))
    screenshot(phone, "1-apply")
    phone.get_by_role("button", name="提交申请").click()
    phone.wait_for_url("**/receipt/")
    number = phone.locator(".case-number").inner_text().strip()
    assert number.startswith("HZ-")
    screenshot(phone, "2-receipt")
    case_id = phone.url.rstrip("/").split("/")[-2]
    staff_url = f"{phone.base_url}/staff/cases/{case_id}/"

    # The clerk finds the marriage certificate missing: one notice, everything listed.
    act(
        desks(clerk),
        screenshot,
        staff_url,
        "一次性告知补正",
        fill={"需补正的材料或内容（每行一项）": "父母结婚证（复印件）\n《出生医学证明》背面"},
        shot="3-clerk-case",
    )

    # The citizen reads the notice and answers it.
    phone.goto(f"{phone.base_url}/cases/{case_id}/")
    notice = phone.locator("#correction-heading").locator("..")
    assert "父母结婚证（复印件）" in notice.inner_text()
    phone.get_by_label("父母结婚证").set_input_files(scan(tmp_path, "marriage.png"))
    screenshot(phone, "4-correction")
    phone.get_by_role("button", name="提交补正材料").click()
    phone.wait_for_load_state()
    assert "补正材料已提交" in phone.locator(".messages").inner_text()

    # Accepted, reviewed, approved, completed.
    act(desks(clerk), screenshot, staff_url, "受理")
    act(desks(reviewer), screenshot, staff_url, "开始审查")
    act(desks(approver), screenshot, staff_url, "准予许可")
    act(desks(approver), screenshot, staff_url, "办结", shot="5-approver-case")

    # The citizen sees the whole timeline and rates the service.
    phone.goto(f"{phone.base_url}/cases/{case_id}/")
    timeline = phone.locator(".timeline").inner_text()
    for step in (
        "提交申请",
        "一次性告知补正",
        "补正后重新提交",
        "受理",
        "开始审查",
        "准予许可",
        "办结",
    ):
        assert step in timeline
    phone.get_by_label("满意", exact=True).check()
    phone.get_by_label("意见和建议").fill("补正一次说清楚了，很方便。")
    phone.get_by_role("button", name="提交评价").click()
    phone.wait_for_load_state()
    assert "您的评价：满意" in phone.locator("main").inner_text()
    screenshot(phone, "6-rated")

    # Anyone with the number and phone can follow it, without personal data.
    phone.context.clear_cookies()
    phone.goto(f"{phone.base_url}/cases/progress/?number={number}")
    phone.get_by_label("申请时填写的手机号码").fill(citizen.citizen_profile.mobile)
    phone.get_by_role("button", name="查询").click()
    phone.wait_for_load_state()
    page_text = phone.locator("main").inner_text()
    assert "已办结" in page_text and "王小明" not in page_text and "王芳" not in page_text
    screenshot(phone, "7-public-progress")
