"""The only code that changes a letter's status, handler, department, reply or publication.

Every verb takes a keyword-only `actor`, runs in one transaction with the letter row locked,
checks the transition against flows.TRANSITIONS and the actor's right to take it (rules.py),
writes a LetterEvent and an audit entry, and queues notifications in the outbox in the same
transaction. Verbs never take a request. Intake (new letters) is in intake.py.

Writer-side verbs (rate, reopen, withdraw, withdraw_consent) accept the signed-in writer or
`code=` the follow-up code; for an anonymous letter nothing about the person acting is
recorded (no account, no IP), whoever they are.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from servicehall.core import audit, workdays

from . import flows, notifications, redaction
from . import rules as letter_rules
from .flows import Action, Channel, ReplyStatus, Status
from .models import Letter, LetterEvent, LetterReply, RatingLevel

ANONYMOUS_LABEL = "anonymous"
CODE_HOLDER_LABEL = "follow-up-code"


class WorkflowError(Exception):
    """A request the letter's state does not allow; the message is for the user."""


class IllegalTransition(WorkflowError):
    pass


def today() -> date:
    return timezone.localdate()


# --- time limits -----------------------------------------------------------------------------


def reply_days(kind: str) -> int:
    """Working days to reply to a letter of `kind` (settings.LETTER_REPLY_DAYS)."""
    try:
        return int(settings.LETTER_REPLY_DAYS[kind])
    except KeyError as exc:
        raise WorkflowError(_("未配置该类来信的答复期限。")) from exc


def due_date_from(start: date, kind: str) -> tuple[date, bool]:
    """(due date, provisional). A letter is never refused for want of a calendar: when the
    year is not confirmed yet the limit counts calendar days (never later than the working-day
    date) and is marked provisional; deadlines.sweep recomputes it once the year is confirmed.
    Staff see that the date is provisional; `add_working_days` below refuses instead."""
    days = reply_days(kind)
    try:
        return workdays.add_working_days(start, days), False
    except workdays.CalendarNotConfirmed:
        return start + timedelta(days=days), True


def add_working_days(start: date, days: int) -> date:
    """The calendar's answer, or a clear refusal when a year's holidays are unconfirmed."""
    try:
        return workdays.add_working_days(start, days)
    except workdays.CalendarNotConfirmed as exc:
        raise WorkflowError(
            _("%(reason)s。请联系系统管理员确认后再办理。") % {"reason": exc}
        ) from exc


def needs_approval(letter: Letter) -> bool:
    """A leader approves the reply: kinds in settings.LETTER_APPROVAL_KINDS, and every
    misconduct report."""
    return letter.channel == Channel.MISCONDUCT or letter.kind in settings.LETTER_APPROVAL_KINDS


# --- access ----------------------------------------------------------------------------------


def _require_staff(actor, letter: Letter, roles: tuple[str, ...]) -> None:
    if not letter_rules.can_handle(actor, letter, roles):
        raise PermissionDenied(_("您无权办理此来信。"))


def _require_handler(actor, letter: Letter) -> None:
    _require_staff(actor, letter, letter_rules.HANDLER_ROLES)
    if letter.handler_id is not None and letter.handler_id != actor.pk:
        raise PermissionDenied(_("该来信由其他民警承办，只有承办人可以办理答复。"))


def _writer_identity(actor, letter: Letter, code: str | None):
    """Check the writer's right and return (actor to record, label). An anonymous letter's
    writer is never recorded, nor is someone acting with the code on a letter without an
    account."""
    if not letter_rules.acts_as_writer(actor, letter, code):
        raise PermissionDenied(_("只有来信人本人或持有查询码者可以进行此操作。"))
    if letter.anonymous:
        return None, ANONYMOUS_LABEL
    if letter_rules.is_writer(actor, letter):
        return actor, ""
    return None, CODE_HOLDER_LABEL


# --- the one place a status changes ------------------------------------------------------------


def _locked(letter: Letter) -> Letter:
    return Letter.objects.select_for_update().get(pk=letter.pk)


def record(
    letter: Letter,
    action: str,
    *,
    actor,
    from_status: str,
    note: str = "",
    details: dict | None = None,
    actor_label: str = "",
) -> LetterEvent:
    """The event and the audit entry of a step (`actor` None: system or an unrecorded writer;
    `actor_label` then says which). Never pass an IP address for letters: nothing else needs
    it and for anonymous writers it would identify them."""
    details = details or {}
    event = LetterEvent.objects.create(
        letter=letter,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        from_status=from_status,
        to_status=letter.status,
        note=note,
        details=details,
    )
    audit.record(
        actor=actor,
        actor_label=actor_label,
        action=f"letter.{action}",
        target=letter,
        details={"from": from_status, "to": letter.status, **details},
    )
    return event


