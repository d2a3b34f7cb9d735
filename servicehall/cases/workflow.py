"""The only code that changes a case's status (and who is handling it).

Every verb takes a keyword-only `actor`, runs in one transaction with the case row locked,
checks the transition against flows.FLOWS and the actor's right to take it, writes a CaseEvent
and an audit entry, and queues notifications in the outbox in the same transaction (so an
acknowledged change and its message are never separated). Verbs never take a request.
"""

from __future__ import annotations

import random
import uuid
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from servicehall.accounts import rules as account_rules
from servicehall.core import audit, workdays

from . import flows, notifications
from .flows import Action, Status
from .models import (
    Case,
    CaseCounter,
    CaseEvent,
    CorrectionNotice,
    FollowUpTask,
    Rating,
)


class WorkflowError(Exception):
    """A request the case's state does not allow; the message is for the user."""


class IllegalTransition(WorkflowError):
    pass


# Which staff roles may take which action (at least one of them).
STAFF_ROLES: dict[str, tuple[str, ...]] = {
    Action.ACCEPT: ("window_clerk",),
    Action.REFUSE: ("window_clerk",),
    Action.COMPLETE_INSTANTLY: ("window_clerk",),
    Action.START_REVIEW: ("reviewer",),
    Action.RECORD_SPOT_CHECK: ("reviewer",),
    Action.APPROVE: ("approver",),
    Action.DENY: ("approver",),
    Action.COMPLETE: ("approver", "window_clerk"),
    Action.DELIVER: ("window_clerk",),
    Action.CLAIM: ("window_clerk", "reviewer", "approver"),
    Action.HAND_OVER: ("window_clerk", "reviewer", "approver"),
    Action.TRANSFER_ACCOUNTABILITY: ("window_clerk", "reviewer", "approver", "supervisor"),
}
# A correction can be asked for at acceptance (clerk) or during review (reviewer).
CORRECTION_ROLES = {Status.SUBMITTED: ("window_clerk",), Status.UNDER_REVIEW: ("reviewer",)}


def today() -> date:
    return timezone.localdate()


def add_working_days(start: date, days: int) -> date:
    """The calendar's answer, or a clear refusal when a year's holidays are unconfirmed (the
    limit would be a guess); staff see why and the administrator confirms the year."""
    try:
        return workdays.add_working_days(start, days)
    except workdays.CalendarNotConfirmed as exc:
        raise WorkflowError(
            _("%(reason)s。请联系系统管理员确认后再办理。") % {"reason": exc}
        ) from exc


def working_days_between(start: date, end: date) -> int:
    try:
        return workdays.working_days_between(start, end)
    except workdays.CalendarNotConfirmed as exc:
        raise WorkflowError(
            _("%(reason)s。请联系系统管理员确认后再办理。") % {"reason": exc}
        ) from exc


# --- access ----------------------------------------------------------------------------------


def can_handle(user, case: Case, roles: tuple[str, ...] = ()) -> bool:
    """Staff of the department now handling the case, in its jurisdiction, with a role."""
    if not account_rules.is_staff_member(user):
        return False
    profile = user.staff_profile_or_none
    if profile is None or profile.department_id != case.department_id:
        return False
    if case.station_id and not account_rules.in_jurisdiction(user, case):
        return False
    return not roles or user.has_role(*roles)


def is_applicant(user, case: Case) -> bool:
    if not (user and user.is_authenticated):
        return False
    if case.submitted_by_id == user.pk:
        return True
    return case.enterprise_id is not None and account_rules.acts_for_enterprise(
        user, case.enterprise
    )


def _require_staff(actor, case: Case, roles: tuple[str, ...]) -> None:
    if not can_handle(actor, case, roles):
        raise PermissionDenied(_("您无权办理此办件。"))


def _require_applicant(actor, case: Case) -> None:
    if not is_applicant(actor, case):
        raise PermissionDenied(_("只有申请人本人或其代办企业可以进行此操作。"))


