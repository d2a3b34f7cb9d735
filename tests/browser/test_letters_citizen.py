"""Letters on a phone: a citizen writes to the director's mailbox and rates the reply; an
anonymous reporter files a 12389 report and reads the reply with nothing but the code.
The bureau's side is played through the domain verbs."""

import pytest
from PIL import Image

from servicehall.accounts.tests.factories import CitizenFactory, StaffFactory, department
from servicehall.letters import workflow
from servicehall.letters.models import Letter

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "Correct-horse-2026"


def photo(tmp_path, name="现场.png"):
    path = tmp_path / name
    Image.new("RGB", (600, 400), "white").save(path, "PNG")
    return str(path)


def sign_in(page, login, password):
    page.goto(page.base_url + "/accounts/login/")
    page.get_by_label("账号").fill(login)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").last.click()
    page.wait_for_load_state()


def staff(code, *roles):
    return StaffFactory(roles=list(roles), department=department(code))


def answer(number, body):
    """The bureau answers: triage, the handler's draft, the leader's approval where needed."""
    mail = Letter.objects.get(number=number)
    if mail.is_misconduct:
        triage = handler = staff("ducha", "window_clerk")
        leader, code = staff("ducha", "approver"), "ducha"
    else:
        triage, handler = staff("xinfang", "window_clerk"), staff("huzheng", "window_clerk")
        leader, code = staff("huzheng", "approver"), "huzheng"
    mail = workflow.assign(actor=triage, letter=mail, department=department(code))
    workflow.claim(actor=handler, letter=mail)
    workflow.draft_reply(actor=handler, letter=mail, body=body)
    if workflow.needs_approval(mail):
        workflow.submit_for_approval(actor=handler, letter=mail)
        workflow.approve_reply(actor=leader, letter=mail)
    else:
        workflow.send_reply(actor=handler, letter=mail)
    return leader


