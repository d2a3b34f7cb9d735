"""The case workflow: statutory steps, guarded transitions, access, audit, notifications."""

import uuid

import pytest
import time_machine
from django.core.exceptions import PermissionDenied

from servicehall.accounts.tests.factories import CitizenFactory
from servicehall.cases import workflow
from servicehall.cases.flows import Status
from servicehall.cases.models import Case, CaseEvent, FollowUpTask, RatingLevel
from servicehall.catalog.models import ServiceItem
from servicehall.core.models import AuditEntry
from servicehall.notify.models import Message

from .conftest import draft, staff, submitted

pytestmark = pytest.mark.django_db


def test_double_submit_is_one_case(citizen, catalogue):
    item = ServiceItem.objects.get(code="HZ-QR-001")
    key = uuid.uuid4()
    first = workflow.start_application(actor=citizen, item=item, submission_key=key)
    again = workflow.start_application(actor=citizen, item=item, submission_key=key)
    assert first.pk == again.pk
    workflow.save_draft(actor=citizen, case=first, data={"child_name": "王小明"})
    one = workflow.submit(actor=citizen, case=first, flow="standard")
    two = workflow.submit(actor=citizen, case=again, flow="standard")
    assert one.number == two.number
    assert Case.objects.filter(submission_key=key).count() == 1
    assert CaseEvent.objects.filter(case=one, action="submit").count() == 1


def test_case_number_reads_department_date_sequence(citizen, catalogue):
    with time_machine.travel("2026-11-26 10:00 +0800"):
        a = submitted(citizen)
        b = submitted(citizen)
    assert a.number == "HZ-20261126-0001"
    assert b.number == "HZ-20261126-0002"


def test_standard_flow_with_one_time_correction(citizen, huzheng_team):
    clerk, reviewer, approver = (huzheng_team[r] for r in ("window_clerk", "reviewer", "approver"))
    case = submitted(citizen)
    case = workflow.request_correction(
        actor=clerk, case=case, items=["《出生医学证明》复印件不清晰", "缺父母结婚证"]
    )
    assert case.status == Status.CORRECTION and case.due_date is None  # clock not started
    with pytest.raises(workflow.WorkflowError, match="一次性告知"):
        workflow.request_correction(actor=clerk, case=case, items=["还缺一份"])
    case = workflow.resubmit(actor=citizen, case=case)
    assert case.status == Status.SUBMITTED
    case = workflow.accept(actor=clerk, case=case)
    assert case.due_date is not None and case.accountable_staff == clerk
    case = workflow.start_review(actor=reviewer, case=case)
    case = workflow.approve(actor=approver, case=case)
    case = workflow.complete(actor=approver, case=case)
    case = workflow.deliver(actor=clerk, case=case, method="mail", tracking_number="SF1234567890")
    assert case.status == Status.DELIVERED
    steps = list(case.events.values_list("action", "from_status", "to_status"))
    assert steps == [
        ("submit", "draft", "submitted"),
        ("request_correction", "submitted", "correction"),
        ("resubmit", "correction", "submitted"),
        ("accept", "submitted", "accepted"),
        ("start_review", "accepted", "under_review"),
        ("approve", "under_review", "approved"),
        ("complete", "approved", "completed"),
        ("deliver", "completed", "delivered"),
    ]
    audited = AuditEntry.objects.filter(object_type="cases.case", object_id=str(case.pk))
    assert {e.action for e in audited} >= {f"case.{a}" for a, _, _ in steps}
    texts = list(
        Message.objects.filter(recipient=case.applicant_phone).values_list("body", flat=True)
    )
    assert any("需要补正" in t for t in texts) and any("已受理" in t for t in texts)


def test_illegal_transition_is_refused(citizen, huzheng_team):
    case = submitted(citizen)
    with pytest.raises(workflow.IllegalTransition, match="不能执行"):
        workflow.approve(actor=huzheng_team["approver"], case=case)
    assert Case.objects.get(pk=case.pk).status == Status.SUBMITTED