# --- the one place a status changes ------------------------------------------------------------


def _locked(case: Case) -> Case:
    return Case.objects.select_for_update().select_related("item", "department").get(pk=case.pk)


def _record(case: Case, action: str, *, actor, from_status: str, note: str = "", details=None):
    event = CaseEvent.objects.create(
        case=case,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        from_status=from_status,
        to_status=case.status,
        note=note,
        details=details or {},
    )
    audit.record(
        actor=actor,
        action=f"case.{action}",
        target=case,
        details={"from": from_status, "to": case.status, **(details or {})},
    )
    return event


def _take_first_inquiry(case: Case, actor) -> None:
    """首问责任制: the first staff member to touch a case stays accountable until handed over."""
    if case.accountable_staff_id is None and account_rules.is_staff_member(actor):
        case.accountable_staff = actor


def _move(case: Case, action: str, *, actor, note: str = "", details=None, **fields) -> Case:
    to_status = flows.target(case.flow, action, case.status)
    if to_status is None:
        raise IllegalTransition(
            _("办件当前状态为“%(status)s”，不能执行“%(action)s”。")
            % {"status": Status(case.status).label, "action": Action(action).label}
        )
    from_status = case.status
    case.status = to_status
    for name, value in fields.items():
        setattr(case, name, value)
    _take_first_inquiry(case, actor)
    case.save()
    event = _record(case, action, actor=actor, from_status=from_status, note=note, details=details)
    notifications.case_changed(case, event)
    return case


# --- applying --------------------------------------------------------------------------------


def start_application(*, actor, item, submission_key: uuid.UUID, enterprise=None) -> Case:
    """The draft for this form token: created once, found again on a retry or double click."""
    if item.flow not in flows.APPLICABLE_FLOWS or "online" not in item.channels:
        raise WorkflowError(_("该事项不支持网上申请，请查看办事指南。"))
    if enterprise is not None and not account_rules.acts_for_enterprise(actor, enterprise):
        raise PermissionDenied(_("您未获得该企业的代办授权。"))
    profile = actor.citizen_profile_or_none
    defaults = {
        "item": item,
        "flow": item.flow,
        "home_department": item.department,
        "department": item.department,
        "submitted_by": actor,
        "enterprise": enterprise,
        "applicant_name": actor.name if enterprise is None else "",
        "applicant_id_number": profile.id_number if profile and enterprise is None else "",
        "applicant_phone": profile.mobile if profile and enterprise is None else "",
    }
    try:
        with transaction.atomic():
            case, created = Case.objects.get_or_create(
                submission_key=submission_key, defaults=defaults
            )
    except IntegrityError:  # the twin request created it a moment ago
        case, created = Case.objects.get(submission_key=submission_key), False
    if case.submitted_by_id != actor.pk or case.item_id != item.pk:
        raise PermissionDenied(_("该申请不属于您。"))
    if created:
        audit.record(actor=actor, action="case.start", target=case)
    return case


@transaction.atomic
def save_draft(
    *,
    actor,
    case: Case,
    data: dict,
    applicant: dict | None = None,
    green_channel: str = "",
    door_to_door: bool = False,
) -> Case:
    case = _locked(case)
    _require_applicant(actor, case)
    if case.status != Status.DRAFT:
        return case  # already submitted: a late autosave must not change what was accepted
    case.form_data = data
    if applicant:
        case.applicant_name = applicant.get("name", case.applicant_name)
        case.applicant_id_number = applicant.get("id_number", case.applicant_id_number)
        case.applicant_phone = applicant.get("phone", case.applicant_phone)
    case.green_channel = green_channel
    case.door_to_door = door_to_door
    case.save()
    return case


def _attach(case: Case, *, actor, material: str, upload, validated) -> None:
    from .models import Attachment

    upload.name = validated.name
    Attachment.objects.create(
        case=case,
        material=material,
        file=upload,
        original_name=validated.name,
        content_type=validated.content_type,
        size=validated.size,
        sha256=validated.sha256,
        uploaded_by=actor,
    )


