"""The letters workbench: who may see what, the queue, each action through its page, contact
details shown only on an audited request, the hotline desk and the CSV upload."""

import datetime as dt
import uuid

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from servicehall.accounts.tests.factories import (
    CitizenFactory,
    StationFactory,
    department,
    login_verified_staff,
)
from servicehall.core.models import AuditEntry
from servicehall.letters import workflow
from servicehall.letters.models import Letter, LetterAttachment, LetterEvent, OutsidePlatform

from .conftest import NOW, letter, staff

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fixed_day(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def mail(citizen, team):
    """A citizen's consultation, waiting for triage in the letters office."""
    return letter(citizen)


def assigned(mail, team, code="huzheng"):
    return workflow.assign(actor=team["triage"], letter=mail, department=department(code))


def drafted(mail, team, body="您好，毕业生户口可凭报到证迁回原籍。"):
    mail = assigned(mail, team)
    workflow.draft_reply(actor=team["clerk"], letter=mail, body=body)
    return fresh(mail)


def fresh(mail):
    return Letter.objects.get(pk=mail.pk)


def url(name, mail=None, *args):
    return reverse(f"letters_staff:{name}", args=[mail.number, *args] if mail else args)


def act(client, mail, action, **data):
    return client.post(url("act", mail, action), data)


def as_user(client, user):
    login_verified_staff(client, user)
    return user


def text(response):
    return response.content.decode()


# --- access, from one table ------------------------------------------------------------------


def _sign_in(client, who, team):
    if who == "anonymous":
        return
    if who == "citizen":
        client.force_login(CitizenFactory())
    elif who == "writer":
        client.force_login(team["writer"])
    else:
        login_verified_staff(client, team[who])


@pytest.mark.parametrize(
    ("who", "page", "expected"),
    [
        ("anonymous", "queue", 302),
        ("anonymous", "detail", 302),
        ("anonymous", "claim", 302),
        ("anonymous", "hotline", 302),
        ("anonymous", "import", 302),
        ("citizen", "queue", 403),
        ("citizen", "detail", 403),
        ("citizen", "reveal", 403),
        ("citizen", "hotline", 403),
        ("writer", "detail", 403),  # the writer reads it on the citizen pages, not here
        ("other", "queue", 200),  # public order: clerk, approver and supervisor
        ("other", "detail", 404),
        ("other", "reveal", 404),
        ("other", "claim", 404),
        ("other", "attachment", 404),
        ("other", "import", 403),
        ("operator", "detail", 404),  # typed it in, but reads it on the hotline pages only
        ("operator", "hotline", 200),
        ("operator", "entered", 200),
        ("operator", "import", 403),
        ("reviewer", "hotline", 403),  # no hotline role
        ("clerk", "detail", 200),
        ("clerk", "claim", 302),
        ("supervisor", "claim", 403),  # supervisors designate handlers, they do not claim
        ("triage", "import", 200),
        ("office_supervisor", "detail", 200),  # oversees every letter but 12389 reports
    ],
)
def test_access(client, citizen, team, who, page, expected):
    team["writer"] = citizen
    mail = assigned(letter(citizen), team)
    item = LetterAttachment.objects.create(
        letter=mail,
        file=ContentFile(b"%PDF-1.4", name="a.pdf"),
        original_name="a.pdf",
        content_type="application/pdf",
        size=8,
        sha256="0" * 64,
    )
    _sign_in(client, who, team)
    if page == "claim":
        response = act(client, mail, "claim")
    elif page == "reveal":
        response = client.post(url("reveal", mail), {"purpose": "核实情况"})
    elif page == "attachment":
        response = client.get(url("attachment", mail, item.pk))
    elif page == "detail":
        response = client.get(url("detail", mail))
    else:
        response = client.get(url(page))
    assert response.status_code == expected
    if expected == 302 and who == "anonymous":
        assert reverse("accounts:login") in response["Location"]
    if page == "queue" and expected == 200:
        assert mail.number not in text(response)  # not their department's
    if page == "claim" and expected != 302:
        assert fresh(mail).handler is None
        assert not LetterEvent.objects.filter(letter=mail, action="claim").exists()
    if expected == 403 and who not in ("anonymous", "citizen", "writer"):
        assert "无权" in text(response) or "信访部门" in text(response)
    assert not AuditEntry.objects.filter(action="personal_data.read").exists()


def test_misconduct_reports_are_read_by_inspection_only(client, team):
    report = letter(None, channel="misconduct", kind="report", anonymous=True)
    for who, expected in [("office_supervisor", 404), ("triage", 404), ("inspector", 200)]:
        as_user(client, team[who])
        assert client.get(url("detail", report)).status_code == expected, who
    body = text(client.get(url("detail", report)))
    assert "匿名举报" in body and url("reveal", report) not in body
    choices = body.split('id="assign-department"')[1].split("</select>")[0]
    assert "督察" in choices and "户政" not in choices  # it never leaves inspection


def test_station_staff_see_their_jurisdiction_only(client, citizen, team):
    mine, theirs = StationFactory(), StationFactory()
    officer = staff("huzheng", "window_clerk", station=mine)
    unbound = assigned(letter(citizen), team)
    here = workflow.assign(
        actor=team["triage"], letter=letter(citizen), department=department("huzheng"), station=mine
    )
    there = workflow.assign(
        actor=team["triage"],
        letter=letter(citizen),
        department=department("huzheng"),
        station=theirs,
    )
    as_user(client, officer)
    body = text(client.get(url("queue")))
    assert unbound.number in body and here.number in body and there.number not in body
    assert client.get(url("detail", there)).status_code == 404
    assert act(client, there, "claim").status_code == 404
    assert act(client, here, "claim").status_code == 302


# --- the queue -------------------------------------------------------------------------------


def test_queue_shows_the_departments_letters_masked_with_due_dates(client, citizen, team):
    mine = assigned(letter(citizen), team)
    waiting = letter(citizen)  # still with the letters office
    as_user(client, team["clerk"])
    body = text(client.get(url("queue")))
    assert mine.number in body and waiting.number not in body
    assert citizen.name not in body and citizen.citizen_profile.mobile not in body
    assert citizen.citizen_profile.mobile[:3] + "****" in body
    assert "2026-12-01" in body and "剩 3 个工作日" in body  # consultation: 3 working days


def test_queue_filters(client, citizen, team, fixed_day):
    consult = assigned(letter(citizen), team)
    complaint = assigned(letter(citizen, kind="complaint"), team)
    workflow.claim(actor=team["clerk"], letter=complaint)
    hotline = assigned(
        letter(
            team["operator"],
            channel="hotline",
            contact_name="赵来电",
            contact_phone="13900001111",
        ),
        team,
    )
    done = fresh(drafted(letter(citizen), team))
    workflow.send_reply(actor=team["clerk"], letter=done)
    as_user(client, team["clerk"])
    q = url("queue")

    body = text(client.get(q))
    assert consult.number in body and done.number not in body  # open letters by default
    assert done.number in text(client.get(q, {"status": "all"}))
    assert done.number in text(client.get(q, {"status": "replied"}))
    body = text(client.get(q, {"kind": "complaint"}))
    assert complaint.number in body and consult.number not in body
    body = text(client.get(q, {"channel": "hotline"}))
    assert hotline.number in body and consult.number not in body
    body = text(client.get(q, {"mine": "on"}))
    assert complaint.number in body and consult.number not in body
    body = text(client.get(q, {"q": consult.number[-5:]}))
    assert consult.number in body and complaint.number not in body
    assert client.get(q, {"status": "nonsense", "page": "x"}).status_code == 200

    fixed_day.move_to("2026-11-30 10:00 +0800", tick=False)  # Monday: consultations due Tue
    as_user(client, team["clerk"])
    body = text(client.get(q, {"due": "soon"}))
    assert consult.number in body and complaint.number not in body and "黄色预警" in body
    fixed_day.move_to("2026-12-02 10:00 +0800", tick=False)
    as_user(client, team["clerk"])
    body = text(client.get(q, {"due": "overdue"}))
    assert consult.number in body and complaint.number not in body
    assert "红色预警" in body and "超期 1 个工作日" in body


# --- contact details ---------------------------------------------------------------------------


def test_contact_is_masked_until_shown_for_an_audited_purpose(client, mail, citizen, team):
    as_user(client, team["triage"])
    phone = citizen.citizen_profile.mobile
    body = text(client.get(url("detail", mail)))
    assert phone not in body and citizen.name not in body and "writer@example.com" not in body
    assert "w*****@example.com" in body

    response = client.post(url("reveal", mail), {"purpose": ""})
    assert response.status_code == 400 and "事由" in text(response)
    assert not AuditEntry.objects.filter(action="personal_data.read").exists()

    response = client.post(url("reveal", mail), {"purpose": "电话联系来信人核实情况"})
    body = text(response)
    assert response.status_code == 200
    assert phone in body and citizen.name in body and "writer@example.com" in body
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    entry = AuditEntry.objects.get(action="personal_data.read")
    assert entry.actor == team["triage"] and entry.purpose == "电话联系来信人核实情况"
    assert entry.object_id == str(mail.pk)
    assert entry.details["fields"] == ["contact_email", "contact_name", "contact_phone"]
    assert phone not in text(client.get(url("detail", mail)))  # once, not for the session


def test_attachment_download_is_audited(client, mail, team):
    item = LetterAttachment.objects.create(
        letter=mail,
        file=ContentFile(b"%PDF-1.4 test", name="photo.pdf"),
        original_name="现场照片.pdf",
        content_type="application/pdf",
        size=13,
        sha256="a" * 64,
    )
    as_user(client, team["triage"])
    assert url("attachment", mail, item.pk) in text(client.get(url("detail", mail)))
    response = client.get(url("attachment", mail, item.pk))
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"%PDF-1.4 test"
    entry = AuditEntry.objects.get(action="personal_data.read")
    assert entry.details["fields"] == [f"attachment.{item.pk}"] and entry.purpose


# --- actions through the page ------------------------------------------------------------------


def test_only_the_allowed_actions_are_offered(client, mail, team):
    as_user(client, team["triage"])
    body = text(client.get(url("detail", mail)))
    assert url("act", mail, "assign") in body and url("act", mail, "merge") in body
    for refused in ("claim", "draft", "approve", "publish", "transfer"):
        assert url("act", mail, refused) not in body
    mail = assigned(mail, team)
    as_user(client, team["reviewer"])
    body = text(client.get(url("detail", mail)))
    for allowed in ("claim", "draft", "transfer"):
        assert url("act", mail, allowed) in body
    for refused in ("assign", "approve", "set_handler", "send"):
        assert url("act", mail, refused) not in body


def test_triage_claim_draft_and_send(client, mail, team):
    as_user(client, team["triage"])
    response = act(client, mail, "assign", department=department("huzheng").pk, note="请答复")
    assert response.status_code == 302 and response["Location"] == url("queue")  # not theirs now
    assert fresh(mail).status == "assigned" and fresh(mail).department.code == "huzheng"

    as_user(client, team["clerk"])
    assert act(client, mail, "claim").status_code == 302
    assert fresh(mail).handler == team["clerk"]
    response = act(client, mail, "draft", body="您好，可凭报到证迁回。")
    assert response.status_code == 302
    body = text(client.get(url("detail", mail)))
    assert "答复草稿已保存" in body and "您好，可凭报到证迁回。" in body
    assert url("act", mail, "send") in body and url("act", mail, "submit_for_approval") not in body
    assert act(client, mail, "send").status_code == 302
    mail = fresh(mail)
    assert mail.status == "replied" and mail.replied_at is not None
    assert "答复已发送给来信人" in text(client.get(url("detail", mail)))

    response = act(client, mail, "send")  # the second click
    assert response.status_code == 409 and "不能答复" in text(response)


def test_a_complaint_goes_through_the_leader(client, citizen, team):
    mail = drafted(letter(citizen, kind="complaint"), team)
    as_user(client, team["clerk"])
    body = text(client.get(url("detail", mail)))
    assert "答复须经领导审核" in body and url("act", mail, "send") not in body
    response = act(client, mail, "send")
    assert response.status_code == 400 and "须经领导审核" in text(response)
    assert act(client, mail, "submit_for_approval").status_code == 302
    response = act(client, mail, "approve")
    assert response.status_code == 403 and "无权" in text(response)  # a clerk is no leader

    as_user(client, team["leader"])
    response = act(client, mail, "return", reason="")
    assert response.status_code == 400 and "请说明理由" in text(response)
    assert act(client, mail, "return", reason="请写明处理结果").status_code == 302
    assert fresh(mail).status == "handling"

    as_user(client, team["clerk"])
    assert "请写明处理结果" in text(client.get(url("detail", mail)))  # the reason, in history
    act(client, mail, "draft", body="已核实并批评教育。")
    act(client, mail, "submit_for_approval")
    as_user(client, team["leader"])
    assert act(client, mail, "approve", note="同意").status_code == 302
    mail = fresh(mail)
    assert mail.status == "replied"
    assert mail.replies.get(status="sent").decided_by == team["leader"]
    response = act(client, mail, "approve")
    assert response.status_code == 409 and "没有待审核的答复" in text(response)


def test_a_leader_cannot_approve_their_own_draft(client, citizen, team):
    mail = assigned(letter(citizen, kind="report"), team)
    as_user(client, team["leader"])
    act(client, mail, "draft", body="已查处。")
    act(client, mail, "submit_for_approval")
    assert "不能审核自己起草的答复" in text(client.get(url("detail", mail)))
    response = act(client, mail, "approve")
    assert response.status_code == 403 and "起草人不能审核" in text(response)
    assert fresh(mail).status == "pending_approval"


def test_only_the_handler_drafts(client, mail, team):
    mail = drafted(mail, team)
    as_user(client, team["reviewer"])
    assert url("act", mail, "draft") not in text(client.get(url("detail", mail)))
    response = act(client, mail, "draft", body="越俎代庖")
    assert response.status_code == 403 and "只有承办人" in text(response)
    as_user(client, team["supervisor"])
    response = act(client, mail, "set_handler", handler=team["reviewer"].pk)
    assert response.status_code == 302 and fresh(mail).handler == team["reviewer"]
    response = act(client, mail, "set_handler", handler=team["other"].pk)
    assert response.status_code == 400  # not a choice: another department's officer


def test_transfer_keeps_the_due_date(client, mail, team):
    mail = assigned(mail, team)
    as_user(client, team["clerk"])
    body = text(client.get(url("detail", mail)))
    assert "转办后答复期限不变，仍为 2026-12-01" in body
    response = act(client, mail, "transfer", department=department("zhian").pk, note="")
    assert response.status_code == 400 and "转办须说明理由" in text(response)
    response = act(client, mail, "transfer", department=department("huzheng").pk, note="错分")
    assert response.status_code == 409 and "已在此部门办理" in text(response)
    response = act(client, mail, "transfer", department=department("zhian").pk, note="属治安")
    assert response.status_code == 302 and response["Location"] == url("queue")
    mail = fresh(mail)
    assert mail.department.code == "zhian" and mail.due_date == dt.date(2026, 12, 1)
    as_user(client, team["other"])
    assert "2026-12-01" in text(client.get(url("detail", mail)))


def test_merge_a_duplicate_by_number(client, citizen, team):
    first, again = letter(citizen), letter(citizen)
    as_user(client, team["triage"])
    body = text(client.get(url("detail", again)))
    assert "同一电话的在办来信" in body and first.number in body
    response = act(client, again, "merge", into="XF2099010100001")
    assert response.status_code == 400 and "未找到编号为XF2099010100001的来信" in text(response)
    response = act(client, again, "merge", into=again.number)
    assert response.status_code == 400 and "不能将来信合并到其自身" in text(response)
    response = act(client, again, "merge", into=first.number.lower(), note="同一事项")
    assert response.status_code == 302
    again = fresh(again)
    assert again.status == "merged" and again.merged_into == first
    assert again.number in text(client.get(url("detail", first)))
    response = act(client, again, "merge", into=first.number)
    assert response.status_code == 409


def test_publish_with_consent_refuses_personal_data_and_unpublishes(client, citizen, team):
    mail = drafted(letter(citizen, publish_consent=True), team)
    workflow.send_reply(actor=team["clerk"], letter=mail)
    as_user(client, team["clerk"])
    assert url("act", mail, "publish") not in text(client.get(url("detail", mail)))
    assert act(client, mail, "publish", public_subject="户口", public_reply="答").status_code == 403

    as_user(client, team["leader"])
    body = text(client.get(url("detail", mail)))
    assert url("act", mail, "publish") in body and "毕业生户口可凭报到证迁回原籍" in body
    response = act(
        client, mail, "publish", public_subject="户口迁回", public_reply="请致电13812345678"
    )
    assert response.status_code == 400 and "公开内容中仍有个人信息（手机号码）" in text(response)
    assert not fresh(mail).public
    response = act(
        client, mail, "publish", public_subject="户口迁回", public_reply="可凭报到证迁回原籍。"
    )
    assert response.status_code == 302 and fresh(mail).public
    response = act(client, mail, "unpublish", reason="")
    assert response.status_code == 400
    assert act(client, mail, "unpublish", reason="来信人要求").status_code == 302
    assert not fresh(mail).public


def test_publish_is_not_offered_without_consent(client, mail, team):
    mail = drafted(mail, team)
    workflow.send_reply(actor=team["clerk"], letter=mail)
    as_user(client, team["leader"])
    assert url("act", mail, "publish") not in text(client.get(url("detail", mail)))
    response = act(client, mail, "publish", public_subject="标题", public_reply="内容")
    assert response.status_code == 400 and "未同意公开" in text(response)


def test_a_wrong_state_is_409_and_an_unknown_action_404(client, mail, team):
    mail = assigned(mail, team)
    as_user(client, team["triage"])
    assert act(client, mail, "frobnicate").status_code == 404
    as_user(client, team["clerk"])
    assert act(client, mail, "claim").status_code == 302
    response = act(client, mail, "claim")
    assert response.status_code == 409 and "您已认领该来信" in text(response)
    assert client.get(reverse("letters_staff:detail", args=["XF0000"])).status_code == 404


# --- the hotline desk --------------------------------------------------------------------------


def call(client, **fields):
    data = {
        "submission_key": str(uuid.uuid4()),
        "channel": "hotline",
        "contact_name": "钱来电",
        "contact_phone": "139 0000 2222",
        "kind": "help",
        "subject": "钥匙锁在家里",
        "body": "老人独自在家，钥匙锁在屋里，请求帮助。",
        "address": "和平区南京街1号",
    } | fields
    return client.post(url("hotline"), data), data


def test_an_operator_enters_a_call_and_reads_the_number_back(client, team):
    as_user(client, team["operator"])
    assert 'name="submission_key"' in text(client.get(url("hotline")))
    response, data = call(client)
    body = text(response)
    mail = Letter.objects.get()
    assert response.status_code == 200 and mail.number in body and "已登记" in body
    assert (mail.channel, mail.entered_by, mail.contact_phone) == (
        "hotline",
        team["operator"],
        "13900002222",
    )
    assert mail.department.code == "xinfang" and mail.writer is None
    assert 'id="follow-up-code"' in body
    assert data["submission_key"] not in body  # a new form, ready for the next call
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]

    again, _data = call(client, submission_key=data["submission_key"])  # a double click
    assert Letter.objects.count() == 1
    assert mail.number in text(again) and "重复提交" in text(again)

    as_user(client, team["triage"])
    assert mail.number in text(client.get(url("queue")))


