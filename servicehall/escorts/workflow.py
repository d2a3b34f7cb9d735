"""The only code that changes an escort request's status.

Every verb takes a keyword-only `actor` (None only for the sweep), runs in one transaction
with the request's row locked (SELECT … FOR UPDATE), checks the transition against
models.TRANSITIONS, stamps who and when on the row, writes an EscortEvent and an audit entry,
and queues its SMS / e-mails in the outbox in that same transaction. Verbs never take a
request. A double submit (same `client_token`) returns the request already made.

The sweep (`sweep_overdue`, run by `manage.py sweep_escorts`) marks requests left unanswered
past their response limit and escalates each once: the mark is a guarded UPDATE
(… WHERE status = 'requested' AND overdue_at IS NULL), so of several sweeps running at once
exactly one wins each request and only that one writes the event and sends the e-mails.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from servicehall.accounts.models import Station
from servicehall.core import audit
from servicehall.notify import outbox

from . import rules
from .models import TRANSITIONS, EscortEvent, EscortRequest, Status

# How far ahead a request may be made: escorts are planned in the duty rota of the coming
# weeks, not months.
MAX_DAYS_AHEAD = 30
SWEEP_LABEL = "system:sweep_escorts"


class EscortError(Exception):
    """A refusal the user should read; `code` says which, `field` which form field."""

    def __init__(self, message: str, code: str, field: str | None = None):
        super().__init__(message)
        self.code = code
        self.field = field


# --- who handles it -------------------------------------------------------------------------


def duty_station(district) -> Station | None:
    """The station that handles escorts picked up in `district`.

    The request names the pickup district, not a street beat: the hall has no beat
    boundaries (geodata) to find the station of an address, and a requester cannot be
    expected to know it. Escort duty is therefore held per district, by the district's first
    station in code order — the bureau codes its stations so that the one holding the
    district's escort duty (usually the station of the branch's seat) sorts first; the demo
    has one station per district. A district without a station cannot take requests.
    """
    if district is None:
        return None
    return Station.objects.filter(district=district).order_by("code").first()


# --- checking a request -----------------------------------------------------------------------


def max_amount() -> Decimal:
    return Decimal(settings.ESCORT_MAX_AMOUNT_YUAN)


def amount_error(amount) -> str | None:
    if amount is None:
        return _("请填写金额。")
    try:
        amount = amount if isinstance(amount, Decimal) else Decimal(str(amount))
    except ArithmeticError:
        return _("请填写数字金额，例如 500000 或 500000.00。")
    if not amount.is_finite():
        return _("请填写数字金额，例如 500000 或 500000.00。")
    if amount <= 0:
        return _("金额应大于0元。")
    if amount > max_amount():
        return _("单次护送金额不能超过%(max)s元，请分次申请或与辖区派出所联系。") % {
            "max": f"{max_amount():,.0f}"
        }
    if amount != amount.quantize(Decimal("0.01")):
        return _("金额最多保留两位小数（精确到分）。")
    return None


def earliest_start(now: datetime) -> datetime:
    return now + timedelta(hours=settings.ESCORT_MIN_LEAD_HOURS)


def window(day: date, start: time, end: time) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    return (
        timezone.make_aware(datetime.combine(day, start), tz),
        timezone.make_aware(datetime.combine(day, end), tz),
    )


def request_errors(
    *, day: date | None, start: time | None, end: time | None, amount, now: datetime
) -> dict[str, str]:
    """What is wrong with a request's date, window and amount, by form field (empty: fine).
    The form and request_escort both use it, so the page and the verb never disagree."""
    errors: dict[str, str] = {}
    if (message := amount_error(amount)) is not None:
        errors["amount"] = message
    if day is None or start is None or end is None:
        return errors  # the form reports the missing field itself
    today = timezone.localdate(now)
    if day < today:
        errors["date"] = _("护送日期不能早于今天。")
        return errors
    if day > today + timedelta(days=MAX_DAYS_AHEAD):
        errors["date"] = _("只能申请%(days)d天以内的护送。") % {"days": MAX_DAYS_AHEAD}
        return errors
    if end <= start:
        errors["end_time"] = _("结束时间应晚于开始时间。")
    window_start, _window_end = window(day, start, end)
    soonest = earliest_start(now)
    if window_start < soonest:
        errors["start_time"] = _(
            "请至少提前%(hours)d小时申请护送，最早可申请%(when)s开始的护送。"
        ) % {
            "hours": settings.ESCORT_MIN_LEAD_HOURS,
            "when": timezone.localtime(soonest).strftime("%Y-%m-%d %H:%M"),
        }
    return errors


def _phone(value) -> str:
    phone = outbox.normalise_phone(value)
    if not phone:
        raise EscortError(
            _("请填写正确的手机号码，用于接收受理结果短信。"), "bad_phone", "contact_phone"
        )
    return phone


def _text(value, field: str, message: str, limit: int) -> str:
    text = " ".join(str(value or "").split())
    if not text:
        raise EscortError(message, "missing", field)
    return text[:limit]


# --- events ------------------------------------------------------------------------------


def record(escort, action, *, actor, now, from_status="", details=None, actor_label=""):
    details = details or {}
    event = EscortEvent.objects.create(
        escort=escort,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        from_status=from_status,
        to_status=escort.status,
        details=details,
        at=now,
    )
    audit.record(
        actor=actor,
        actor_label=actor_label,
        action=f"escort.{action}",
        target=escort,
        target_repr=str(escort),
        details={"from": from_status, "to": escort.status, **details},
    )
    return event


def transition(escort, to_status, *, actor, action, now, fields=(), details=None):
    """Move a (locked) request to `to_status`, saving `fields` stamped with it, and record
    it; the one place a status changes."""
    from_status = escort.status
    if to_status not in TRANSITIONS.get(from_status, set()):
        raise EscortError(
            _("护送申请当前状态为“%(status)s”，不能进行此操作。")
            % {"status": Status(from_status).label},
            "wrong_state",
        )
    escort.status = to_status
    escort.save(update_fields=["status", *fields])
    return record(escort, action, actor=actor, now=now, from_status=from_status, details=details)


def _locked(escort) -> EscortRequest:
    return (
        EscortRequest.objects.select_for_update(of=("self",))
        .select_related("station", "district")
        .get(pk=escort.pk)
    )


# --- notifications (queued in the caller's transaction) --------------------------------------
# Texts are stored in Chinese, the language of the hall's SMS sender, whatever the page's
# language; they carry the request number and the station, never the amount or the route
# (an SMS is read over shoulders, and the route of a cash transport is worth protecting).


def _sms(escort, text: str, what: str) -> None:
    outbox.notify_sms(
        escort.contact_phone, text, dedupe_key=f"escort:{escort.pk}:{what}", about=escort
    )


def _email_staff(users, text: str, key: str, escort) -> None:
    for user in users:
        if user.email:
            outbox.notify_email(
                user.email, text[:60], text, dedupe_key=f"{key}:{user.pk}", about=escort
            )


def duty_staff(escort) -> list:
    return list(
        get_user_model()
        .objects.filter(
            is_active=True,
            staff_profile__station_id=escort.station_id,
            role_assignments__role__in=rules.DUTY_ROLES,
        )
        .distinct()
    )


def supervisors(escort) -> list:
    """The pickup district's supervisors (district-branch level); when the district has none,
    the bureau's, so that an escalation always reaches someone."""
    people = get_user_model().objects.filter(
        is_active=True, role_assignments__role__in=rules.SUPERVISOR_ROLES
    )
    district = list(
        people.filter(
            staff_profile__district_id=escort.district_id, staff_profile__station__isnull=True
        ).distinct()
    )
    if district:
        return district
    return list(
        people.filter(
            staff_profile__district__isnull=True, staff_profile__station__isnull=True
        ).distinct()
    )


