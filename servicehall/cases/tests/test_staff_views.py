"""The staff workbench: who may see and do what, the queue, actions, reveals, supervision."""

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from servicehall.accounts.models import Department
from servicehall.accounts.tests.factories import (
    CitizenFactory,
    StationFactory,
    login_verified_staff,
)
from servicehall.cases import deadlines, workflow
from servicehall.cases.flows import Status
from servicehall.cases.models import (
    AccountabilityRecord,
    Attachment,
    Case,
    CaseEvent,
    FollowUpTask,
    RatingLevel,
)
from servicehall.core.models import AuditEntry

from .conftest import staff, submitted

pytestmark = pytest.mark.django_db

MONDAY = "2026-11-02 10:00:00+08:00"  # HZ-QR-001 promises 1 working day: due Tuesday


@pytest.fixture(autouse=True)
def fixed_day(time_machine):
    time_machine.move_to(MONDAY, tick=False)
    return time_machine


@pytest.fixture
def case(citizen, huzheng_team):
    return submitted(citizen)


@pytest.fixture
def clerk(client, huzheng_team):
    login_verified_staff(client, huzheng_team["window_clerk"])
    return huzheng_team["window_clerk"]


def act(client, case, action, **data):
    return client.post(reverse("cases_staff:act", args=[case.pk, action]), data)


def detail_url(case):
    return reverse("cases_staff:detail", args=[case.pk])


def fresh(case):
    return Case.objects.get(pk=case.pk)


# --- access, from one table ------------------------------------------------------------------

OUTSIDER = "outsider"  # window clerk of the traffic police
WRONG_ROLE = "wrong_role"  # household-registration approver trying to accept


def _sign_in(client, who, team):
    if who == "anonymous":
        return
    if who == "citizen":
        client.force_login(CitizenFactory())
    elif who == OUTSIDER:
        login_verified_staff(client, staff("jiaojing", "window_clerk"))
    elif who == WRONG_ROLE:
        login_verified_staff(client, team["approver"])
    else:
        login_verified_staff(client, team[who])


@pytest.mark.parametrize(
    ("who", "page", "expected"),
    [
        ("anonymous", "queue", 302),
        ("anonymous", "detail", 302),
        ("anonymous", "accept", 302),
        ("anonymous", "supervision", 302),
        ("citizen", "queue", 403),
        ("citizen", "detail", 403),
        ("citizen", "accept", 403),
        ("citizen", "supervision", 403),
        (OUTSIDER, "queue", 200),
        (OUTSIDER, "detail", 404),
        (OUTSIDER, "accept", 404),
        (OUTSIDER, "reveal", 404),
        (WRONG_ROLE, "detail", 200),
        (WRONG_ROLE, "accept", 403),
        (WRONG_ROLE, "supervision", 403),
        ("window_clerk", "detail", 200),
        ("supervisor", "supervision", 200),
    ],
)
def test_access(client, case, huzheng_team, who, page, expected):
    _sign_in(client, who, huzheng_team)
    if page in ("accept", "reveal"):
        url = (
            reverse("cases_staff:act", args=[case.pk, "accept"])
            if page == "accept"
            else reverse("cases_staff:reveal", args=[case.pk])
        )
        response = client.post(url, {"purpose": "核对身份"})
    else:
        args = [case.pk] if page == "detail" else []
        response = client.get(reverse(f"cases_staff:{page}", args=args))
    assert response.status_code == expected
    if expected == 302:
        assert reverse("accounts:login") in response["Location"]
    if page == "queue" and expected == 200:
        assert case.number not in response.content.decode()  # not their department's
    if page == "accept":
        assert fresh(case).status == Status.SUBMITTED
        assert not CaseEvent.objects.filter(case=case, action="accept").exists()


# --- the queue -------------------------------------------------------------------------------


def test_queue_shows_green_channel_first_and_only_the_department(client, citizen, clerk):
    plain = submitted(citizen)
    green = submitted(citizen)
    Case.objects.filter(pk=green.pk).update(green_channel="disabled")
    other_department = submitted(citizen, code="ZA-GG-001", data={})
    draft_only = workflow.start_application(
        actor=citizen, item=plain.item, submission_key="00000000-0000-0000-0000-000000000001"
    )
    body = client.get(reverse("cases_staff:queue")).content.decode()
    assert green.number in body and plain.number in body
    assert body.index(green.number) < body.index(plain.number)
    assert other_department.number not in body
    assert reverse("cases_staff:detail", args=[draft_only.pk]) not in body
    assert "绿色通道" in body
    assert citizen.name not in body  # names are masked in the list