def test_refusal_and_denial_need_reasons(citizen, huzheng_team):
    case = submitted(citizen)
    with pytest.raises(workflow.WorkflowError):
        workflow.refuse(actor=huzheng_team["window_clerk"], case=case, reason="  ")
    case = workflow.refuse(
        actor=huzheng_team["window_clerk"], case=case, reason="不属于本机关职权范围"
    )
    assert case.status == Status.NOT_ACCEPTED and case.decision_reason


def test_staff_of_another_department_cannot_act(citizen, huzheng_team):
    case = submitted(citizen)
    outsider = staff("jiaojing", "window_clerk")
    with pytest.raises(PermissionDenied):
        workflow.accept(actor=outsider, case=case)
    wrong_role = huzheng_team["approver"]
    with pytest.raises(PermissionDenied):
        workflow.accept(actor=wrong_role, case=case)


def test_another_citizen_cannot_touch_the_case(citizen, catalogue):
    case = submitted(citizen)
    stranger = CitizenFactory()
    with pytest.raises(PermissionDenied):
        workflow.withdraw(actor=stranger, case=case)
    with pytest.raises(PermissionDenied):
        workflow.submit(actor=stranger, case=case, flow="standard")


def test_instant_flow_completes_on_the_spot(citizen, catalogue):
    case = submitted(citizen, code="ZA-GG-001", data={})
    clerk = staff("zhian", "window_clerk")
    case = workflow.complete_instantly(actor=clerk, case=case)
    assert case.status == Status.COMPLETED and case.accepted_at == case.completed_at


@pytest.mark.parametrize("drawn", [True, False])
def test_filing_flow_files_at_once_and_draws_spot_checks(citizen, catalogue, monkeypatch, drawn):
    monkeypatch.setattr(workflow, "spot_check_draw", lambda share: drawn)
    with time_machine.travel("2026-09-29 10:00 +0800"):
        case = submitted(
            citizen, code="XF-BA-001", flow="filing_spot_check", data={"floor_area_m2": "120"}
        )
    actions = list(case.events.values_list("action", flat=True))
    if drawn:
        assert case.status == Status.SPOT_CHECK and actions == ["submit", "file", "draw_spot_check"]
        assert case.due_date.isoformat() == "2026-10-09"  # 3 working days across National Day
        inspector = staff("xiaofang", "reviewer")
        case = workflow.record_spot_check(actor=inspector, case=case, passed=True)
        assert case.status == Status.COMPLETED and case.spot_check_passed
    else:
        assert case.status == Status.COMPLETED and actions == ["submit", "file", "complete"]


def test_deadline_across_national_day_with_a_correction_pause(citizen, catalogue):
    """XF-BA-001 over 300 m² follows the standard flow, promised in 3 working days."""
    clerk, reviewer = staff("xiaofang", "window_clerk"), staff("xiaofang", "reviewer")
    case = submitted(citizen, code="XF-BA-001", flow="standard", data={"floor_area_m2": "800"})
    with time_machine.travel("2026-09-29 09:00 +0800"):
        case = workflow.accept(actor=clerk, case=case)
    assert case.due_date.isoformat() == "2026-10-09"  # 9-30, (holidays 10-1..10-7), 10-8, 10-9
    with time_machine.travel("2026-10-08 09:00 +0800"):
        case = workflow.start_review(actor=reviewer, case=case)
        case = workflow.request_correction(actor=reviewer, case=case, items=["补充消防设计图纸"])
    with time_machine.travel("2026-10-12 09:00 +0800"):
        case = workflow.resubmit(actor=citizen, case=case)
    # Paused for 10-9, 10-10 (a swapped working Saturday) and 10-12: three working days, so
    # the one working day left on 10-08 (10-09) becomes the day after the resubmission.
    assert case.status == Status.UNDER_REVIEW
    assert case.due_date.isoformat() == "2026-10-13"
    resumed = case.events.get(action="resubmit")
    assert resumed.details == {"paused_working_days": 3, "due_date": "2026-10-13"}