def _when(escort) -> str:
    start = timezone.localtime(escort.window_start)
    return f"{start:%Y-%m-%d %H:%M}–{timezone.localtime(escort.window_end):%H:%M}"


# --- the verbs ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Submitted:
    escort: EscortRequest
    created: bool


def request_escort(
    *,
    actor,
    client_token: str,
    date: date,
    start_time: time,
    end_time: time,
    district,
    pickup_address: str,
    destination_address: str,
    amount: Decimal,
    contact_phone: str,
    organisation: str,
    enterprise=None,
    note: str = "",
    now: datetime | None = None,
) -> Submitted:
    """A citizen or an enterprise agent asks for an escort; the pickup district's duty
    station must answer within ESCORT_RESPONSE_HOURS. The same `client_token` again returns
    the request already made (created=False)."""
    if not client_token or len(client_token) > 64:
        raise ValueError("request_escort() needs a client_token of 1 to 64 characters")
    now = now or timezone.now()
    existing = EscortRequest.objects.filter(client_token=client_token).first()
    if existing is not None:
        return _same_submit(existing, actor)
    if not rules.may_request(actor):
        raise PermissionDenied(_("只有完成实名认证的个人用户或企业经办人可以申请护送。"))
    if actor.is_enterprise_agent and not rules.acts_for(actor, enterprise):
        raise PermissionDenied(_("您不是该单位的授权经办人，不能以单位名义申请护送。"))
    if not actor.is_enterprise_agent:
        enterprise = None
    if amount is not None and not isinstance(amount, Decimal):
        amount = Decimal(str(amount)) if amount_error(amount) is None else amount
    errors = request_errors(day=date, start=start_time, end=end_time, amount=amount, now=now)
    if errors:
        field, message = next(iter(errors.items()))
        raise EscortError(message, "bad_request", field)
    station = duty_station(district)
    if station is None:
        raise EscortError(
            _("该区县暂未开通网上护送申请，请拨打110或与当地派出所联系。"), "no_station", "district"
        )
    window_start, window_end = window(date, start_time, end_time)
    fields = {
        "requester": actor,
        "enterprise": enterprise,
        "organisation": _text(organisation, "organisation", _("请填写银行或单位名称。"), 100),
        "contact_phone": _phone(contact_phone),
        "date": date,
        "window_start": window_start,
        "window_end": window_end,
        "district": district,
        "station": station,
        "pickup_address": _text(pickup_address, "pickup_address", _("请填写取款地点。"), 200),
        "destination_address": _text(
            destination_address, "destination_address", _("请填写送达地点。"), 200
        ),
        "amount": amount,
        "note": " ".join(str(note or "").split())[:300],
        "client_token": client_token,
        "created_at": now,
        "respond_by": now + timedelta(hours=settings.ESCORT_RESPONSE_HOURS),
    }
    try:
        with transaction.atomic():
            escort = EscortRequest.objects.create(**fields)
            escort.number = f"HS{timezone.localdate(now):%Y%m%d}{escort.pk:06d}"
            escort.save(update_fields=["number"])
            record(escort, "request", actor=actor, now=now, details={"station": station.code})
            _sms(
                escort,
                f"您的护送申请{escort.number}已提交，由{station.name}受理，"
                f"将于{timezone.localtime(escort.respond_by):%H:%M}前答复。",
                "requested",
            )
            _email_staff(
                duty_staff(escort),
                f"【护送申请】{escort.number}：{_when(escort)}，请于"
                f"{timezone.localtime(escort.respond_by):%m-%d %H:%M}前受理或答复。",
                f"escort:{escort.pk}:requested",
                escort,
            )
    except IntegrityError:
        # A concurrent double submit committed first.
        existing = EscortRequest.objects.filter(client_token=client_token).first()
        if existing is None:
            raise
        return _same_submit(existing, actor)
    return Submitted(escort, True)