def test_station_staff_see_their_jurisdiction_only(client, citizen, huzheng_team):
    mine, theirs = StationFactory(), StationFactory()
    officer = staff("huzheng", "window_clerk", station=mine)
    unbound, here, there = submitted(citizen), submitted(citizen), submitted(citizen)
    Case.objects.filter(pk=here.pk).update(station=mine)
    Case.objects.filter(pk=there.pk).update(station=theirs)
    login_verified_staff(client, officer)
    body = client.get(reverse("cases_staff:queue")).content.decode()
    assert unbound.number in body and here.number in body and there.number not in body
    assert client.get(detail_url(there)).status_code == 404
    assert act(client, there, "accept").status_code == 404
    assert act(client, here, "accept").status_code == 302


def test_queue_filters(client, citizen, huzheng_team, clerk, fixed_day):
    waiting = submitted(citizen)
    running = workflow.accept(actor=clerk, case=submitted(citizen))  # due Tuesday
    refused = workflow.refuse(actor=clerk, case=submitted(citizen), reason="非本机关职权")
    url = reverse("cases_staff:queue")

    body = client.get(url).content.decode()
    assert waiting.number in body and refused.number not in body  # open cases by default
    assert refused.number in client.get(url, {"status": "all"}).content.decode()
    body = client.get(url, {"status": "accepted"}).content.decode()
    assert running.number in body and waiting.number not in body
    body = client.get(url, {"due": "soon"}).content.decode()
    assert running.number in body and "即将到期" in body
    body = client.get(url, {"mine": "on"}).content.decode()
    assert running.number in body and waiting.number not in body
    body = client.get(url, {"q": waiting.number[-4:]}).content.decode()
    assert waiting.number in body and running.number not in body
    assert client.get(url, {"status": "nonsense", "page": "x"}).status_code == 200

    fixed_day.move_to("2026-11-05 10:00:00+08:00", tick=False)
    login_verified_staff(client, clerk)
    body = client.get(url, {"due": "overdue"}).content.decode()
    assert running.number in body and waiting.number not in body and "已超期" in body


# --- actions ---------------------------------------------------------------------------------


def test_clerk_sees_only_the_actions_allowed(client, case, huzheng_team, clerk):
    body = client.get(detail_url(case)).content.decode()
    for allowed in ("accept", "refuse", "request_correction", "claim", "hand_over"):
        assert reverse("cases_staff:act", args=[case.pk, allowed]) in body
    for refused in ("approve", "start_review", "deliver"):
        assert reverse("cases_staff:act", args=[case.pk, refused]) not in body
    login_verified_staff(client, huzheng_team["approver"])
    body = client.get(detail_url(case)).content.decode()
    assert reverse("cases_staff:act", args=[case.pk, "accept"]) not in body


def test_correction_without_items_is_refused_in_chinese(client, case, clerk):
    response = act(client, case, "request_correction", items="  \n \n", note="")
    assert response.status_code == 400
    assert "请列出需要补正的全部材料或内容" in response.content.decode()
    assert fresh(case).status == Status.SUBMITTED


def test_correction_lists_every_line_once(client, case, clerk):
    response = act(client, case, "request_correction", items="缺出生医学证明\n\n户口簿复印件不清晰")
    assert response.status_code == 302
    assert fresh(case).correction.items == ["缺出生医学证明", "户口簿复印件不清晰"]
    body = client.get(detail_url(case)).content.decode()
    assert "户口簿复印件不清晰" in body
    assert reverse("cases_staff:act", args=[case.pk, "request_correction"]) not in body


def test_illegal_action_is_409_and_changes_nothing(client, case, huzheng_team):
    login_verified_staff(client, huzheng_team["approver"])
    events = CaseEvent.objects.filter(case=case).count()
    response = act(client, case, "approve", note="")
    assert response.status_code == 409
    assert "不能执行" in response.content.decode()
    assert fresh(case).status == Status.SUBMITTED
    assert CaseEvent.objects.filter(case=case).count() == events