def missing_materials(case: Case) -> list[str]:
    """Required materials with no upload yet (an online application attaches scans)."""
    uploaded = set(case.attachments.values_list("material", flat=True))
    required = [m["name"] for m in case.item.document.get("materials", []) if m.get("required")]
    return [name for name in required if name not in uploaded]


@transaction.atomic
def apply(
    *,
    actor,
    case: Case,
    data: dict,
    uploads=(),
    submit_flow: str | None = None,
    applicant: dict | None = None,
    green_channel: str = "",
    door_to_door: bool = False,
) -> Case:
    """Save the application (form data and material scans) and, with `submit_flow`, submit it.

    `uploads` holds (material name, uploaded file, attachments.ValidatedFile). The case row is
    locked first, so a double click waits here and then finds the case already submitted:
    it changes nothing and attaches nothing twice.
    """
    case = _locked(case)
    _require_applicant(actor, case)
    if case.status != Status.DRAFT:
        return case
    for material, upload, validated in uploads:
        _attach(case, actor=actor, material=material, upload=upload, validated=validated)
    case = save_draft(
        actor=actor,
        case=case,
        data=data,
        applicant=applicant,
        green_channel=green_channel,
        door_to_door=door_to_door,
    )
    if submit_flow is None:
        return case
    missing = missing_materials(case)
    if missing:
        raise WorkflowError(_("请上传以下必需材料：%(names)s。") % {"names": "、".join(missing)})
    return submit(actor=actor, case=case, flow=submit_flow)


def _next_number(department, day: date) -> str:
    counter, _ = CaseCounter.objects.get_or_create(department=department, day=day)
    # The UPDATE locks the counter row until commit: numbers are gap-free and never repeat.
    CaseCounter.objects.filter(pk=counter.pk).update(last=F("last") + 1)
    last = CaseCounter.objects.values_list("last", flat=True).get(pk=counter.pk)
    return f"{department.prefix}-{day:%Y%m%d}-{last:04d}"


def spot_check_draw(share: float) -> bool:
    """Whether a filed case is drawn for inspection (tests replace this)."""
    return random.SystemRandom().random() < share  # noqa: S311 - fairness, not secrecy


@transaction.atomic
def submit(*, actor, case: Case, flow: str) -> Case:
    """Submit a draft under `flow` (the item's flow after its rules; see forms.evaluate_flow).

    Submitting again (a double click, a retried request) returns the case unchanged.
    """
    case = _locked(case)
    _require_applicant(actor, case)
    if case.status != Status.DRAFT:
        return case
    if flow not in flows.APPLICABLE_FLOWS:
        raise WorkflowError(_("该事项不支持网上申请，请查看办事指南。"))
    if not case.applicant_name or not case.applicant_phone:
        raise WorkflowError(_("请填写申请人姓名和手机号码。"))
    case.flow = flow
    _move(
        case,
        Action.SUBMIT,
        actor=actor,
        number=_next_number(case.home_department, today()),
        submitted_at=timezone.now(),
    )
    if flow == "filing_spot_check":
        _file(case)
    return case


def _file(case: Case) -> None:
    """备案: filed the moment it is submitted; a share is drawn for a spot check.

    The notes go into the case history, which staff read in Chinese whatever language the
    applicant used, so they are not translated here."""
    system = None
    _move(
        case,
        Action.FILE,
        actor=system,
        note="已备案，备案凭证即时出具。",
        accepted_at=timezone.now(),
    )
    share = float(case.item.document.get("spot_check_share", settings.CASES_SPOT_CHECK_SHARE))
    if spot_check_draw(share):
        due = add_working_days(today(), case.item.promised_days)
        _move(
            case,
            Action.DRAW_SPOT_CHECK,
            actor=system,
            due_date=due,
            note=f"已被随机抽中检查，将在{due.isoformat()}前告知抽查结果。",
        )
    else:
        _move(
            case,
            Action.COMPLETE,
            actor=system,
            note="未被抽中，备案办结。",
            completed_at=timezone.now(),
        )