def fits_the_screen(page):
    """Nothing wider than the phone: no sideways scrolling."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], width


def test_a_citizen_writes_to_the_director_and_rates_the_reply(phone, screenshot, tmp_path):
    department("xinfang")
    citizen = CitizenFactory(password=PASSWORD, name="王芳")
    sign_in(phone, citizen.citizen_profile.mobile, PASSWORD)

    phone.goto(phone.base_url + "/letters/")
    fits_the_screen(phone)
    screenshot(phone, "1-channels")
    phone.get_by_role("link", name="给局长写信").click()
    phone.get_by_label("来信内容").fill("请问大学毕业后，户口如何从学校迁回原籍？需要哪些材料？")
    phone.get_by_label("接收通知的手机号码").fill("12345")
    phone.get_by_role("button", name="提交来信").click()
    phone.wait_for_load_state()
    # Refused in Chinese, field by field, with the text kept.
    main = phone.locator("main").inner_text()
    for message in ("请选择来信类别。", "请填写标题。", "请填写正确的手机号码"):
        assert message in main
    assert "需要哪些材料" in phone.get_by_label("来信内容").input_value()
    fits_the_screen(phone)
    screenshot(phone, "2-errors")
    phone.get_by_label("咨询", exact=True).check()
    phone.get_by_label("标题").fill("毕业生户口迁回")
    phone.get_by_label("接收通知的手机号码").fill(citizen.citizen_profile.mobile)
    phone.get_by_label("附件（可选）").set_input_files(photo(tmp_path))
    phone.get_by_label("同意在“已答复来信”中公开答复", exact=False).check()
    fits_the_screen(phone)
    screenshot(phone, "3-write")
    phone.get_by_role("button", name="提交来信").click()
    phone.wait_for_url("**/receipt/")
    number = phone.locator(".case-number").inner_text().strip()
    assert number.startswith("XF") and "答复期限" in phone.locator("main").inner_text()
    screenshot(phone, "4-receipt")

    leader = answer(
        number, "您好！毕业生可凭报到证和毕业证到原籍派出所办理户口迁回，详见办事指南。"
    )

    phone.get_by_role("link", name="我的来信").first.click()
    phone.get_by_role("link", name="毕业生户口迁回").click()
    main = phone.locator("main").inner_text()
    assert "可凭报到证和毕业证" in main and "已答复，请查看答复内容" in main
    phone.get_by_label("满意", exact=True).check()
    phone.get_by_label("意见和建议").fill("答复清楚，谢谢。")
    screenshot(phone, "5-reply")
    phone.get_by_role("button", name="提交评价").click()
    phone.wait_for_load_state()
    assert "您的评价：满意" in phone.locator("main").inner_text()
    assert Letter.objects.get(number=number).rating_level == 4
    fits_the_screen(phone)
    screenshot(phone, "6-rated")

    # Elderly-friendly large type: the page still fits the phone.
    phone.get_by_role("button", name="大字模式").click()
    phone.wait_for_load_state()
    fits_the_screen(phone)
    screenshot(phone, "7-large-type")

    # She agreed to publication: the redacted reply appears on the public page, unnamed.
    workflow.publish(
        actor=leader,
        letter=Letter.objects.get(number=number),
        public_subject="毕业生户口如何迁回原籍",
        public_reply="毕业生可凭报到证和毕业证到原籍派出所办理户口迁回。",
    )
    phone.goto(phone.base_url + "/letters/answered/")
    phone.get_by_label("搜索已答复来信").fill("户口")
    phone.get_by_role("button", name="搜索").click()
    phone.wait_for_load_state()
    fits_the_screen(phone)
    screenshot(phone, "8-answered-list")
    phone.get_by_role("link", name="毕业生户口如何迁回原籍").click()
    main = phone.locator("main").inner_text()
    assert "原籍派出所" in main and "王芳" not in main and "需要哪些材料" not in main
    fits_the_screen(phone)
    screenshot(phone, "9-answered")


def test_an_anonymous_reporter_follows_up_with_only_the_code(phone, screenshot):
    department("ducha")
    # This reporter reads in the elderly-friendly large type throughout.
    phone.context.add_cookies([{"name": "large_type", "value": "1", "url": phone.base_url}])
    phone.goto(phone.base_url + "/letters/report/")
    assert phone.get_by_role("radio", name="匿名举报", exact=False).is_checked()
    assert not phone.get_by_label("姓名", exact=True).is_visible()  # no contact asked
    phone.get_by_role("radio", name="实名举报", exact=False).check()
    assert phone.get_by_label("姓名", exact=True).is_visible()
    phone.get_by_role("radio", name="匿名举报", exact=False).check()
    assert not phone.get_by_label("联系电话").is_visible()
    phone.get_by_label("被举报的民警或单位").fill("某派出所，警号0123××")
    phone.get_by_label("标题").fill("接警后一小时未出警")
    phone.get_by_label("发生了什么").fill("11月20日晚报警称楼下有人打架，一个小时没有民警到场。")
    phone.get_by_label("发生时间（可选）").fill("2026年11月20日晚9点")
    fits_the_screen(phone)
    screenshot(phone, "1-report")
    phone.get_by_role("button", name="提交举报").click()
    phone.wait_for_load_state()
    code = phone.locator("#follow-up-code").inner_text().strip()
    assert len(code.replace("-", "")) == 16
    number = phone.locator(".case-number").inner_text().strip()
    mail = Letter.objects.get(number=number)
    assert mail.anonymous and mail.writer is None
    fits_the_screen(phone)
    screenshot(phone, "2-code")

    answer(number, "经查，该所当晚警力不足导致出警迟缓，已责令整改并对值班民警批评教育。")

    # Another day, another browser: only the code.
    phone.context.clear_cookies()
    phone.context.add_cookies([{"name": "large_type", "value": "1", "url": phone.base_url}])
    phone.goto(phone.base_url + "/letters/")
    phone.get_by_role("link", name="凭查询码查询").click()
    phone.get_by_label("查询码").fill("AAAA-BBBB-CCCC-DDDD")
    phone.get_by_role("button", name="查询").click()
    phone.wait_for_load_state()
    assert "查询码不正确" in phone.locator("main").inner_text()
    phone.get_by_label("查询码").fill(code.lower())
    screenshot(phone, "3-enter-code")
    phone.get_by_role("button", name="查询").click()
    phone.wait_for_load_state()
    assert code not in phone.url and "follow-up" in phone.url
    main = phone.locator("main").inner_text()
    assert "已责令整改" in main and number in main
    fits_the_screen(phone)
    screenshot(phone, "4-reply")
    phone.get_by_label("基本满意", exact=True).check()
    phone.get_by_role("button", name="提交评价").click()
    phone.wait_for_load_state()
    assert "您的评价：基本满意" in phone.locator("main").inner_text()
    phone.get_by_role("button", name="结束查询").click()
    phone.wait_for_load_state()
    assert phone.get_by_label("查询码").is_visible()
    screenshot(phone, "5-ended")