def test_double_post_of_accept_is_one_event(client, case, clerk):
    first = act(client, case, "accept", note="")
    assert first.status_code == 302 and first["Location"] == detail_url(case)
    assert "已受理" in client.get(first["Location"]).content.decode()
    second = act(client, case, "accept", note="")
    assert second.status_code == 409
    assert "重复提交" in second.content.decode()
    assert CaseEvent.objects.filter(case=case, action="accept").count() == 1
    assert fresh(case).handler == clerk


def test_claim_twice_is_refused(client, case, clerk):
    assert act(client, case, "claim").status_code == 302
    assert act(client, case, "claim").status_code == 409
    assert CaseEvent.objects.filter(case=case, action="claim").count() == 1


def test_standard_path_through_the_workbench(client, case, huzheng_team, clerk):
    assert act(client, case, "accept", note="材料齐全").status_code == 302
    login_verified_staff(client, huzheng_team["reviewer"])
    assert act(client, case, "start_review").status_code == 302
    login_verified_staff(client, huzheng_team["approver"])
    assert act(client, case, "deny", reason=" ").status_code == 400
    assert act(client, case, "approve").status_code == 302
    assert act(client, case, "complete").status_code == 302
    login_verified_staff(client, clerk)
    response = act(client, case, "deliver", method="mail", tracking_number="")
    assert response.status_code == 400 and "邮寄单号" in response.content.decode()
    assert act(client, case, "deliver", method="mail", tracking_number="SF123").status_code == 302
    case = fresh(case)
    assert case.status == Status.DELIVERED and case.tracking_number == "SF123"
    body = client.get(detail_url(case)).content.decode()
    assert "材料齐全" in body and "准予许可" in body and "送达" in body


def test_hand_over_and_back(client, case, huzheng_team, clerk):
    traffic = Department.objects.get(code="jiaojing")
    response = act(client, case, "hand_over", department=traffic.pk, note="请协助核查")
    assert response.status_code == 302 and response["Location"] == reverse("cases_staff:queue")
    assert client.get(detail_url(case)).status_code == 404  # now the other department's
    helper = staff("jiaojing", "window_clerk")
    login_verified_staff(client, helper)
    home = Department.objects.get(code="huzheng")
    assert act(client, case, "hand_over", department=home.pk).status_code == 302
    assert fresh(case).department == home


def test_transfer_accountability_to_a_colleague(client, case, huzheng_team, clerk):
    act(client, case, "accept")
    reviewer = huzheng_team["reviewer"]
    assert act(client, case, "transfer_accountability", to_user=reviewer.pk).status_code == 400
    response = act(client, case, "transfer_accountability", to_user=reviewer.pk, reason="调岗")
    assert response.status_code == 302
    assert fresh(case).accountable_staff == reviewer
    outsider = staff("jiaojing", "window_clerk")
    response = act(client, case, "transfer_accountability", to_user=outsider.pk, reason="x")
    assert response.status_code == 400
    assert fresh(case).accountable_staff == reviewer


# --- personal data ---------------------------------------------------------------------------


def test_reveal_needs_a_purpose_and_is_audited(client, case, clerk):
    full_id = case.applicant_id_number
    url = reverse("cases_staff:reveal", args=[case.pk])
    page = client.get(detail_url(case)).content.decode()
    assert full_id not in page and case.applicant_phone not in page
    assert full_id[:6] in page  # masked form shown

    response = client.post(url, {"purpose": "  "})
    assert response.status_code == 400
    assert full_id not in response.content.decode()
    assert not AuditEntry.objects.filter(action="personal_data.read").exists()

    response = client.post(url, {"purpose": "核对申请人身份"})
    body = response.content.decode()
    assert response.status_code == 200
    assert full_id in body and case.applicant_phone in body
    assert "no-store" in response["Cache-Control"]
    entry = AuditEntry.objects.get(action="personal_data.read")
    assert entry.actor_id == clerk.pk and entry.purpose == "核对申请人身份"
    assert entry.object_id == str(case.pk)
    assert "applicant_id_number" in entry.details["fields"]

    assert full_id not in client.get(detail_url(case)).content.decode()  # once only


def test_form_data_is_labelled_and_id_numbers_masked(client, citizen, huzheng_team, clerk):
    guardian = citizen.citizen_profile.id_number
    case = submitted(citizen, data={"child_name": "王小明", "guardian_id_number": guardian})
    body = client.get(detail_url(case)).content.decode()
    assert "婴儿姓名" in body and "王小明" in body
    assert "申报人居民身份证号码" in body and guardian not in body