def test_a_call_without_name_or_phone_is_refused_unless_an_anonymous_report(client, team):
    as_user(client, team["operator"])
    response, _data = call(client, contact_name="", contact_phone="")
    assert response.status_code == 400 and "请填写来电人姓名" in text(response)
    response, _data = call(client, contact_name="", contact_phone="", declined="on")
    assert response.status_code == 400 and "只有举报可以匿名" in text(response)
    response, _data = call(client, declined="on")
    assert response.status_code == 400 and "不能填写姓名" in text(response)
    response, _data = call(client, contact_phone="12345")
    assert response.status_code == 400 and "请填写正确的手机号码" in text(response)
    response, _data = call(client, submission_key="")  # a form without its token
    assert response.status_code == 400 and "页面已过期" in text(response)
    assert 'value="钥匙锁在家里"' in text(response)  # what was typed stays, with a new token
    assert not Letter.objects.exists()
    response, _data = call(
        client,
        channel="misconduct",
        kind="report",
        contact_name="",
        contact_phone="",
        declined="on",
    )
    assert response.status_code == 200
    report = Letter.objects.get()
    assert report.anonymous and report.department.code == "ducha"
    assert report.entered_by == team["operator"] and report.contact_phone == ""
    assert AuditEntry.objects.get(action="letter.receive").ip is None