def test_joint_handling_goes_to_another_department_and_back(citizen, huzheng_team):
    case = workflow.accept(actor=huzheng_team["window_clerk"], case=submitted(citizen))
    case = workflow.start_review(actor=huzheng_team["reviewer"], case=case)
    from servicehall.accounts.models import Department

    criminal = Department.objects.get(code="xingzhen")
    case = workflow.hand_over(
        actor=huzheng_team["reviewer"], case=case, department=criminal, note="核查"
    )
    with pytest.raises(PermissionDenied):
        workflow.approve(actor=huzheng_team["approver"], case=case)
    detective = staff("xingzhen", "reviewer")
    case = workflow.hand_over(
        actor=detective, case=case, department=case.home_department, note="无异常"
    )
    assert case.department == case.home_department and case.status == Status.UNDER_REVIEW
    workflow.approve(actor=huzheng_team["approver"], case=case)


def test_first_inquiry_responsibility_moves_only_by_recorded_hand_over(citizen, huzheng_team):
    clerk, reviewer = huzheng_team["window_clerk"], huzheng_team["reviewer"]
    case = workflow.claim(actor=clerk, case=submitted(citizen))
    case = workflow.accept(actor=clerk, case=case)
    case = workflow.start_review(actor=reviewer, case=case)
    assert case.accountable_staff == clerk  # reviewing does not move accountability
    with pytest.raises(workflow.WorkflowError):
        workflow.transfer_accountability(actor=clerk, case=case, to_user=reviewer, note="")
    case = workflow.transfer_accountability(actor=clerk, case=case, to_user=reviewer, note="调岗")
    assert case.accountable_staff == reviewer
    assert case.events.filter(action="transfer_accountability").exists()


def test_rating_once_after_completion_and_bad_rating_opens_follow_up(citizen, huzheng_team):
    case = submitted(citizen)
    with pytest.raises(workflow.WorkflowError, match="办结后"):
        workflow.rate(actor=citizen, case=case, level=RatingLevel.VERY_SATISFIED)
    case = workflow.accept(actor=huzheng_team["window_clerk"], case=case)
    case = workflow.start_review(actor=huzheng_team["reviewer"], case=case)
    case = workflow.approve(actor=huzheng_team["approver"], case=case)
    case = workflow.complete(actor=huzheng_team["approver"], case=case)
    rating = workflow.rate(
        actor=citizen, case=case, level=RatingLevel.DISSATISFIED, comment="等太久"
    )
    with pytest.raises(workflow.WorkflowError, match="只能评价一次"):
        workflow.rate(actor=citizen, case=case, level=RatingLevel.VERY_SATISFIED)
    task = FollowUpTask.objects.get(rating=rating)
    assert task.department.code == "huzheng" and task.due_date > case.completed_at.date()
    with pytest.raises(PermissionDenied):
        workflow.close_follow_up(actor=huzheng_team["window_clerk"], task=task, resolution="已回访")
    workflow.close_follow_up(
        actor=huzheng_team["supervisor"], task=task, resolution="已电话回访致歉"
    )


def test_items_without_online_application_are_refused(citizen, catalogue):
    booking_only = ServiceItem.objects.filter(flow="booking_only").first()
    with pytest.raises(workflow.WorkflowError, match="不支持网上申请"):
        workflow.start_application(actor=citizen, item=booking_only, submission_key=uuid.uuid4())


def test_draft_saved_after_submission_changes_nothing(citizen, catalogue):
    case = draft(citizen)
    workflow.submit(actor=citizen, case=case, flow="standard")
    workflow.save_draft(actor=citizen, case=case, data={"child_name": "改过的名字"})
    assert Case.objects.get(pk=case.pk).form_data == {"child_name": "王小明"}


def test_accepting_into_an_unconfirmed_year_is_refused_clearly(citizen, huzheng_team):
    """Accepting on 2026-12-31 with limits reaching into 2027 needs the 2027 holidays."""
    case = submitted(citizen, code="HZ-QR-011")  # 15 working days
    with (
        time_machine.travel("2026-12-31 09:00 +0800"),
        pytest.raises(workflow.WorkflowError, match="2027年的节假日安排尚未确认"),
    ):
        workflow.accept(actor=huzheng_team["window_clerk"], case=case)
    assert Case.objects.get(pk=case.pk).status == Status.SUBMITTED