@transaction.atomic
def withdraw(*, actor, case: Case) -> Case:
    case = _locked(case)
    _require_applicant(actor, case)
    return _move(case, Action.WITHDRAW, actor=actor)


@transaction.atomic
def resubmit(*, actor, case: Case, data: dict | None = None, uploads=()) -> Case:
    """The applicant answers the correction notice; the paused clock resumes, extended."""
    case = _locked(case)
    _require_applicant(actor, case)
    if case.status != Status.CORRECTION:
        raise IllegalTransition(_("该办件不需要补正。"))
    notice = case.correction
    for material, upload, validated in uploads:
        _attach(case, actor=actor, material=material, upload=upload, validated=validated)
    if data is not None:
        case.form_data = data
    resumed = today()
    details = {}
    if notice.from_status in flows.CLOCK_RUNNING and case.due_date:
        paused = max(working_days_between(notice.requested_on, resumed), 0)
        case.due_date = add_working_days(case.due_date, paused)
        details = {"paused_working_days": paused, "due_date": case.due_date.isoformat()}
    notice.resubmitted_on = resumed
    notice.save(update_fields=["resubmitted_on"])
    from_status, case.status = case.status, notice.from_status
    case.save()
    event = _record(case, Action.RESUBMIT, actor=actor, from_status=from_status, details=details)
    notifications.case_changed(case, event)
    return case


@transaction.atomic
def file_batch(*, actor, item, enterprise, upload_key: uuid.UUID, file_name: str, result):
    """集中申报: every valid row becomes a submitted case; bad rows are kept as the report.

    Idempotent by `upload_key`: posting the same upload again returns the first batch. Each
    row's case key derives from the batch key, so a retry never doubles a worker.
    """
    from .models import CaseBatch

    if enterprise is None or not account_rules.acts_for_enterprise(actor, enterprise):
        raise PermissionDenied(_("集中申报须以获得授权的企业经办人身份提交。"))
    batch, created = CaseBatch.objects.get_or_create(
        upload_key=upload_key,
        defaults={
            "item": item,
            "enterprise": enterprise,
            "submitted_by": actor,
            "file_name": file_name,
            "row_count": len(result.valid_rows) + len({e.row for e in result.errors if e.row}),
            "errors": result.errors_json(),
        },
    )
    if not created:
        return batch
    for row_number, data in result.valid_rows:
        key = uuid.uuid5(upload_key, str(row_number))
        case = start_application(actor=actor, item=item, submission_key=key, enterprise=enterprise)
        case.batch = batch
        case.save(update_fields=["batch"])
        applicant = {
            "name": data.get("full_name", ""),
            "id_number": data.get("applicant_id_number", ""),
            "phone": data.get("phone", ""),
        }
        save_draft(actor=actor, case=case, data=data, applicant=applicant)
        if not case.applicant_phone:  # the employer's contact stands in for a worker with none
            case.applicant_phone = (
                actor.citizen_profile_or_none.mobile if actor.citizen_profile_or_none else ""
            )
            case.save(update_fields=["applicant_phone"])
        submit(actor=actor, case=case, flow=item.flow)
    audit.record(
        actor=actor,
        action="case.file_batch",
        target=batch,
        details={"cases": len(result.valid_rows), "bad_rows": len(result.errors)},
    )
    return batch


# --- handling ----------------------------------------------------------------------------------


def _staff_move(case: Case, action: str, *, actor, **kwargs) -> Case:
    case = _locked(case)
    _require_staff(actor, case, STAFF_ROLES[action])
    return _move(case, action, actor=actor, **kwargs)