def _move(
    letter: Letter,
    action: str,
    *,
    actor,
    note: str = "",
    details: dict | None = None,
    actor_label: str = "",
    **fields,
) -> LetterEvent:
    to_status = flows.target(action, letter.status)
    if to_status is None:
        raise IllegalTransition(
            _("来信当前状态为“%(status)s”，不能执行“%(action)s”。")
            % {"status": Status(letter.status).label, "action": Action(action).label}
        )
    from_status = letter.status
    letter.status = to_status
    for name, value in fields.items():
        setattr(letter, name, value)
    letter.save()
    return record(
        letter,
        action,
        actor=actor,
        from_status=from_status,
        note=note,
        details=details,
        actor_label=actor_label,
    )


def _open_reply(letter: Letter) -> LetterReply | None:
    return (
        LetterReply.objects.select_for_update()
        .filter(letter=letter, status__in=[ReplyStatus.DRAFT, ReplyStatus.PENDING])
        .first()
    )


def _discard_open_reply(letter: Letter) -> int | None:
    reply = _open_reply(letter)
    if reply is None:
        return None
    reply.status = ReplyStatus.DISCARDED
    reply.save(update_fields=["status", "updated_at"])
    return reply.pk


def _department_staff(letter: Letter, roles: tuple[str, ...]):
    return (
        get_user_model()
        .objects.filter(
            is_active=True,
            staff_profile__department_id=letter.department_id,
            role_assignments__role__in=roles,
        )
        .distinct()
    )


