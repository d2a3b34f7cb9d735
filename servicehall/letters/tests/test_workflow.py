"""Handling a letter: triage, replies with and without a leader's approval, transfer, the
writer's rating, reopening, withdrawal, merging and publication."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied

from servicehall.accounts.tests.factories import CitizenFactory, department
from servicehall.core.models import AuditEntry
from servicehall.letters import queries, workflow
from servicehall.letters.models import Letter, LetterReply
from servicehall.letters.workflow import IllegalTransition, WorkflowError
from servicehall.notify.models import Message

from .conftest import letter, receive

pytestmark = pytest.mark.django_db
D = dt.date.fromisoformat


def assigned(mail, team, code="huzheng", station=None):
    return workflow.assign(
        actor=team["triage"], letter=mail, department=department(code), station=station
    )


def replied(mail, team, body="您好，毕业生户口可凭报到证迁回原籍，详见办事指南。"):
    """Assigned to household registration and answered by its clerk (with the leader's
    approval where the kind needs it)."""
    mail = assigned(mail, team)
    workflow.draft_reply(actor=team["clerk"], letter=mail, body=body)
    if workflow.needs_approval(mail):
        workflow.submit_for_approval(actor=team["clerk"], letter=mail)
        workflow.approve_reply(actor=team["leader"], letter=mail)
    else:
        workflow.send_reply(actor=team["clerk"], letter=mail)
    return Letter.objects.get(pk=mail.pk)


def test_a_consultation_is_triaged_answered_and_rated(citizen, team):
    mail = assigned(letter(citizen), team)
    assert mail.status == "assigned" and mail.department.code == "huzheng"
    mail = workflow.claim(actor=team["clerk"], letter=mail)
    assert mail.status == "handling" and mail.handler == team["clerk"]
    reply = workflow.draft_reply(actor=team["clerk"], letter=mail, body="初稿")
    again = workflow.draft_reply(actor=team["clerk"], letter=mail, body="定稿")
    assert again.pk == reply.pk and again.body == "定稿"
    with time_machine.travel("2026-11-27 15:00 +0800"):
        sent = workflow.send_reply(actor=team["clerk"], letter=mail)
    mail.refresh_from_db()
    assert mail.status == "replied" and sent.status == "sent" and sent.due_date == mail.due_date
    assert mail.events.get(action="send").details["on_time"] is True
    to_writer = Message.objects.filter(about_id=str(mail.pk), body__contains="已答复")
    assert set(to_writer.values_list("channel", "recipient")) == {
        ("sms", citizen.citizen_profile.mobile),
        ("email", "writer@example.com"),
    }
    assert "定稿" not in to_writer.first().body  # the reply itself is read after signing in
    workflow.rate(actor=citizen, letter=mail, level=5, comment="答复很清楚")
    mail.refresh_from_db()
    assert mail.rating_level == 5 and LetterReply.objects.get(pk=sent.pk).rating_level == 5
    with pytest.raises(WorkflowError, match="已评价"):
        workflow.rate(actor=citizen, letter=mail, level=1)
    with pytest.raises(WorkflowError, match="不满意"):
        workflow.reopen(actor=citizen, letter=mail)
    actions = list(mail.events.order_by("id").values_list("action", flat=True))
    assert actions == ["receive", "assign", "claim", "draft", "send", "rate"]
    assert (
        AuditEntry.objects.filter(object_type="letters.letter", object_id=str(mail.pk)).count() == 7
    )


def test_a_complaint_needs_the_leaders_approval_and_a_returned_draft_stays(citizen, team):
    mail = assigned(letter(citizen, kind="complaint"), team)
    workflow.draft_reply(actor=team["clerk"], letter=mail, body="已核实。")
    with pytest.raises(WorkflowError, match="须经领导审核"):
        workflow.send_reply(actor=team["clerk"], letter=mail)
    with pytest.raises(PermissionDenied):
        workflow.submit_for_approval(actor=team["reviewer"], letter=mail)  # not the handler
    workflow.submit_for_approval(actor=team["clerk"], letter=mail)
    with pytest.raises(IllegalTransition):
        workflow.draft_reply(actor=team["clerk"], letter=mail, body="改")  # pending: frozen
    with pytest.raises(PermissionDenied):
        workflow.approve_reply(actor=team["clerk"], letter=mail)  # a clerk is no leader
    with pytest.raises(PermissionDenied):
        workflow.approve_reply(actor=team["other"], letter=mail)  # another department's leader
    with pytest.raises(WorkflowError, match="说明理由"):
        workflow.return_reply(actor=team["leader"], letter=mail, reason=" ")
    returned = workflow.return_reply(actor=team["leader"], letter=mail, reason="请写明处理结果")
    mail.refresh_from_db()
    assert mail.status == "handling" and returned.status == "returned"
    second = workflow.draft_reply(actor=team["clerk"], letter=mail, body="已核实并批评教育。")
    assert second.pk != returned.pk
    workflow.submit_for_approval(actor=team["clerk"], letter=mail)
    workflow.approve_reply(actor=team["leader"], letter=mail, note="同意")
    mail.refresh_from_db()
    assert mail.status == "replied" and mail.replied_at is not None
    history = list(mail.replies.values_list("status", "return_reason"))
    assert history == [("returned", "请写明处理结果"), ("sent", "")]
    assert mail.replies.get(status="sent").decided_by == team["leader"]


def test_a_leader_cannot_approve_their_own_draft(citizen, team):
    mail = assigned(letter(citizen, kind="report"), team)
    workflow.draft_reply(actor=team["leader"], letter=mail, body="已查处。")
    workflow.submit_for_approval(actor=team["leader"], letter=mail)
    with pytest.raises(PermissionDenied, match="起草人"):
        workflow.approve_reply(actor=team["leader"], letter=mail)


def test_misconduct_reports_always_need_approval_and_stay_with_inspection(team):
    report = letter(None, channel="misconduct", kind="suggestion", anonymous=True)
    assert workflow.needs_approval(report)
    with pytest.raises(PermissionDenied):
        workflow.assign(actor=team["triage"], letter=report, department=department("ducha"))
    with pytest.raises(WorkflowError, match="督察"):
        workflow.assign(actor=team["inspector"], letter=report, department=department("huzheng"))
    report = workflow.assign(actor=team["inspector"], letter=report, department=department("ducha"))
    workflow.draft_reply(actor=team["inspector"], letter=report, body="已调查核实。")
    with pytest.raises(WorkflowError, match="不能转办"):
        workflow.transfer(
            actor=team["inspector"], letter=report, department=department("huzheng"), note="转"
        )
    workflow.submit_for_approval(actor=team["inspector"], letter=report)
    workflow.approve_reply(actor=team["inspection_leader"], letter=report)
    assert Letter.objects.get(pk=report.pk).status == "replied"


def test_wrong_role_and_wrong_state_are_refused(citizen, team):
    mail = letter(citizen)
    with pytest.raises(PermissionDenied):
        workflow.assign(
            actor=team["office_reviewer"], letter=mail, department=department("huzheng")
        )
    with pytest.raises(PermissionDenied):
        workflow.assign(actor=team["clerk"], letter=mail, department=department("huzheng"))
    with pytest.raises(IllegalTransition):
        workflow.draft_reply(actor=team["triage"], letter=mail, body="还没分办")
    with pytest.raises(IllegalTransition):
        workflow.claim(actor=team["triage"], letter=mail)
    mail = assigned(mail, team)
    with pytest.raises(PermissionDenied):
        assigned(mail, team)  # the letters office no longer holds it
    with pytest.raises(IllegalTransition):  # triage happens once; afterwards it is a transfer
        workflow.assign(actor=team["clerk"], letter=mail, department=department("zhian"))
    with pytest.raises(PermissionDenied):
        workflow.claim(actor=team["supervisor"], letter=mail)  # supervisors do not handle
    with pytest.raises(IllegalTransition, match="不能答复"):
        workflow.send_reply(actor=team["clerk"], letter=mail)
    with pytest.raises(IllegalTransition):
        workflow.approve_reply(actor=team["leader"], letter=mail)
    workflow.claim(actor=team["clerk"], letter=mail)
    with pytest.raises(WorkflowError, match="请先起草"):
        workflow.send_reply(actor=team["clerk"], letter=mail)
    with pytest.raises(IllegalTransition, match="已由其他民警"):
        workflow.claim(actor=team["reviewer"], letter=mail)
    with pytest.raises(PermissionDenied, match="承办人"):
        workflow.draft_reply(actor=team["reviewer"], letter=mail, body="抢答")
    with pytest.raises(WorkflowError, match="答复后才能评价"):
        workflow.rate(actor=citizen, letter=mail, level=5)
    with pytest.raises(PermissionDenied):
        workflow.rate(actor=CitizenFactory(), letter=mail, level=5)
    with pytest.raises(WorkflowError, match="答复内容"):
        workflow.draft_reply(actor=team["clerk"], letter=mail, body="")


def test_a_leader_designates_the_handler(citizen, team):
    mail = assigned(letter(citizen), team)
    workflow.claim(actor=team["clerk"], letter=mail)
    workflow.draft_reply(actor=team["clerk"], letter=mail, body="草稿")
    with pytest.raises(PermissionDenied):
        workflow.set_handler(actor=team["clerk"], letter=mail, handler=team["reviewer"])
    with pytest.raises(WorkflowError, match="本部门"):
        workflow.set_handler(actor=team["leader"], letter=mail, handler=team["other"])
    mail = workflow.set_handler(actor=team["supervisor"], letter=mail, handler=team["reviewer"])
    assert mail.handler == team["reviewer"]
    assert mail.replies.get().status == "discarded"  # the new handler writes their own
    workflow.draft_reply(actor=team["reviewer"], letter=mail, body="新草稿")


def test_a_transfer_keeps_the_due_date(citizen, team):
    mail = assigned(letter(citizen, kind="complaint"), team)
    due = mail.due_date
    workflow.draft_reply(actor=team["clerk"], letter=mail, body="不归我们管")
    with time_machine.travel("2026-11-30 09:00 +0800"):
        with pytest.raises(WorkflowError, match="说明理由"):
            workflow.transfer(
                actor=team["clerk"], letter=mail, department=department("zhian"), note=""
            )
        with pytest.raises(PermissionDenied):
            workflow.transfer(
                actor=team["other"], letter=mail, department=department("zhian"), note="抢"
            )
        mail = workflow.transfer(
            actor=team["clerk"], letter=mail, department=department("zhian"), note="属治安管辖"
        )
    assert mail.department.code == "zhian" and mail.status == "assigned"
    assert mail.due_date == due and mail.handler is None
    assert mail.replies.get().status == "discarded"
    assert mail.events.get(action="transfer").details["due_date"] == due.isoformat()
    with pytest.raises(PermissionDenied):
        workflow.claim(actor=team["clerk"], letter=mail)  # no longer household registration's
    workflow.claim(actor=team["other"], letter=mail)
    with pytest.raises(IllegalTransition):
        workflow.transfer(
            actor=team["other"], letter=mail, department=department("zhian"), note="x"
        )


def test_rating_once_per_round_and_reopening_once(citizen, team):
    mail = replied(letter(citizen, kind="help"), team)
    first_due = mail.due_date
    with pytest.raises(WorkflowError, match="评价等级"):
        workflow.rate(actor=citizen, letter=mail, level=9)
    workflow.rate(actor=citizen, letter=mail, level=2, comment="没有解决问题")
    bad = Message.objects.filter(recipient="supervisor@police.example", body__contains="差评")
    assert bad.count() == 1
    with time_machine.travel("2026-12-01 09:00 +0800"):
        mail = workflow.reopen(actor=citizen, letter=mail, reason="问题没有解决")
    assert mail.status == "handling" and mail.round == 2 and mail.reopened_count == 1
    assert mail.due_date == D("2026-12-04") and mail.due_date != first_due  # 3 working days
    assert mail.rating_level is None and mail.replied_at is None
    assert Message.objects.filter(recipient="clerk@police.example", body__contains="重新办理")
    workflow.draft_reply(actor=team["clerk"], letter=mail, body="补充答复")
    workflow.send_reply(actor=team["clerk"], letter=mail)
    mail.refresh_from_db()
    assert list(mail.replies.values_list("round", "status", "rating_level")) == [
        (1, "sent", 2),
        (2, "sent", None),
    ]
    workflow.rate(actor=citizen, letter=mail, level=1)
    with pytest.raises(WorkflowError, match="只能申请重新办理一次"):
        workflow.reopen(actor=citizen, letter=mail)


def test_the_code_holder_of_an_anonymous_report_rates_and_reopens_unrecorded(team):
    receipt = receive(None, channel="online110", kind="report", anonymous=True)
    code = receipt.follow_up_code
    mail = replied(receipt.letter, team)
    with pytest.raises(PermissionDenied):
        workflow.rate(actor=None, letter=mail, level=1, code="AAAA-BBBB-CCCC-DDDD")
    someone = CitizenFactory()  # signed in, holding the code: still not recorded
    workflow.rate(actor=someone, letter=mail, level=1, code=code)
    workflow.reopen(actor=None, letter=mail, code=code)
    for event in mail.events.filter(action__in=["rate", "reopen"]):
        assert event.actor_id is None
    entries = AuditEntry.objects.filter(action__in=["letter.rate", "letter.reopen"])
    assert {(e.actor_id, e.actor_label, e.ip) for e in entries} == {(None, "anonymous", None)}


def test_the_writer_withdraws_and_the_letter_stays_on_the_books(citizen, team):
    mail = assigned(letter(citizen), team)
    workflow.draft_reply(actor=team["clerk"], letter=mail, body="草稿")
    with pytest.raises(PermissionDenied):
        workflow.withdraw(actor=CitizenFactory(), letter=mail)
    mail = workflow.withdraw(actor=citizen, letter=mail, reason="问题已自行解决")
    assert mail.status == "withdrawn" and mail.replies.get().status == "discarded"
    assert queries.writer_letters(citizen).get() == mail
    assert queries.visible_letters(team["clerk"]).filter(pk=mail.pk).exists()
    with pytest.raises(IllegalTransition):
        workflow.withdraw(actor=citizen, letter=mail)
    answered = replied(letter(citizen), team)
    with pytest.raises(IllegalTransition, match="不能撤回"):
        workflow.withdraw(actor=citizen, letter=answered)


def test_a_duplicate_is_merged_and_its_writer_hears_the_reply(citizen, team):
    other_writer = CitizenFactory()
    original = letter(citizen, kind="suggestion", subject="建议增设夜间办证窗口")
    duplicate = letter(other_writer, kind="suggestion", subject="希望晚上也能办证")
    with pytest.raises(PermissionDenied):
        workflow.merge_duplicate(actor=team["office_reviewer"], letter=duplicate, into=original)
    with pytest.raises(WorkflowError, match="其自身"):
        workflow.merge_duplicate(actor=team["triage"], letter=duplicate, into=duplicate)
    duplicate = workflow.merge_duplicate(
        actor=team["triage"], letter=duplicate, into=original, note="同一建议"
    )
    assert duplicate.status == "merged" and duplicate.merged_into == original
    assert Message.objects.filter(
        recipient=other_writer.citizen_profile.mobile, body__contains="合并"
    )
    assert original.events.filter(action="merge").exists()
    with pytest.raises(WorkflowError, match="已撤回或已合并"):
        workflow.merge_duplicate(actor=team["triage"], letter=original, into=duplicate)
    replied(original, team)
    heard = Message.objects.filter(
        recipient=other_writer.citizen_profile.mobile, body__contains="已答复"
    )
    assert heard.count() == 1 and Letter.objects.filter(pk=duplicate.pk).exists()


def test_publication_needs_consent_and_redacted_text(citizen, team):
    without_consent = replied(letter(citizen), team)
    with pytest.raises(WorkflowError, match="未同意公开"):
        workflow.publish(
            actor=team["leader"], letter=without_consent, public_subject="咨询", public_reply="答复"
        )
    mail = replied(letter(citizen, publish_consent=True), team)
    with pytest.raises(PermissionDenied):
        workflow.publish(actor=team["clerk"], letter=mail, public_subject="咨询", public_reply="答")
    for text, kind in [
        ("来信人身份证210102199001019958", "身份证号码"),
        ("请拨打138 1234 5678联系", "手机号码"),
        ("回复至someone@example.com", "电子邮箱"),
    ]:
        with pytest.raises(WorkflowError, match=kind):
            workflow.publish(
                actor=team["leader"], letter=mail, public_subject="户口迁移咨询", public_reply=text
            )
    mail = workflow.publish(
        actor=team["leader"],
        letter=mail,
        public_subject="毕业生户口迁移咨询",
        public_reply="毕业生户口可凭报到证迁回原籍。联系电话024-23456789，来信人138****5678。",
    )
    assert mail.public and list(queries.public_letters()) == [mail]
    workflow.unpublish(actor=team["office_supervisor"], letter=mail, reason="内容需更新")
    assert not Letter.objects.get(pk=mail.pk).public
    workflow.publish(
        actor=team["supervisor"], letter=mail, public_subject="咨询", public_reply="答复"
    )
    workflow.withdraw_consent(actor=citizen, letter=mail)
    mail.refresh_from_db()
    assert not mail.public and not mail.publish_consent and not queries.public_letters().exists()


def test_misconduct_reports_are_never_published(team):
    report = letter(None, channel="misconduct", kind="praise", anonymous=True, publish_consent=True)
    report = workflow.assign(actor=team["inspector"], letter=report, department=department("ducha"))
    workflow.draft_reply(actor=team["inspector"], letter=report, body="感谢")
    workflow.submit_for_approval(actor=team["inspector"], letter=report)
    workflow.approve_reply(actor=team["inspection_leader"], letter=report)
    with pytest.raises(WorkflowError, match="不公开"):
        workflow.publish(
            actor=team["inspection_supervisor"],
            letter=report,
            public_subject="表扬",
            public_reply="谢",
        )


def test_figures_account_for_every_letter(citizen, team):
    # Letters without a receipt time arrive 'now': pin now before the figures' day.
    with time_machine.travel("2026-11-26 10:00 +0800", tick=False):
        on_time = replied(letter(citizen), team)
        late = assigned(letter(citizen, at="2026-11-02 09:00 +0800"), team)  # due 5 November
        workflow.draft_reply(actor=team["clerk"], letter=late, body="迟到的答复")
        workflow.send_reply(actor=team["clerk"], letter=late)
        overdue = letter(citizen, at="2026-11-02 09:00 +0800")
        pending = letter(citizen)
        withdrawn = workflow.withdraw(actor=citizen, letter=letter(citizen))
        merged = workflow.merge_duplicate(
            actor=team["triage"], letter=letter(citizen), into=pending
        )
        figures = queries.reply_figures(Letter.objects.all(), today=D("2026-11-27"))
        assert (figures.received, figures.withdrawn, figures.merged, figures.counted) == (
            6,
            1,
            1,
            4,
        )
        assert (figures.replied, figures.replied_on_time) == (2, 1)
        assert (figures.open, figures.open_overdue) == (2, 1)
        assert figures.reply_rate == 0.5 and figures.on_time_rate == 0.25
        assert {on_time.pk, overdue.pk, withdrawn.pk, merged.pk} <= set(
            Letter.objects.values_list("pk", flat=True)
        )