@transaction.atomic
def claim(*, actor, case: Case) -> Case:
    case = _locked(case)
    _require_staff(actor, case, STAFF_ROLES[Action.CLAIM])
    if case.status in flows.FINAL or case.status == Status.DRAFT:
        raise IllegalTransition(_("该办件已结束，无需认领。"))
    if case.handler_id == actor.pk:
        raise IllegalTransition(_("您已认领该办件。"))
    case.handler = actor
    _take_first_inquiry(case, actor)
    case.save()
    _record(case, Action.CLAIM, actor=actor, from_status=case.status)
    return case


@transaction.atomic
def accept(*, actor, case: Case, note: str = "") -> Case:
    """受理: the promised-limit clock starts today."""
    case = _locked(case)
    _require_staff(actor, case, STAFF_ROLES[Action.ACCEPT])
    return _move(
        case,
        Action.ACCEPT,
        actor=actor,
        note=note,
        accepted_at=timezone.now(),
        due_date=add_working_days(today(), case.item.promised_days),
        handler=case.handler or actor,
    )


@transaction.atomic
def refuse(*, actor, case: Case, reason: str) -> Case:
    if not reason.strip():
        raise WorkflowError(_("不予受理必须说明理由。"))
    return _staff_move(
        case,
        Action.REFUSE,
        actor=actor,
        note=reason,
        decision_reason=reason,
        completed_at=timezone.now(),
    )


@transaction.atomic
def request_correction(*, actor, case: Case, items: list[str], note: str = "") -> Case:
    """一次性告知: one notice listing everything missing; a case gets only one."""
    items = [item.strip() for item in items if item and item.strip()]
    if not items:
        raise WorkflowError(_("请列出需要补正的全部材料或内容。"))
    case = _locked(case)
    _require_staff(actor, case, CORRECTION_ROLES.get(case.status, ("window_clerk", "reviewer")))
    if CorrectionNotice.objects.filter(case=case).exists():
        raise WorkflowError(_("补正须一次性告知，该办件已发出过补正通知。"))
    CorrectionNotice.objects.create(
        case=case,
        items=items,
        note=note,
        issued_by=actor,
        from_status=case.status,
        requested_on=today(),
    )
    return _move(
        case,
        Action.REQUEST_CORRECTION,
        actor=actor,
        note="；".join(items) + (f"。{note}" if note else ""),
        details={"items": items},
    )


@transaction.atomic
def start_review(*, actor, case: Case) -> Case:
    return _staff_move(case, Action.START_REVIEW, actor=actor)


@transaction.atomic
def approve(*, actor, case: Case, note: str = "") -> Case:
    return _staff_move(case, Action.APPROVE, actor=actor, note=note)


@transaction.atomic
def deny(*, actor, case: Case, reason: str) -> Case:
    if not reason.strip():
        raise WorkflowError(_("不予许可必须说明理由。"))
    return _staff_move(case, Action.DENY, actor=actor, note=reason, decision_reason=reason)


@transaction.atomic
def complete(*, actor, case: Case, note: str = "") -> Case:
    return _staff_move(case, Action.COMPLETE, actor=actor, note=note, completed_at=timezone.now())


@transaction.atomic
def complete_instantly(*, actor, case: Case, note: str = "") -> Case:
    now = timezone.now()
    return _staff_move(
        case,
        Action.COMPLETE_INSTANTLY,
        actor=actor,
        note=note,
        accepted_at=now,
        completed_at=now,
        handler=actor,
    )


@transaction.atomic
def record_spot_check(*, actor, case: Case, passed: bool, note: str = "") -> Case:
    if not passed and not note.strip():
        raise WorkflowError(_("抽查不合格必须说明问题和整改要求。"))
    return _staff_move(
        case,
        Action.RECORD_SPOT_CHECK,
        actor=actor,
        note=note,
        spot_check_passed=passed,
        completed_at=timezone.now(),
        details={"passed": passed},
    )


@transaction.atomic
def deliver(*, actor, case: Case, method: str, tracking_number: str = "") -> Case:
    from .models import Delivery

    if method not in Delivery.values:
        raise WorkflowError(_("请选择送达方式。"))
    if method == Delivery.MAIL and not tracking_number.strip():
        raise WorkflowError(_("邮寄送达须填写邮寄单号。"))
    return _staff_move(
        case,
        Action.DELIVER,
        actor=actor,
        delivery_method=method,
        tracking_number=tracking_number.strip(),
        delivered_at=timezone.now(),
        details={"method": method},
    )