def test_the_operator_reopens_their_calls_read_only_and_audited(client, team):
    as_user(client, team["operator"])
    _response, _data = call(client)
    mail = Letter.objects.get()
    listing = text(client.get(url("entered")))
    assert mail.number in listing and "13900002222" not in listing
    response = client.get(url("entered_detail", mail))
    assert response.status_code == 200 and "13900002222" in text(response)
    assert "只读" in text(response) and url("act", mail, "claim") not in text(response)
    entry = AuditEntry.objects.get(action="personal_data.read")
    assert entry.actor == team["operator"] and entry.purpose
    other_operator = staff("zhihui", "dispatcher")
    as_user(client, other_operator)
    assert client.get(url("entered_detail", mail)).status_code == 404


# --- CSV import --------------------------------------------------------------------------------


def test_csv_upload_reports_each_row(client, team):
    minxin = OutsidePlatform.objects.create(code="minxin", name="民心网")
    content = (
        "outside_id,kind,subject,body,contact_name,contact_phone\n"
        "MX-1,投诉,噪音扰民,工地夜间施工。,钱演示,13900002222\n"
        "MX-2,咨询,,没有标题,孙演示,13900003333\n"
        "MX-3,闲聊,标题,内容,李演示,12345\n"
    ).encode()
    as_user(client, team["triage"])
    page = text(client.get(url("import")))
    assert "民心网" in page

    def upload(data, name="minxin.csv"):
        return client.post(
            url("import"),
            {"platform": minxin.pk, "file": SimpleUploadedFile(name, data, "text/csv")},
        )

    response = upload(content)
    body = text(response)
    assert response.status_code == 200
    created = Letter.objects.get(outside_id="MX-1")
    assert created.number in body and Letter.objects.count() == 1
    assert "subject（标题）" in body and "请填写标题" in body  # line 3
    assert "kind（来信类别）" in body and "contact_phone（联系电话）" in body  # line 4
    assert '<td data-label="行号">3</td>' in body and '<td data-label="行号">4</td>' in body

    body = text(upload(content))  # the same file again: nothing new
    assert Letter.objects.count() == 1 and created.number in body
    assert '<dd id="existing-count">1</dd>' in body

    response = upload(b"id,title\n1,x\n")
    assert response.status_code == 400 and "缺少必需的列" in text(response)
    response = client.post(url("import"), {"platform": minxin.pk})
    assert response.status_code == 400 and "请选择要导入的CSV文件" in text(response)