def _same_submit(existing: EscortRequest, actor) -> Submitted:
    if existing.requester_id != getattr(actor, "pk", None):
        raise EscortError(_("提交标识已被使用，请刷新页面后重新提交。"), "token_reused")
    return Submitted(existing, False)


def _handle(escort, actor, message: str) -> EscortRequest:
    escort = _locked(escort)
    if not rules.can_handle(actor, escort):
        raise PermissionDenied(message)
    return escort


def accept(*, actor, escort, note: str = "", now: datetime | None = None) -> EscortRequest:
    now = now or timezone.now()
    with transaction.atomic():
        escort = _handle(escort, actor, _("只有受理派出所的值班或领导民警可以受理护送申请。"))
        escort.accepted_at, escort.responded_by = now, actor
        transition(
            escort,
            Status.ACCEPTED,
            actor=actor,
            action="accept",
            now=now,
            fields=("accepted_at", "responded_by"),
            details={"note": note[:300]} if note else None,
        )
        _sms(
            escort,
            f"您的护送申请{escort.number}（{_when(escort)}）已由{escort.station.name}受理，"
            "派警后将再次短信通知。",
            "accepted",
        )
    return escort


def decline(*, actor, escort, reason: str, now: datetime | None = None) -> EscortRequest:
    now = now or timezone.now()
    reason = " ".join(str(reason or "").split())[:300]
    if not reason:
        raise EscortError(_("请填写不予护送的理由，申请人会收到这一理由。"), "missing", "reason")
    with transaction.atomic():
        escort = _handle(escort, actor, _("只有受理派出所的值班或领导民警可以答复护送申请。"))
        escort.declined_at, escort.responded_by, escort.decline_reason = now, actor, reason
        transition(
            escort,
            Status.DECLINED,
            actor=actor,
            action="decline",
            now=now,
            fields=("declined_at", "responded_by", "decline_reason"),
            details={"reason": reason},
        )
        _sms(
            escort,
            f"您的护送申请{escort.number}未能安排护送，理由：{reason}。"
            f"如有疑问请联系{escort.station.name}。",
            "declined",
        )
    return escort


