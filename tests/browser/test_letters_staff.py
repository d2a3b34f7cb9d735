"""The letters workbench in a browser: a 96123 operator types a call in and reads the number
back; the letters office finds it in its queue. A handler drafts a complaint's reply and the
department's leader approves it."""

import uuid

import pytest

from servicehall.accounts.models import Department
from servicehall.accounts.tests.factories import CitizenFactory, StaffFactory, totp_token
from servicehall.letters import intake, workflow
from servicehall.letters.models import Letter

from .conftest import PHONE

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "Correct-horse-2026"


def sign_in(page, officer):
    page.goto(page.base_url + "/accounts/login/")
    page.get_by_label("账号").fill(officer.staff_profile.police_number)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").last.click()
    page.get_by_label("动态口令").fill(totp_token(officer))
    page.get_by_role("button", name="验证并登录").click()
    page.wait_for_url("**/accounts/staff/")


@pytest.fixture
def desks(browser, live_server, catalogue):
    """One signed-in desktop browser per officer."""
    contexts, pages = [], {}

    def desk_of(officer):
        if officer.pk not in pages:
            context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
            contexts.append(context)
            page = context.new_page()
            page.set_default_timeout(10_000)
            page.base_url = live_server.url
            sign_in(page, officer)
            pages[officer.pk] = page
        return pages[officer.pk]

    yield desk_of
    for context in contexts:
        context.close()


def officer(code, role, name):
    department = Department.objects.get(code=code)
    return StaffFactory(roles=[role], department=department, password=PASSWORD, name=name)


def test_an_operator_enters_a_call_and_the_letters_office_sees_it(desks, screenshot):
    operator = officer("zhihui", "dispatcher", "郑话务")
    clerk = officer("xinfang", "window_clerk", "冯信访")

    desk = desks(operator)
    desk.get_by_role("link", name="来信办理与热线登记").click()
    desk.get_by_role("link", name="热线来电登记").click()
    assert desk.get_by_label("来电人姓名").evaluate("el => el === document.activeElement")
    desk.get_by_label("来电人姓名").fill("钱来电")
    desk.get_by_label("联系电话", exact=True).fill("13900002222")
    desk.get_by_label("来信类别").select_option(label="求助")
    desk.get_by_label("标题").fill("老人钥匙锁在家里")
    desk.get_by_label("来电内容").fill("独居老人钥匙锁在屋里，炉子上还在烧水，请求帮助。")
    desk.get_by_label("事发地点（可选）").fill("和平区南京街1号")
    screenshot(desk, "1-hotline-form")
    desk.get_by_role("button", name="登记来电").click()
    desk.wait_for_load_state()

    number = desk.locator("#letter-number").inner_text().strip()
    letter = Letter.objects.get(number=number)
    assert letter.entered_by == operator and letter.channel == "hotline"
    assert desk.locator("#follow-up-code").inner_text().strip()
    assert desk.get_by_label("来电人姓名").input_value() == ""  # ready for the next call
    screenshot(desk, "2-hotline-receipt")

    desk.get_by_role("link", name=number).first.click()
    assert "13900002222" in desk.locator("main").inner_text()  # read back, audited
    screenshot(desk, "3-operator-reads-back")

    office = desks(clerk)
    office.get_by_role("link", name="来信办理与热线登记").click()
    row = office.locator("tr", has_text=number)
    assert "139****2222" in row.inner_text() and "钱来电" not in row.inner_text()
    screenshot(office, "4-office-queue")
    office.set_viewport_size(PHONE)  # the same queue on a phone: one card per letter
    screenshot(office, "4b-office-queue-phone")
    office.set_viewport_size({"width": 1280, "height": 900})
    row.get_by_role("link", name=number).click()
    office.get_by_label("承办部门").select_option(label="治安管理")
    screenshot(office, "5-office-letter")
    office.get_by_role("button", name="分办").click()
    office.wait_for_load_state()
    assert "已分办" in office.locator(".messages").inner_text()
    assert Letter.objects.get(pk=letter.pk).department.code == "zhian"


def test_a_handler_drafts_and_the_leader_approves(desks, screenshot):
    triage = officer("xinfang", "window_clerk", "冯信访")
    handler = officer("huzheng", "window_clerk", "李承办")
    leader = officer("huzheng", "approver", "吴领导")
    writer = CitizenFactory(name="王芳")
    receipt = intake.receive(
        actor=writer,
        submission_key=uuid.uuid4(),
        channel="mailbox",
        kind="complaint",
        subject="办理户口窗口态度差",
        body="上周在窗口办理户口迁移，工作人员态度生硬。",
    )
    letter = workflow.assign(
        actor=triage, letter=receipt.letter, department=Department.objects.get(code="huzheng")
    )
    letter_url = f"/staff/letters/{letter.number}/"

    desk = desks(handler)
    desk.goto(desk.base_url + letter_url)
    assert "王芳" not in desk.locator("main").inner_text()  # masked: 王*
    desk.get_by_label("答复内容").fill("您好，经核实，已对窗口民警批评教育，并向您致歉。")
    desk.get_by_role("button", name="保存答复草稿").click()
    desk.wait_for_load_state()
    desk.get_by_role("button", name="提交领导审核").click()
    desk.wait_for_load_state()
    assert "答复已提交领导审核" in desk.locator(".messages").inner_text()
    screenshot(desk, "1-handler-submitted")

    boss = desks(leader)
    boss.goto(boss.base_url + letter_url)
    boss.get_by_label("审核意见（可选）").fill("同意")
    screenshot(boss, "2-leader-reviews")
    boss.get_by_role("button", name="审核通过并答复").click()
    boss.wait_for_load_state()
    assert "答复已发送给来信人" in boss.locator(".messages").inner_text()
    assert Letter.objects.get(pk=letter.pk).status == "replied"
    timeline = boss.locator(".timeline").inner_text()
    for step in ("登记来信", "分办", "起草答复", "提交领导审核", "审核通过并答复"):
        assert step in timeline
    screenshot(boss, "3-replied")