def _clean_text(value: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise WorkflowError(message)
    return value


# --- triage and handling -----------------------------------------------------------------------


@transaction.atomic
def assign(*, actor, letter: Letter, department, station=None, note: str = "") -> Letter:
    """分办: the holding office sends a new letter to the department (and station) to answer."""
    letter = _locked(letter)
    _require_staff(actor, letter, letter_rules.TRIAGE_ROLES)
    misconduct_code = settings.LETTER_MISCONDUCT_DEPARTMENT
    if letter.is_misconduct and department.code != misconduct_code:
        raise WorkflowError(_("12389举报件只能由督察部门办理。"))
    _move(
        letter,
        Action.ASSIGN,
        actor=actor,
        note=note.strip(),
        department=department,
        station=station,
        handler=None,
        details={"department": department.code, "station": station.code if station else None},
    )
    return letter


@transaction.atomic
def claim(*, actor, letter: Letter) -> Letter:
    letter = _locked(letter)
    _require_staff(actor, letter, letter_rules.HANDLER_ROLES)
    if letter.handler_id == actor.pk:
        raise IllegalTransition(_("您已认领该来信。"))
    if letter.handler_id is not None:
        raise IllegalTransition(_("该来信已由其他民警承办，如需调整请由部门领导指定承办人。"))
    _move(letter, Action.CLAIM, actor=actor, handler=actor)
    return letter


@transaction.atomic
def set_handler(*, actor, letter: Letter, handler) -> Letter:
    """A leader or supervisor of the department designates (or changes) the handler."""
    letter = _locked(letter)
    _require_staff(actor, letter, letter_rules.MANAGER_ROLES)
    if not letter_rules.can_handle(handler, letter, letter_rules.HANDLER_ROLES):
        raise WorkflowError(_("只能指定本部门有权办理的民警为承办人。"))
    if letter.handler_id == handler.pk:
        raise IllegalTransition(_("此人已是该来信的承办人。"))
    previous = letter.handler_id
    if _open_reply(letter) is not None and previous is not None:
        _discard_open_reply(letter)  # the new handler writes their own reply
    _move(
        letter,
        Action.SET_HANDLER,
        actor=actor,
        handler=handler,
        details={"from_user": previous, "to_user": handler.pk},
    )
    return letter


@transaction.atomic
def draft_reply(*, actor, letter: Letter, body: str) -> LetterReply:
    """Save the handler's draft (the first draft also claims an unclaimed letter)."""
    body = _clean_text(body, _("请填写答复内容。"))
    letter = _locked(letter)
    _require_handler(actor, letter)
    if flows.target(Action.DRAFT, letter.status) is None:
        raise IllegalTransition(
            _("来信当前状态为“%(status)s”，不能修改答复。")
            % {"status": letter.get_status_display()}
        )
    reply = _open_reply(letter)
    if reply is not None:
        reply.body = body
        reply.save(update_fields=["body", "updated_at"])
        audit.record(
            actor=actor, action="letter.draft_saved", target=letter, details={"reply": reply.pk}
        )
        return reply
    reply = LetterReply.objects.create(
        letter=letter, round=letter.round, body=body, drafted_by=actor
    )
    _move(letter, Action.DRAFT, actor=actor, handler=actor, details={"reply": reply.pk})
    return reply


def _reply_to_send(letter: Letter, status: str) -> LetterReply:
    reply = _open_reply(letter)
    if reply is None or reply.status != status:
        raise WorkflowError(_("请先起草答复。"))
    return reply


@transaction.atomic
def submit_for_approval(*, actor, letter: Letter) -> LetterReply:
    letter = _locked(letter)
    _require_handler(actor, letter)
    if flows.target(Action.SUBMIT_FOR_APPROVAL, letter.status) is None:
        raise IllegalTransition(_("该来信当前不能提交审核。"))
    reply = _reply_to_send(letter, ReplyStatus.DRAFT)
    reply.status = ReplyStatus.PENDING
    reply.submitted_at = timezone.now()
    reply.save(update_fields=["status", "submitted_at", "updated_at"])
    _move(letter, Action.SUBMIT_FOR_APPROVAL, actor=actor, details={"reply": reply.pk})
    return reply


def _send(letter: Letter, reply: LetterReply, action: str, *, actor, note: str = "") -> None:
    now = timezone.now()
    reply.status = ReplyStatus.SENT
    reply.sent_by = actor
    reply.sent_at = now
    reply.due_date = letter.due_date
    reply.save()
    on_time = timezone.localdate(now) <= letter.due_date
    event = _move(
        letter,
        action,
        actor=actor,
        note=note,
        replied_at=now,
        details={"reply": reply.pk, "round": reply.round, "on_time": on_time},
    )
    notifications.replied(letter, event)


@transaction.atomic
def approve_reply(*, actor, letter: Letter, note: str = "") -> LetterReply:
    """A leader approves the pending reply, which goes out to the writer at once."""
    letter = _locked(letter)
    _require_staff(actor, letter, letter_rules.LEADER_ROLES)
    if flows.target(Action.APPROVE, letter.status) is None:
        raise IllegalTransition(_("该来信没有待审核的答复。"))
    reply = _reply_to_send(letter, ReplyStatus.PENDING)
    if reply.drafted_by_id == actor.pk:
        raise PermissionDenied(_("起草人不能审核自己起草的答复。"))
    reply.decided_by = actor
    reply.decided_at = timezone.now()
    _send(letter, reply, Action.APPROVE, actor=actor, note=note.strip())
    return reply


@transaction.atomic
def return_reply(*, actor, letter: Letter, reason: str) -> LetterReply:
    """A leader sends the draft back with the reason; it stays as history."""
    reason = _clean_text(reason, _("退回修改必须说明理由。"))
    letter = _locked(letter)
    _require_staff(actor, letter, letter_rules.LEADER_ROLES)
    if flows.target(Action.RETURN, letter.status) is None:
        raise IllegalTransition(_("该来信没有待审核的答复。"))
    reply = _reply_to_send(letter, ReplyStatus.PENDING)
    reply.status = ReplyStatus.RETURNED
    reply.return_reason = reason
    reply.decided_by = actor
    reply.decided_at = timezone.now()
    reply.save()
    _move(letter, Action.RETURN, actor=actor, note=reason, details={"reply": reply.pk})
    return reply


@transaction.atomic
def send_reply(*, actor, letter: Letter) -> LetterReply:
    """The handler sends the draft straight out (kinds that need no leader's approval)."""
    letter = _locked(letter)
    _require_handler(actor, letter)
    if needs_approval(letter):
        raise WorkflowError(_("该来信的答复须经领导审核后发出，请提交审核。"))
    if flows.target(Action.SEND, letter.status) is None:
        raise IllegalTransition(_("该来信当前不能答复。"))
    reply = _reply_to_send(letter, ReplyStatus.DRAFT)
    _send(letter, reply, Action.SEND, actor=actor)
    return reply


@transaction.atomic
def transfer(*, actor, letter: Letter, department, station=None, note: str) -> Letter:
    """转办: to another department (or station). The due date stays: the writer's clock does
    not restart because the bureau passed the letter on."""
    note = _clean_text(note, _("转办须说明理由。"))
    letter = _locked(letter)
    _require_staff(actor, letter, letter_rules.TRANSFER_ROLES)
    if letter.is_misconduct:
        raise WorkflowError(_("12389举报件只能由督察部门办理，不能转办。"))
    station_id = station.pk if station else None
    if department.pk == letter.department_id and station_id == letter.station_id:
        raise IllegalTransition(_("该来信已在此部门办理。"))
    if flows.target(Action.TRANSFER, letter.status) is None:
        raise IllegalTransition(
            _("来信当前状态为“%(status)s”，不能转办。") % {"status": letter.get_status_display()}
        )
    previous = letter.department
    discarded = _discard_open_reply(letter)
    _move(
        letter,
        Action.TRANSFER,
        actor=actor,
        note=note,
        department=department,
        station=station,
        handler=None,
        details={
            "from_department": previous.code,
            "to_department": department.code,
            "station": station.code if station else None,
            "due_date": letter.due_date.isoformat(),
            "discarded_reply": discarded,
        },
    )
    return letter


@transaction.atomic
def merge_duplicate(*, actor, letter: Letter, into: Letter, note: str = "") -> Letter:
    """A repeat of another letter is merged into it: it stays on the books as merged, and its
    writer hears the reply to `into`."""
    if letter.pk == into.pk:
        raise WorkflowError(_("不能将来信合并到其自身。"))
    first, second = sorted([letter.pk, into.pk])
    locked = {
        row.pk: row
        for row in Letter.objects.select_for_update().filter(pk__in=[first, second]).order_by("pk")
    }
    letter, into = locked[letter.pk], locked[into.pk]
    _require_staff(actor, letter, letter_rules.MERGE_ROLES)
    if not letter_rules.can_read(actor, into):
        raise PermissionDenied(_("您无权查看要合并到的来信。"))
    if into.status in flows.FINAL:
        raise WorkflowError(_("不能合并到已撤回或已合并的来信。"))
    if letter.is_misconduct != into.is_misconduct:
        raise WorkflowError(_("12389举报件只能与12389举报件合并。"))
    discarded = _discard_open_reply(letter)
    event = _move(
        letter,
        Action.MERGE,
        actor=actor,
        note=note.strip(),
        merged_into=into,
        details={"into": into.number, "discarded_reply": discarded},
    )
    record(
        into,
        Action.MERGE,
        actor=actor,
        from_status=into.status,
        details={"duplicate": letter.number},
    )
    notifications.merged(letter, event)
    return letter


# --- publication -------------------------------------------------------------------------------


def _require_publisher(actor, letter: Letter) -> None:
    if not (
        letter_rules.can_handle(actor, letter, letter_rules.MANAGER_ROLES)
        or letter_rules.oversees(actor, letter)
    ):
        raise PermissionDenied(_("只有部门领导或信访监督员可以公开答复。"))


@transaction.atomic
def publish(*, actor, letter: Letter, public_subject: str, public_reply: str) -> Letter:
    """Show the letter on the public page of answered letters, in the redacted words staff
    supply; only with the writer's consent, and never text with an ID, card, mobile number
    or e-mail address in it."""
    public_subject = _clean_text(public_subject, _("请填写公开标题。"))
    public_reply = _clean_text(public_reply, _("请填写公开的答复内容。"))
    letter = _locked(letter)
    _require_publisher(actor, letter)
    if letter.is_misconduct:
        raise WorkflowError(_("12389举报件不公开。"))
    if not letter.publish_consent:
        raise WorkflowError(_("来信人未同意公开，不能公开。"))
    found = redaction.personal_data_in(f"{public_subject}\n{public_reply}")
    if found:
        labels = "、".join(str(redaction.LABELS[kind]) for kind in found)
        raise WorkflowError(
            _("公开内容中仍有个人信息（%(kinds)s），请删除或遮盖后再公开。") % {"kinds": labels}
        )
    _move(
        letter,
        Action.PUBLISH,
        actor=actor,
        public=True,
        public_subject=public_subject,
        public_reply=public_reply,
        published_at=timezone.now(),
    )
    return letter


@transaction.atomic
def unpublish(*, actor, letter: Letter, reason: str) -> Letter:
    reason = _clean_text(reason, _("撤销公开须说明理由。"))
    letter = _locked(letter)
    _require_publisher(actor, letter)
    if not letter.public:
        raise IllegalTransition(_("该来信未公开。"))
    _move(letter, Action.UNPUBLISH, actor=actor, note=reason, public=False, published_at=None)
    return letter


# --- the writer --------------------------------------------------------------------------------


def _current_reply(letter: Letter) -> LetterReply:
    return LetterReply.objects.select_for_update().get(
        letter=letter, round=letter.round, status=ReplyStatus.SENT
    )


@transaction.atomic
def rate(
    *, actor, letter: Letter, level: int, comment: str = "", code: str | None = None
) -> LetterReply:
    """好差评 of the reply: once per round (a reopened letter's second reply is rated again)."""
    letter = _locked(letter)
    who, label = _writer_identity(actor, letter, code)
    if flows.target(Action.RATE, letter.status) is None:
        raise WorkflowError(_("答复后才能评价。"))
    try:
        level = RatingLevel(int(level))
    except (TypeError, ValueError) as exc:
        raise WorkflowError(_("请选择评价等级。")) from exc
    reply = _current_reply(letter)
    if reply.rating_level is not None:
        raise WorkflowError(_("您已评价过本次答复。"))
    now = timezone.now()
    reply.rating_level, reply.rating_comment, reply.rated_at = level, comment.strip(), now
    reply.save()
    event = _move(
        letter,
        Action.RATE,
        actor=who,
        actor_label=label,
        rating_level=level,
        rating_comment=comment.strip(),
        rated_at=now,
        details={"level": int(level), "round": letter.round},
    )
    if level <= RatingLevel.DISSATISFIED:
        notifications.bad_rating(letter, event, _department_staff(letter, ("supervisor",)))
    return reply


@transaction.atomic
def reopen(*, actor, letter: Letter, reason: str = "", code: str | None = None) -> Letter:
    """Once, after the writer rated the reply dissatisfied: the letter goes back to its handler
    with a new due date counted from today."""
    letter = _locked(letter)
    who, label = _writer_identity(actor, letter, code)
    if flows.target(Action.REOPEN, letter.status) is None:
        raise IllegalTransition(_("只有已答复的来信可以申请重新办理。"))
    if letter.reopened_count >= 1:
        raise WorkflowError(_("每封来信只能申请重新办理一次。"))
    if letter.rating_level is None or letter.rating_level > RatingLevel.DISSATISFIED:
        raise WorkflowError(_("对答复评价为“不满意”或“非常不满意”后，才能申请重新办理。"))
    start = today()
    due, provisional = due_date_from(start, letter.kind)
    event = _move(
        letter,
        Action.REOPEN,
        actor=who,
        actor_label=label,
        note=reason.strip(),
        round=letter.round + 1,
        reopened_count=letter.reopened_count + 1,
        clock_started_on=start,
        due_date=due,
        due_date_provisional=provisional,
        replied_at=None,
        rating_level=None,
        rating_comment="",
        rated_at=None,
        details={"due_date": due.isoformat(), "provisional": provisional},
    )
    staff = [letter.handler] if letter.handler else []
    staff += list(_department_staff(letter, ("supervisor",)))
    notifications.reopened(letter, event, staff)
    return letter


@transaction.atomic
def withdraw(*, actor, letter: Letter, reason: str = "", code: str | None = None) -> Letter:
    """The writer withdraws an unanswered letter; it stays on the books as withdrawn."""
    letter = _locked(letter)
    who, label = _writer_identity(actor, letter, code)
    if flows.target(Action.WITHDRAW, letter.status) is None:
        raise IllegalTransition(_("该来信已答复或已结束，不能撤回。"))
    discarded = _discard_open_reply(letter)
    _move(
        letter,
        Action.WITHDRAW,
        actor=who,
        actor_label=label,
        note=reason.strip(),
        details={"discarded_reply": discarded},
    )
    return letter


@transaction.atomic
def withdraw_consent(*, actor, letter: Letter, code: str | None = None) -> Letter:
    """The writer no longer agrees to publication; a published reply comes off at once."""
    letter = _locked(letter)
    who, label = _writer_identity(actor, letter, code)
    if not letter.publish_consent:
        return letter
    _move(
        letter,
        Action.WITHDRAW_CONSENT,
        actor=who,
        actor_label=label,
        publish_consent=False,
        public=False,
        published_at=None,
        details={"was_public": letter.public},
    )
    return letter


# --- the clock ---------------------------------------------------------------------------------


@transaction.atomic
def confirm_due_date(*, letter: Letter) -> Letter | None:
    """Recompute a provisional due date once its calendar year is confirmed (the sweep calls
    this). Returns the letter when the date is now final, else None."""
    letter = _locked(letter)
    if not letter.due_date_provisional or flows.target(Action.SET_DUE_DATE, letter.status) is None:
        return None
    try:
        due = workdays.add_working_days(letter.clock_started_on, reply_days(letter.kind))
    except workdays.CalendarNotConfirmed:
        return None
    previous = letter.due_date
    _move(
        letter,
        Action.SET_DUE_DATE,
        actor=None,
        actor_label="system:sweep_deadlines",
        due_date=due,
        due_date_provisional=False,
        details={"from_due_date": previous.isoformat(), "due_date": due.isoformat()},
    )
    return letter
