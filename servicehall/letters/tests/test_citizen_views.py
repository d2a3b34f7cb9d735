"""Writers' pages: writing, 12389 reports (anonymous), following up with the code, one's own
letters, and the public page of answered letters."""

import io
import uuid

import pytest
from django.core.cache import cache
from django.urls import reverse
from PIL import Image
from pytest_django.asserts import assertContains, assertNotContains

from servicehall.accounts.tests.factories import CitizenFactory, department
from servicehall.core.models import AuditEntry
from servicehall.letters import rules as letter_rules
from servicehall.letters import workflow
from servicehall.letters.models import Letter, LetterAttachment, LetterEvent
from servicehall.letters.views_citizen import CODE_COOKIE

from .conftest import letter as make_letter

pytestmark = pytest.mark.django_db
CLIENT_IP = "203.0.113.77"


def png(name="现场照片.png"):
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buffer, "PNG")
    buffer.seek(0)
    buffer.name = name
    return buffer


def letter_form(key=None, **extra):
    return {
        "submission_key": str(key or uuid.uuid4()),
        "kind": "consultation",
        "subject": "户口迁移咨询",
        "body": "请问大学毕业后户口如何迁回原籍？",
        "contact_phone": "13900001111",
        "contact_email": "",
        "address": "",
    } | extra


def report_form(key=None, **extra):
    return {
        "submission_key": str(key or uuid.uuid4()),
        "identity": "anonymous",
        "contact_name": "",
        "contact_phone": "",
        "subject_officer": "某派出所 警号012345",
        "subject": "接警后不出警",
        "body": "11月20日晚报警称楼下有人打架，等了一个小时没有民警来。",
        "happened_at": "2026年11月20日晚9点",
        "address": "和平区某小区",
    } | extra


def answer(mail, team, body="您好，已核实处理。"):
    """The reply through the verbs: the holding office assigns, the handler drafts, and it is
    sent (after the leader's approval where needed)."""
    if mail.is_misconduct:
        triage = handler = team["inspector"]
        leader, code = team["inspection_leader"], "ducha"
    else:
        triage, handler, leader, code = team["triage"], team["clerk"], team["leader"], "huzheng"
    mail = workflow.assign(actor=triage, letter=mail, department=department(code))
    workflow.draft_reply(actor=handler, letter=mail, body=body)
    if workflow.needs_approval(mail):
        workflow.submit_for_approval(actor=handler, letter=mail)
        workflow.approve_reply(actor=leader, letter=mail)
    else:
        workflow.send_reply(actor=handler, letter=mail)
    return Letter.objects.get(pk=mail.pk)


@pytest.fixture(autouse=True)
def fresh_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def signed_in(client, citizen):
    client.force_login(citizen)
    return client


# --- the landing page and who may write ----------------------------------------------------------


def test_landing_page_explains_every_channel(client, team):
    response = client.get(reverse("letters:index"))
    for text in ("局长信箱", "网上110", "民意通诉求", "12389", "可以匿名", "96123", "12110"):
        assertContains(response, text)
    assertContains(response, 'href="tel:110"')
    for url in (
        reverse("letters:write", args=["mailbox"]),
        reverse("letters:report"),
        reverse("letters:mine"),
        reverse("letters:follow_up"),
        reverse("letters:answered"),
        "/letters/figures/",
    ):
        assertContains(response, f'href="{url}"')