@pytest.fixture
def attachment(case, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    item = Attachment(
        case=case,
        material="《出生医学证明》",
        original_name="出生证明.pdf",
        content_type="application/pdf",
        size=12,
        sha256="0" * 64,
        uploaded_by=case.submitted_by,
    )
    item.file.save("birth.pdf", ContentFile(b"%PDF-1.4 test"), save=True)
    return item


def test_attachment_is_streamed_to_staff_and_audited(client, case, attachment, clerk):
    url = reverse("cases_staff:attachment", args=[case.pk, attachment.pk])
    assert url in client.get(detail_url(case)).content.decode()
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4 test"
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    entry = AuditEntry.objects.get(action="personal_data.read")
    assert entry.actor_id == clerk.pk and entry.details["material"] == "《出生医学证明》"


def test_attachment_refused_outside_the_department(client, case, attachment):
    url = reverse("cases_staff:attachment", args=[case.pk, attachment.pk])
    client.force_login(case.submitted_by)
    assert client.get(url).status_code == 403
    login_verified_staff(client, staff("jiaojing", "window_clerk"))
    assert client.get(url).status_code == 404
    assert not AuditEntry.objects.filter(action="personal_data.read").exists()


# --- supervision -----------------------------------------------------------------------------


def test_supervisor_sees_overdue_and_closes_a_follow_up(client, citizen, huzheng_team, fixed_day):
    clerk, approver = huzheng_team["window_clerk"], huzheng_team["approver"]
    late = workflow.accept(actor=clerk, case=submitted(citizen))
    done = workflow.accept(actor=clerk, case=submitted(citizen))
    done = workflow.start_review(actor=huzheng_team["reviewer"], case=done)
    done = workflow.approve(actor=approver, case=done)
    done = workflow.complete(actor=approver, case=done)  # on time, the same day
    workflow.rate(actor=citizen, case=done, level=RatingLevel.DISSATISFIED, comment="等太久")
    task = FollowUpTask.objects.get(rating__case=done)

    fixed_day.move_to("2026-11-05 10:00:00+08:00", tick=False)
    deadlines.sweep(workflow.today())
    assert AccountabilityRecord.objects.filter(case=late).exists()
    login_verified_staff(client, huzheng_team["supervisor"])
    url = reverse("cases_staff:supervision")
    body = client.get(url).content.decode()
    overdue = body[body.index('id="overdue"') : body.index('id="near-due"')]
    assert late.number in overdue
    accountability = body[body.index('id="accountability"') : body.index('id="follow-ups"')]
    assert late.number in accountability
    assert done.number in body and "等太久" in body
    assert "100.0%" in body  # the one completed case was on time

    close = reverse("cases_staff:close_follow_up", args=[task.pk])
    response = client.post(close, {"resolution": ""})
    assert response.status_code == 400 and "请填写整改和回访情况" in response.content.decode()
    response = client.post(close, {"resolution": "已电话回访，申请人表示理解"})
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.state == FollowUpTask.State.DONE and task.closed_by == huzheng_team["supervisor"]
    assert client.post(close, {"resolution": "再次"}).status_code == 409

    login_verified_staff(client, staff("jiaojing", "supervisor"))
    assert client.post(close, {"resolution": "越权"}).status_code == 404


def test_instant_and_spot_check_flows(client, citizen, catalogue, monkeypatch):
    instant = submitted(citizen, code="ZA-GG-001", data={})
    login_verified_staff(client, staff("zhian", "window_clerk"))
    assert act(client, instant, "complete_instantly").status_code == 302
    assert fresh(instant).status == Status.COMPLETED

    monkeypatch.setattr(workflow, "spot_check_draw", lambda share: True)
    filed = submitted(
        citizen, code="XF-BA-001", flow="filing_spot_check", data={"floor_area_m2": "120"}
    )
    login_verified_staff(client, staff("xiaofang", "reviewer"))
    response = act(client, filed, "record_spot_check", passed="0", note="")
    assert response.status_code == 400 and "抽查不合格必须说明" in response.content.decode()
    assert act(client, filed, "record_spot_check", passed="1").status_code == 302
    filed = fresh(filed)
    assert filed.status == Status.COMPLETED and filed.spot_check_passed is True