def cancel(*, actor, escort, reason: str = "", now: datetime | None = None) -> EscortRequest:
    """The requester withdraws the request before officers are dispatched."""
    now = now or timezone.now()
    reason = " ".join(str(reason or "").split())[:200]
    with transaction.atomic():
        escort = _locked(escort)
        if not rules.is_requester(actor, escort):
            raise PermissionDenied(_("只有申请人本人可以取消护送申请。"))
        was_accepted = escort.status == Status.ACCEPTED
        escort.cancelled_at, escort.cancel_reason = now, reason
        transition(
            escort,
            Status.CANCELLED,
            actor=actor,
            action="cancel",
            now=now,
            fields=("cancelled_at", "cancel_reason"),
            details={"reason": reason} if reason else None,
        )
        if was_accepted:  # the station may already have planned officers for it
            _email_staff(
                duty_staff(escort),
                f"【护送取消】已受理的护送申请{escort.number}（{_when(escort)}）已由申请人取消。",
                f"escort:{escort.pk}:cancelled",
                escort,
            )
    return escort


def dispatch(
    *,
    actor,
    escort,
    officers: str = "",
    vehicle: str = "",
    lead_officer=None,
    now: datetime | None = None,
) -> EscortRequest:
    """Officers (free text, and/or a staff member leading) and a vehicle are assigned."""
    now = now or timezone.now()
    officers = " ".join(str(officers or "").split())[:200]
    if not officers and lead_officer is None:
        raise EscortError(_("请填写护送民警，或选择带队民警。"), "missing", "officers")
    if lead_officer is not None and not getattr(lead_officer, "is_staff_member", False):
        raise EscortError(_("带队民警应为本局在职民警。"), "bad_officer", "lead_officer")
    with transaction.atomic():
        escort = _handle(escort, actor, _("只有受理派出所的值班或领导民警可以派警。"))
        escort.dispatched_at, escort.dispatched_by = now, actor
        escort.officers, escort.vehicle = officers, " ".join(str(vehicle or "").split())[:100]
        escort.lead_officer = lead_officer
        transition(
            escort,
            Status.DISPATCHED,
            actor=actor,
            action="dispatch",
            now=now,
            fields=("dispatched_at", "dispatched_by", "officers", "vehicle", "lead_officer"),
            details={
                "officers": officers,
                "vehicle": escort.vehicle,
                "lead_officer": lead_officer.pk if lead_officer else None,
            },
        )
        _sms(
            escort,
            f"您的护送申请{escort.number}已派警，民警将按约定时间（{_when(escort)}）到达取款地点，"
            "请核验民警证件后再交接款项。",
            "dispatched",
        )
    return escort