@pytest.mark.parametrize("channel", ["mailbox", "online110", "appeal"])
def test_writing_needs_sign_in_but_reporting_does_not(client, team, channel):
    response = client.get(reverse("letters:write", args=[channel]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    response = client.post(reverse("letters:write", args=[channel]), letter_form())
    assert response.status_code == 302 and not Letter.objects.exists()
    assert client.get(reverse("letters:report")).status_code == 200


@pytest.mark.parametrize("channel", ["misconduct", "hotline", "outside", "nope"])
def test_only_web_channels_have_a_write_page(signed_in, team, channel):
    assert signed_in.get(reverse("letters:write", args=[channel])).status_code == 404


def test_staff_do_not_write_as_citizens(client, team):
    client.force_login(team["triage"])
    assert client.get(reverse("letters:write", args=["mailbox"])).status_code == 403


def test_write_page_offers_the_channels_kinds_and_prefills_the_contact(signed_in, citizen, team):
    response = signed_in.get(reverse("letters:write", args=["online110"]))
    assertContains(response, citizen.citizen_profile.mobile)
    assertContains(response, "writer@example.com")
    assertContains(response, "网上110不受理紧急报警")
    assertContains(response, 'value="help"')
    assertNotContains(response, 'value="praise"')
    assertContains(response, 'name="submission_key"')


# --- writing -------------------------------------------------------------------------------------


def test_a_double_submit_is_one_letter_with_its_receipt(signed_in, citizen, team):
    url = reverse("letters:write", args=["mailbox"])
    key = uuid.uuid4()
    first = signed_in.post(url, letter_form(key, attachments=[png()], publish_consent="on"))
    second = signed_in.post(url, letter_form(key, attachments=[png()], publish_consent="on"))
    mail = Letter.objects.get()
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == reverse("letters:receipt", args=[mail.number])
    assert mail.writer == citizen and mail.channel == "mailbox" and mail.publish_consent
    assert mail.contact_phone == "13900001111" and mail.contact_name == citizen.name
    assert LetterAttachment.objects.filter(letter=mail).count() == 1
    receipt = signed_in.get(first["Location"])
    assertContains(receipt, mail.number)
    assertContains(receipt, mail.due_date.strftime("%Y-%m-%d"))
    assertContains(receipt, "139****1111")


def test_bad_input_is_a_400_in_chinese_and_keeps_what_was_typed(signed_in, team):
    data = letter_form(subject="", contact_phone="12345", body="我家门口的路灯坏了很久")
    response = signed_in.post(reverse("letters:write", args=["appeal"]), data)
    assertContains(response, "请填写标题。", status_code=400)
    assertContains(response, "请填写正确的手机号码或固定电话号码", status_code=400)
    assertContains(response, "我家门口的路灯坏了很久", status_code=400)
    assertContains(response, data["submission_key"], status_code=400)
    assert not Letter.objects.exists()


def test_a_file_that_is_not_a_scan_is_refused(signed_in, team):
    fake = io.BytesIO(b"<html>not a scan</html>")
    fake.name = "照片.jpg"
    response = signed_in.post(
        reverse("letters:write", args=["mailbox"]), letter_form(attachments=[fake])
    )
    assertContains(response, "只能上传PDF、JPG或PNG格式的文件", status_code=400)
    assertContains(response, "请问大学毕业后户口如何迁回原籍？", status_code=400)
    assertContains(response, "请重新选择", status_code=400)
    assert not Letter.objects.exists()


def test_a_kind_the_channel_does_not_take_and_a_missing_token_are_refused(signed_in, team):
    url = reverse("letters:write", args=["online110"])
    response = signed_in.post(url, letter_form(kind="praise"))
    assert response.status_code == 400
    response = signed_in.post(url, letter_form(submission_key="not-a-token"))
    assertContains(response, "页面已过期", status_code=400)
    assert not Letter.objects.exists()


# --- 12389 reports -------------------------------------------------------------------------------


WRITER_STEPS = ("receive", "rate", "reopen", "withdraw", "withdraw_consent")


def _trace_free(mail):
    """Nothing links the letter to a person: no account, contact or address; the writer's
    steps were recorded without an actor; no audit entry holds the client's IP address."""
    assert mail.anonymous and mail.writer_id is None and mail.entered_by_id is None
    assert (mail.contact_name, mail.contact_phone, mail.contact_email) == ("", "", "")
    entries = AuditEntry.objects.filter(object_id=str(mail.pk))
    writer_entries = entries.filter(action__in=[f"letter.{step}" for step in WRITER_STEPS])
    assert writer_entries.exists()
    assert set(writer_entries.values_list("actor_label", flat=True)) == {"anonymous"}
    assert not writer_entries.filter(actor__isnull=False).exists()
    assert not writer_entries.filter(ip__isnull=False).exists()
    assert not AuditEntry.objects.filter(ip=CLIENT_IP).exists()
    events = LetterEvent.objects.filter(letter=mail, action__in=WRITER_STEPS)
    assert not events.filter(actor__isnull=False).exists()
    assert not LetterAttachment.objects.filter(letter=mail, uploaded_by__isnull=False).exists()


def test_an_anonymous_report_leaves_no_trace_of_the_reporter(client, team):
    data = report_form(attachments=[png("张三拍的.png")])
    response = client.post(reverse("letters:report"), data, REMOTE_ADDR=CLIENT_IP)
    assert response.status_code == 200
    mail = Letter.objects.get()
    code = response.context["code"]
    assertContains(response, code)
    assertContains(response, mail.number)
    assertContains(response, "查询码只显示这一次")
    assert "no-store" in response["Cache-Control"]
    assert letter_rules.holds_code(mail, code)
    assert mail.channel == "misconduct" and mail.department.code == "ducha"
    assert mail.subject_officer == "某派出所 警号012345"
    assert "发生时间：2026年11月20日晚9点" in mail.body
    _trace_free(mail)
    assert LetterAttachment.objects.get(letter=mail).original_name == "附件1.png"
    # No session was started, nothing but the CSRF cookie was set.
    assert "sessionid" not in response.cookies and not client.session.keys()
    assert code not in str(response.cookies)


def test_a_signed_in_citizen_may_report_anonymously(signed_in, citizen, team):
    page = signed_in.get(reverse("letters:report"))
    assert page.context["form"]["identity"].value() == "named"
    data = report_form(identity="anonymous", contact_name=citizen.name, contact_phone="13900001111")
    response = signed_in.post(reverse("letters:report"), data, REMOTE_ADDR=CLIENT_IP)
    assert response.status_code == 200 and response.context["code"]
    mail = Letter.objects.get()
    _trace_free(mail)
    assert citizen.name not in mail.body
    assert mail.number not in str(dict(signed_in.session))
    assertNotContains(signed_in.get(reverse("letters:mine")), mail.number)


def test_a_double_submitted_report_shows_the_same_letter_and_code(client, team):
    data = report_form()
    first = client.post(reverse("letters:report"), data)
    second = client.post(reverse("letters:report"), data)
    assert Letter.objects.count() == 1
    assert first.context["code"] == second.context["code"]
    assert first.context["letter"] == second.context["letter"]


def test_an_anonymous_report_drops_contact_typed_before_choosing_anonymity(client, team):
    data = report_form(contact_name="李四", contact_phone="not a phone")
    response = client.post(reverse("letters:report"), data)
    assert response.status_code == 200
    assert Letter.objects.get().contact_name == ""


def test_a_named_report_without_an_account_needs_a_name_and_phone(client, team):
    response = client.post(reverse("letters:report"), report_form(identity="named"))
    assertContains(response, "实名举报请填写姓名。", status_code=400)
    assertContains(response, "实名举报请填写联系电话。", status_code=400)
    assertContains(response, "接警后不出警", status_code=400)
    data = report_form(identity="named", contact_name="李四", contact_phone="13900002222")
    response = client.post(reverse("letters:report"), data)
    mail = Letter.objects.get()
    assert response.status_code == 200 and response.context["code"]
    assert not mail.anonymous and mail.writer is None and mail.contact_name == "李四"


def test_a_signed_in_named_report_is_followed_in_my_letters(signed_in, citizen, team):
    response = signed_in.post(reverse("letters:report"), report_form(identity="named"))
    mail = Letter.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("letters:receipt", args=[mail.number])
    assert mail.writer == citizen and mail.contact_phone == citizen.citizen_profile.mobile


def test_staff_may_only_report_anonymously(client, team):
    client.force_login(team["operator"])
    response = client.post(reverse("letters:report"), report_form(identity="named"))
    assertContains(response, "本人举报请选择匿名举报", status_code=400)
    response = client.post(reverse("letters:report"), report_form())
    assert response.status_code == 200
    _trace_free(Letter.objects.get())


# --- following up with the code ------------------------------------------------------------------


def _report(client, **extra):
    response = client.post(reverse("letters:report"), report_form(**extra))
    return Letter.objects.get(pk=response.context["letter"].pk), response.context["code"]


def _enter(client, code):
    return client.post(reverse("letters:follow_up"), {"code": code}, REMOTE_ADDR=CLIENT_IP)


def test_a_wrong_code_gets_one_generic_message(client, team):
    _report(client)
    for code in ("AAAA-BBBB-CCCC-DDDD", "short"):
        response = _enter(client, code)
        assertContains(response, "查询码不正确", status_code=404)
        assert CODE_COOKIE not in response.cookies


def test_the_right_code_opens_that_letter_by_post_redirect_get(client, team):
    mail, code = _report(client)
    response = _enter(client, code.lower().replace("-", " "))
    assert response.status_code == 302 and response["Location"] == reverse("letters:follow_up")
    cookie = response.cookies[CODE_COOKIE]
    assert cookie["path"] == "/letters/follow-up/" and cookie["httponly"]
    assert cookie["samesite"] == "Strict" and int(cookie["max-age"]) <= 15 * 60
    page = client.get(response["Location"])
    assertContains(page, mail.number)
    assertContains(page, "来信已收到")
    assertContains(page, "撤回来信")
    assert "no-store" in page["Cache-Control"]
    assert not client.session.keys()
    ended = client.post(reverse("letters:follow_up_end"))
    assert ended.cookies[CODE_COOKIE].value == ""
    assertContains(client.get(reverse("letters:follow_up")), 'name="code"')


def test_code_attempts_are_rate_limited_per_client(client, team, settings):
    settings.LETTER_FOLLOW_UP_RATE = "3/m"
    mail, code = _report(client)
    for _attempt in range(3):
        assert _enter(client, "AAAA-BBBB-CCCC-DDDD").status_code == 404
    response = _enter(client, code)
    assertContains(response, "查询次数过多", status_code=429)
    assert int(response["Retry-After"]) >= 1
    other = client.post(reverse("letters:follow_up"), {"code": code}, REMOTE_ADDR="198.51.100.9")
    assert other.status_code == 302


def test_the_code_holder_reads_the_reply_rates_once_and_reopens_once(client, team):
    mail, code = _report(client)
    answer(mail, team, body="经查，该所民警接警后未及时出警，已对相关民警批评教育。")
    _enter(client, code)
    page = client.get(reverse("letters:follow_up"))
    assertContains(page, "已对相关民警批评教育")
    assertContains(page, "评价答复")
    url = reverse("letters:follow_up_act", args=["rate"])
    assertContains(client.post(url, {}), "请选择评价等级。", status_code=400)
    client.post(url, {"level": 2, "comment": "处理太轻"}, REMOTE_ADDR=CLIENT_IP)
    mail.refresh_from_db()
    assert mail.rating_level == 2
    again = client.post(url, {"level": 5}, follow=True)
    assertContains(again, "您已评价过本次答复")
    mail.refresh_from_db()
    assert mail.rating_level == 2 and LetterEvent.objects.filter(action="rate").count() == 1

    reopen = reverse("letters:follow_up_act", args=["reopen"])
    assertContains(client.post(reopen, {"reason": ""}), "请说明不满意的原因", status_code=400)
    client.post(reopen, {"reason": "希望督察部门当面说明"}, REMOTE_ADDR=CLIENT_IP)
    mail.refresh_from_db()
    assert mail.status == "handling" and mail.round == 2
    mail = answer_again(mail, team)
    client.post(url, {"level": 1})
    response = client.post(reopen, {"reason": "还是不满意"}, follow=True)
    assertContains(response, "只能申请重新办理一次")
    mail.refresh_from_db()
    assert mail.status == "replied" and mail.reopened_count == 1
    _trace_free(mail)


def answer_again(mail, team):
    workflow.draft_reply(actor=team["inspector"], letter=mail, body="已当面说明。")
    workflow.submit_for_approval(actor=team["inspector"], letter=mail)
    workflow.approve_reply(actor=team["inspection_leader"], letter=mail)
    return Letter.objects.get(pk=mail.pk)


def test_the_code_holder_may_withdraw_and_nothing_happens_without_the_cookie(client, team):
    mail, code = _report(client)
    url = reverse("letters:follow_up_act", args=["withdraw"])
    response = client.post(url, {"reason": "已解决"}, follow=True)
    assertContains(response, "查询已超时")
    mail.refresh_from_db()
    assert mail.status == "received"
    _enter(client, code)
    response = client.post(url, {"reason": "已解决"}, follow=True)
    assertContains(response, "来信已撤回")
    mail.refresh_from_db()
    assert mail.status == "withdrawn"
    _trace_free(mail)


def test_a_forged_cookie_opens_nothing(client, team):
    _report(client)
    client.cookies[CODE_COOKIE] = "AAAA-BBBB-CCCC-DDDD"
    assertContains(client.get(reverse("letters:follow_up")), 'name="code"')


# --- my letters ----------------------------------------------------------------------------------


def test_my_letters_are_mine_only(client, citizen, team):
    mine = make_letter(citizen, subject="我的信")
    theirs = make_letter(CitizenFactory(), subject="别人的信")
    assert client.get(reverse("letters:mine")).status_code == 302
    assert client.get(reverse("letters:mine_detail", args=[mine.number])).status_code == 302
    client.force_login(citizen)
    page = client.get(reverse("letters:mine"))
    assertContains(page, "我的信")
    assertNotContains(page, "别人的信")
    for name in ("mine_detail", "receipt"):
        assert client.get(reverse(f"letters:{name}", args=[theirs.number])).status_code == 404
    url = reverse("letters:mine_act", args=[theirs.number, "withdraw"])
    assert client.post(url, {}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == "received"


def test_the_writer_reads_the_reply_rates_once_reopens_once(signed_in, citizen, team):
    mail = answer(make_letter(citizen, publish_consent=True), team, body="可凭报到证迁回原籍。")
    detail = reverse("letters:mine_detail", args=[mail.number])
    page = signed_in.get(detail)
    for text in (
        "来信已收到",
        "已交承办部门办理",
        "已答复，请查看答复内容",
        "可凭报到证迁回原籍。",
    ):
        assertContains(page, text)
    assertNotContains(page, team["clerk"].name)
    rate = reverse("letters:mine_act", args=[mail.number, "rate"])
    response = signed_in.post(rate, {"level": 1, "comment": "没说清楚"}, follow=True)
    assertContains(response, "感谢您的评价")
    assertContains(response, "您的评价：非常不满意")
    assertContains(response, "申请重新办理")
    signed_in.post(rate, {"level": 5})
    assert LetterEvent.objects.filter(letter=mail, action="rate").count() == 1
    reopen = reverse("letters:mine_act", args=[mail.number, "reopen"])
    signed_in.post(reopen, {"reason": "需要具体材料清单"})
    mail.refresh_from_db()
    assert mail.status == "handling" and mail.reopened_count == 1
    assertContains(signed_in.get(detail), "您对答复不满意，已重新办理")
    workflow.draft_reply(actor=team["clerk"], letter=mail, body="材料清单：报到证、毕业证。")
    workflow.send_reply(actor=team["clerk"], letter=mail)
    signed_in.post(rate, {"level": 2})
    response = signed_in.post(reopen, {"reason": "仍不满意"}, follow=True)
    assertContains(response, "只能申请重新办理一次")
    mail.refresh_from_db()
    assert mail.status == "replied" and mail.round == 2
    assertContains(response, "第2次答复")


def test_the_writer_withdraws_and_withdraws_consent(signed_in, citizen, team):
    mail = make_letter(citizen, publish_consent=True)
    consent = reverse("letters:mine_act", args=[mail.number, "withdraw_consent"])
    signed_in.post(consent)
    withdraw = reverse("letters:mine_act", args=[mail.number, "withdraw"])
    response = signed_in.post(withdraw, {"reason": "问题已解决"}, follow=True)
    assertContains(response, "来信已撤回")
    mail.refresh_from_db()
    assert mail.status == "withdrawn" and not mail.publish_consent
    assert (
        signed_in.post(reverse("letters:mine_act", args=[mail.number, "nope"])).status_code == 404
    )


# --- answered letters (public) -------------------------------------------------------------------


def _published(citizen, team, subject, reply):
    mail = answer(make_letter(citizen, publish_consent=True, subject="张三的私事"), team)
    return workflow.publish(
        actor=team["leader"], letter=mail, public_subject=subject, public_reply=reply
    )


def test_answered_letters_show_only_public_texts(client, citizen, team):
    public = _published(citizen, team, "毕业生户口迁回", "可凭报到证办理迁回。")
    unpublished = answer(make_letter(citizen, publish_consent=True, subject="未公开的信"), team)
    page = client.get(reverse("letters:answered"))
    assertContains(page, "毕业生户口迁回")
    assertContains(page, "可凭报到证办理迁回。")
    assertContains(page, "户政")  # the department
    for private in ("张三的私事", "请问大学毕业后", citizen.name, citizen.citizen_profile.mobile):
        assertNotContains(page, private)
    assertNotContains(page, unpublished.number)
    detail = client.get(reverse("letters:answered_detail", args=[public.number]))
    assertContains(detail, "可凭报到证办理迁回。")
    assertNotContains(detail, citizen.name)
    assertNotContains(detail, "张三的私事")
    missing = reverse("letters:answered_detail", args=[unpublished.number])
    assert client.get(missing).status_code == 404


def test_answered_letters_are_searched_and_paginated(client, citizen, team):
    for n in range(11):
        _published(citizen, team, f"交通违法处理{n}", "请到交警窗口处理。")
    _published(citizen, team, "居住证办理", "可在网上办理。")
    page = client.get(reverse("letters:answered"), {"q": "居住证"})
    assertContains(page, "居住证办理")
    assertNotContains(page, "交通违法处理")
    first = client.get(reverse("letters:answered"), {"q": "交通"})
    assert first.context["page"].paginator.count == 11
    assertContains(first, "page=2")
    second = client.get(reverse("letters:answered"), {"q": "交通", "page": 2})
    assert len(second.context["page"]) == 1


def test_the_report_page_speaks_english_when_asked(client, team):
    # The attachments help text is built per request, not when the module loads.
    english = client.get(reverse("letters:report"), HTTP_ACCEPT_LANGUAGE="en")
    assertContains(english, "You can upload photos or PDF files")
    chinese = client.get(reverse("letters:report"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assertContains(chinese, "可上传照片或PDF文件")