@transaction.atomic
def hand_over(*, actor, case: Case, department, note: str = "") -> Case:
    """Joint handling: hand the case to another department (and, later, back)."""
    case = _locked(case)
    _require_staff(actor, case, STAFF_ROLES[Action.HAND_OVER])
    if case.status in flows.FINAL or case.department_id == department.pk:
        raise IllegalTransition(_("该办件不能移交给此部门。"))
    previous = case.department
    case.department = department
    case.handler = None
    case.save()
    _record(
        case,
        Action.HAND_OVER,
        actor=actor,
        from_status=case.status,
        note=note,
        details={"from_department": previous.code, "to_department": department.code},
    )
    return case


@transaction.atomic
def transfer_accountability(*, actor, case: Case, to_user, note: str) -> Case:
    """首问责任交接: only a recorded hand-over moves the accountable person."""
    case = _locked(case)
    _require_staff(actor, case, STAFF_ROLES[Action.TRANSFER_ACCOUNTABILITY])
    if not can_handle(to_user, case):
        raise WorkflowError(_("只能交接给本部门有权办理的民警。"))
    if case.accountable_staff_id == to_user.pk:
        raise IllegalTransition(_("此人已是该办件的首问责任人。"))
    if not note.strip():
        raise WorkflowError(_("首问责任交接须说明原因。"))
    previous = case.accountable_staff_id
    case.accountable_staff = to_user
    case.save()
    _record(
        case,
        Action.TRANSFER_ACCOUNTABILITY,
        actor=actor,
        from_status=case.status,
        note=note,
        details={"from_user": previous, "to_user": to_user.pk},
    )
    return case


# --- ratings -----------------------------------------------------------------------------------


@transaction.atomic
def rate(*, actor, case: Case, level: int, comment: str = "") -> Rating:
    """好差评: once, after completion; a bad rating opens a follow-up for supervisors."""
    case = _locked(case)
    _require_applicant(actor, case)
    if case.status not in flows.RATEABLE:
        raise WorkflowError(_("办结后才能评价。"))
    if Rating.objects.filter(case=case).exists():
        raise WorkflowError(_("您已评价过该办件，每件只能评价一次。"))
    rating = Rating.objects.create(case=case, level=level, comment=comment.strip(), rated_by=actor)
    if rating.is_bad:
        days = settings.CASES_FOLLOW_UP_DAYS
        try:
            due = workdays.add_working_days(today(), days)
        except workdays.CalendarNotConfirmed:
            due = today() + timedelta(days=days)  # never lose a rating: calendar days are stricter
        FollowUpTask.objects.create(rating=rating, department=case.home_department, due_date=due)
    audit.record(actor=actor, action="case.rate", target=case, details={"level": level})
    return rating


@transaction.atomic
def close_follow_up(*, actor, task: FollowUpTask, resolution: str) -> FollowUpTask:
    task = FollowUpTask.objects.select_for_update().get(pk=task.pk)
    profile = actor.staff_profile_or_none if account_rules.is_staff_member(actor) else None
    if (
        profile is None
        or not actor.has_role("supervisor")
        or profile.department_id != task.department_id
    ):
        raise PermissionDenied(_("只有本部门的监督员可以处理差评整改。"))
    if task.state != FollowUpTask.State.OPEN:
        raise IllegalTransition(_("该整改任务已处理。"))
    if not resolution.strip():
        raise WorkflowError(_("请填写整改和回访情况。"))
    task.state = FollowUpTask.State.DONE
    task.resolution = resolution.strip()
    task.closed_by = actor
    task.closed_at = timezone.now()
    task.save()
    audit.record(actor=actor, action="case.follow_up_closed", target=task.rating.case)
    return task