def start(*, actor, escort, now: datetime | None = None) -> EscortRequest:
    now = now or timezone.now()
    with transaction.atomic():
        escort = _handle(escort, actor, _("只有受理派出所的值班或领导民警可以登记护送开始。"))
        escort.started_at, escort.started_by = now, actor
        transition(
            escort,
            Status.IN_PROGRESS,
            actor=actor,
            action="start",
            now=now,
            fields=("started_at", "started_by"),
        )
    return escort


def complete(
    *,
    actor,
    escort,
    actual_start: datetime,
    actual_end: datetime,
    handed_over_amount: Decimal,
    confirmed: bool,
    notes: str = "",
    now: datetime | None = None,
) -> EscortRequest:
    """The record: when the escort really ran, the amount handed over at the destination
    (confirmed by both sides), and notes."""
    now = now or timezone.now()
    if actual_start is None or actual_end is None:
        raise EscortError(_("请填写实际开始和结束时间。"), "missing", "actual_start")
    if actual_end <= actual_start:
        raise EscortError(_("实际结束时间应晚于实际开始时间。"), "bad_period", "actual_end")
    if actual_end > now + timedelta(minutes=5):
        raise EscortError(_("实际结束时间不能晚于现在。"), "future", "actual_end")
    if (message := amount_error(handed_over_amount)) is not None:
        raise EscortError(message, "bad_amount", "handed_over_amount")
    handed_over_amount = Decimal(str(handed_over_amount))
    if not confirmed:
        raise EscortError(_("请确认交接金额已由双方当面清点无误。"), "not_confirmed", "confirmed")
    with transaction.atomic():
        escort = _handle(escort, actor, _("只有受理派出所的值班或领导民警可以登记护送记录。"))
        escort.completed_at, escort.completed_by = now, actor
        escort.actual_start, escort.actual_end = actual_start, actual_end
        escort.handed_over_amount = handed_over_amount
        escort.record_notes = (notes or "").strip()[:2000]
        transition(
            escort,
            Status.COMPLETED,
            actor=actor,
            action="complete",
            now=now,
            fields=(
                "completed_at",
                "completed_by",
                "actual_start",
                "actual_end",
                "handed_over_amount",
                "record_notes",
            ),
            details={
                "actual_start": actual_start.isoformat(),
                "actual_end": actual_end.isoformat(),
                "handed_over_amount": str(handed_over_amount),
                "confirmed": True,
            },
        )
    return escort


# --- the response-limit sweep ------------------------------------------------------------------


def sweep_overdue(now: datetime | None = None) -> list[str]:
    """Mark every request still unanswered past its response limit and escalate it, once, to
    the district's supervisors. Returns the numbers this call escalated."""
    now = now or timezone.now()
    escalated = []
    due = EscortRequest.objects.filter(
        status=Status.REQUESTED, overdue_at__isnull=True, respond_by__lt=now
    ).order_by("respond_by", "pk")
    for pk in list(due.values_list("pk", flat=True)):
        with transaction.atomic():
            won = EscortRequest.objects.filter(
                pk=pk, status=Status.REQUESTED, overdue_at__isnull=True
            ).update(overdue_at=now)
            if not won:
                continue  # answered, cancelled or marked by another sweep meanwhile
            escort = EscortRequest.objects.select_related("station").get(pk=pk)
            record(
                escort,
                "overdue",
                actor=None,
                actor_label=SWEEP_LABEL,
                now=now,
                from_status=escort.status,
                details={"respond_by": escort.respond_by.isoformat()},
            )
            _email_staff(
                supervisors(escort),
                f"【护送超时督办】{escort.station.name}未在"
                f"{timezone.localtime(escort.respond_by):%m-%d %H:%M}前答复护送申请"
                f"{escort.number}（{_when(escort)}），请督促处理。",
                f"escort:{escort.pk}:overdue",
                escort,
            )
            escalated.append(escort.number)
    return escalated


__all__ = [
    "EscortError",
    "Submitted",
    "accept",
    "cancel",
    "complete",
    "decline",
    "dispatch",
    "duty_station",
    "request_errors",
    "request_escort",
    "start",
    "sweep_overdue",
    "transition",
]
