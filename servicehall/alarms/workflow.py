"""The only code that changes an incident's, a unit's or an SMS thread's status, the standard
timestamps, and unit assignments.

Every verb takes a keyword-only `actor` (None only for the SMS gateway's `receive_sms`),
runs in one transaction with the rows it changes locked, checks the actor's right (rules.py),
writes an IncidentEvent and an audit entry for every transition, queues its SMS in the
notify outbox in that same transaction, and announces the change to live consoles after
commit (live.publish). Verbs never take a request. `now` is for tests and replays.

Lock order, always: incident(s) by primary key, then unit, then SMS thread — so two verbs
never wait on each other in a circle.

A unit is never dispatched twice: assign_unit moves it with one guarded UPDATE (… SET
status = 'dispatched' WHERE id = … AND status = 'available'), and a partial UNIQUE allows
one open assignment per unit.

The 12110 SMS verbs are in sms.py, built on `transition` and `record` here.
"""

from __future__ import annotations

import re
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from servicehall.core import audit
from servicehall.notify import outbox

from . import geo, live, sql
from . import rules as alarm_rules
from .models import (
    LINE_DESK,
    OPEN_STATUSES,
    TRANSITIONS,
    UNIT_TRANSITIONS,
    Assignment,
    Channel,
    CloseOutcome,
    Desk,
    Incident,
    IncidentEvent,
    IncidentType,
    Priority,
    SmsThread,
    Status,
    ThreadStatus,
    Unit,
    UnitStatus,
    desk_fields,
)

_PHONE_NOISE = re.compile(r"[\s\-()（）]")
_CALLER_NUMBER = re.compile(r"^\+?\d{3,20}$")


class AlarmError(ValidationError):
    """A refusal the user should read (Chinese); `code` says which."""

    def __init__(self, message: str, code: str):
        super().__init__(message, code=code)

    def __str__(self):
        return self.message


# --- input -----------------------------------------------------------------------------------


def clean_text(value, *, limit: int, label: str, required: bool = False) -> str:
    text = ("" if value is None else str(value)).strip()
    if required and not text:
        raise AlarmError(_("请填写%(label)s。") % {"label": label}, "required")
    if len(text) > limit:
        raise AlarmError(
            _("%(label)s不能超过%(limit)d个字。") % {"label": label, "limit": limit}, "too_long"
        )
    return text


def _caller_number(value) -> str:
    """A caller's number as dialled digits (mobile or landline; empty when withheld)."""
    text = _PHONE_NOISE.sub("", "" if value is None else str(value))
    if text and not _CALLER_NUMBER.match(text):
        raise AlarmError(_("报警电话号码格式不正确。"), "bad_phone")
    return text


def clean_mobile(value) -> str:
    phone = outbox.normalise_phone(value)
    if phone is None:
        raise AlarmError(_("手机号码格式不正确，无法收发短信。"), "bad_phone")
    return phone


def _coordinates(lat, lon):
    pair = geo.coordinate_pair(lat, lon)
    if pair is None:
        raise AlarmError(
            _("经纬度无效：纬度应在-90至90之间，经度应在-180至180之间，且须同时填写。"),
            "bad_coordinates",
        )
    return pair


def _desks(desks) -> set[str]:
    desks = {str(desk) for desk in desks or ()}
    if not desks or not desks <= set(Desk.values):
        raise AlarmError(_("请至少选择一个警种（110、119、122）。"), "bad_desks")
    return desks


def _choice(value, choices, message: str, code: str):
    if value in (None, ""):
        return value
    if value not in choices.values:
        raise AlarmError(message, code)
    return choices(value)


def not_future(moment: datetime | None, now: datetime) -> datetime:
    # A gateway's or exchange's clock may run ahead of ours; the timeline must not.
    return now if moment is None or moment > now else moment


# --- events ----------------------------------------------------------------------------------


def _actor_label(actor, label: str) -> str:
    return "" if getattr(actor, "is_authenticated", False) else (label or "system")


def record(incident: Incident | None, action: str, *, earlier: tuple = (), **step):
    """An event on the timeline and its audit entry (both in the caller's transaction, one
    round trip); `step`: what `drafted` takes (actor, at, from_status, details, unit,
    actor_label). `earlier`: steps of the same change drafted before, written ahead of this
    one in the same round trip."""
    event, entry = drafted(incident, action, **step)
    audit.record(
        **entry,
        along=(*(e for e, _ in earlier), event),
        before=tuple(audit.draft(**d) for _, d in earlier),
    )
    return event


def drafted(
    incident: Incident | None,
    action: str,
    *,
    actor,
    at: datetime,
    from_status: str = "",
    details: dict | None = None,
    unit: Unit | None = None,
    actor_label: str = "",
) -> tuple[IncidentEvent, dict]:
    """A step's event (not inserted) and the arguments of its audit entry: what `record`
    writes, or passes `earlier` than another step."""
    details = details or {}
    event = IncidentEvent(
        incident=incident,
        unit=unit,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        actor_label=_actor_label(actor, actor_label),
        action=action,
        from_status=from_status,
        to_status=incident.status if incident is not None else (unit.status if unit else ""),
        details=details,
        at=at,
    )
    entry = {
        "actor": actor,
        "actor_label": _actor_label(actor, actor_label),
        "action": f"alarm.{action}",
        "target": incident if incident is not None else unit,
        "details": {"from": from_status, "to": event.to_status, **details},
    }
    return event, entry


def transition(incident: Incident, to_status: str, *, actor, action: str, at, **kwargs):
    """Move a locked incident to `to_status` and record it: the one place its status changes
    (the caller has set the timestamps that go with it)."""
    from_status = incident.status
    if to_status not in TRANSITIONS.get(from_status, frozenset()):
        raise AlarmError(
            _("警情当前状态为“%(status)s”，不能进行此操作。")
            % {"status": Status(from_status).label},
            "wrong_state",
        )
    incident.status = to_status
    incident.save()
    return record(incident, action, actor=actor, at=at, from_status=from_status, **kwargs)


def incident_payload(incident: Incident, moved_from: dict | None = None) -> dict:
    """The console's notice of a change. `moved_from` ({"desks", "district"} before the
    change) routes it also to the consoles the incident just left, whose lists must drop it."""
    payload = {
        "incident": incident.pk,
        "number": incident.number,
        "status": incident.status,
        **routing_of(incident),
    }
    if moved_from is not None and moved_from != routing_of(incident):
        payload["moved_from"] = moved_from
    return payload


def routing_of(incident: Incident) -> dict:
    """Which consoles an incident's notices reach (live.groups_for_event)."""
    return {"desks": sorted(incident.desks), "district": incident.district_id}


def publish_after_commit(kind: str, payload: dict) -> None:
    # Looked up at call time, so the console (or a test) can replace live.publish.
    transaction.on_commit(lambda: live.publish(kind, payload))


# --- access and locks ---------------------------------------------------------------------------


def locked_incident(incident: Incident) -> Incident:
    return Incident.objects.select_for_update().get(pk=incident.pk)


def require_work(actor, incident: Incident) -> None:
    if not alarm_rules.may_work(actor, incident):
        raise PermissionDenied(_("您无权处理此警情（不属于您的警种或辖区）。"))


def _require_open(incident: Incident) -> None:
    if incident.status not in OPEN_STATUSES:
        raise AlarmError(
            _("警情%(status)s，不能再操作。") % {"status": Status(incident.status).label},
            "not_open",
        )


def next_number(now: datetime) -> str:
    day = timezone.localdate(now)
    with connection.cursor() as cursor:
        cursor.execute(sql.NEXT_INCIDENT_NUMBER, [connection.ops.adapt_datefield_value(day)])
        (last,) = cursor.fetchone()
    return f"JJ{day:%Y%m%d}{last:05d}"


# --- incidents -------------------------------------------------------------------------------


def create_from_call(
    *,
    actor,
    line: str,
    caller_number: str = "",
    caller_name: str = "",
    summary: str = "",
    address: str = "",
    lat=None,
    lon=None,
    district=None,
    incident_type: str = "",
    priority: int | None = None,
    received_at: datetime | None = None,
    answered: bool = True,
    now: datetime | None = None,
) -> Incident:
    """A call-taker records a call on 110/119/122; the line gives the first desk.
    `received_at` is when the call reached the centre (the exchange's ring time; default
    now); `answered` (the usual case: the call-taker types while on the line) stamps
    answered_at now, otherwise the incident waits as a ringing call for `answer`."""
    now = now or timezone.now()
    if str(line) not in LINE_DESK:
        raise AlarmError(_("报警电话应为110、119或122。"), "bad_line")
    if not alarm_rules.may_take(actor, line):
        raise PermissionDenied(_("您无权受理该报警电话（不属于您的警种）。"))
    fields = {
        "caller_number": _caller_number(caller_number),
        "caller_name": clean_text(caller_name, limit=64, label=_("报警人姓名")),
        "summary": clean_text(summary, limit=2000, label=_("警情摘要")),
        "address": clean_text(address, limit=200, label=_("事发地点")),
        "incident_type": _choice(incident_type, IncidentType, _("警情类别无效。"), "bad_type")
        or "",
        "priority": _choice(priority, Priority, _("优先级无效。"), "bad_priority")
        or Priority.URGENT,
        "district": district,
    }
    fields["lat"], fields["lon"] = _coordinates(lat, lon)
    received_at = not_future(received_at, now)
    with transaction.atomic():
        incident = Incident.objects.create(
            number=next_number(now),
            channel=Channel.CALL,
            line=str(line),
            status=Status.ANSWERED if answered else Status.NEW,
            received_at=received_at,
            answered_at=now if answered else None,
            created_by=actor,
            **desk_fields({LINE_DESK[str(line)]}),
            **fields,
        )
        record(
            incident,
            "create_from_call",
            actor=actor,
            at=now,
            details={"line": str(line), "answered": answered},
        )
        publish_after_commit("incident.created", incident_payload(incident))
    return incident


def create_from_letter(*, actor, letter, desks=(Desk.POLICE,), now=None) -> Incident:
    """Escalate an online-110 letter to an incident (once: again returns the same one). Its
    first contact is the letter's receipt; the escalation is its answer."""
    from servicehall.letters.flows import Channel as LetterChannel

    now = now or timezone.now()
    desks = _desks(desks)
    if letter.channel != LetterChannel.ONLINE110:
        raise AlarmError(_("只有网上110来信可以转为警情。"), "not_online110")
    if not alarm_rules.may_take_desks(actor, desks):
        raise PermissionDenied(_("您无权受理该警种的警情。"))
    with transaction.atomic():
        existing = Incident.objects.filter(letter=letter).first()
        if existing is not None:
            return existing
        lat, lon = geo.coordinate_pair(letter.lat, letter.long) or (None, None)
        incident = Incident.objects.create(
            number=next_number(now),
            channel=Channel.ONLINE110,
            status=Status.ANSWERED,
            letter=letter,
            caller_number="" if letter.anonymous else _PHONE_NOISE.sub("", letter.contact_phone),
            caller_name="" if letter.anonymous else letter.contact_name,
            summary=f"{letter.subject}\n{letter.body}"[:2000],
            address=letter.address,
            lat=lat,
            lon=lon,
            received_at=not_future(letter.received_at, now),
            answered_at=now,
            created_by=actor,
            **desk_fields(desks),
        )
        record(
            incident,
            "create_from_letter",
            actor=actor,
            at=now,
            details={"letter": letter.number, "desks": sorted(desks)},
        )
        publish_after_commit("incident.created", incident_payload(incident))
    return incident


def answer(*, actor, incident: Incident, now=None) -> Incident:
    """A call-taker picks up a ringing call (or takes up a new SMS alarm)."""
    now = now or timezone.now()
    with transaction.atomic():
        incident = locked_incident(incident)
        require_work(actor, incident)
        incident.answered_at = max(now, incident.received_at)
        transition(incident, Status.ANSWERED, actor=actor, action="answer", at=now)
        publish_after_commit("incident.changed", incident_payload(incident))
    return incident


def classify(
    *, actor, incident: Incident, desks=None, incident_type=None, priority=None, now=None
) -> Incident:
    """Set desks (police/fire/traffic, one or several), type and priority; what is not given
    stays. Handing an incident to another desk is classifying it so."""
    now = now or timezone.now()
    changes = {}
    if desks is not None:
        changes.update(desk_fields(_desks(desks)))
    if incident_type is not None:
        changes["incident_type"] = (
            _choice(incident_type, IncidentType, _("警情类别无效。"), "bad_type") or ""
        )
    if priority is not None:
        changes["priority"] = _choice(priority, Priority, _("优先级无效。"), "bad_priority")
    with transaction.atomic():
        incident = locked_incident(incident)
        require_work(actor, incident)
        _require_open(incident)
        was = routing_of(incident)
        before = {"desks": sorted(incident.desks), "type": incident.incident_type}
        before["priority"] = incident.priority
        for field, value in changes.items():
            setattr(incident, field, value)
        in_use = incident.assignments.filter(cleared_at__isnull=True).exclude(
            unit__desk__in=sorted(incident.desks)
        )
        if desks is not None and in_use.exists():
            raise AlarmError(_("仍有该警种的单位在处警，不能取消该警种。"), "desk_in_use")
        incident.save()
        after = {
            "desks": sorted(incident.desks),
            "type": incident.incident_type,
            "priority": incident.priority,
        }
        record(incident, "classify", actor=actor, at=now, details={"before": before, **after})
        publish_after_commit("incident.changed", incident_payload(incident, moved_from=was))
    return incident


def set_location(
    *, actor, incident: Incident, address=None, lat=None, lon=None, district=None, now=None
) -> Incident:
    """Where it happened: an address, WGS84 coordinates (both) and/or the district; what is
    not given stays."""
    now = now or timezone.now()
    changes = {}
    if address is not None:
        changes["address"] = clean_text(address, limit=200, label=_("事发地点"))
    if lat is not None or lon is not None:
        changes["lat"], changes["lon"] = _coordinates(lat, lon)
    if district is not None:
        changes["district"] = district
    if not changes:
        raise AlarmError(_("请填写事发地点、经纬度或区县。"), "required")
    with transaction.atomic():
        incident = locked_incident(incident)
        require_work(actor, incident)
        _require_open(incident)
        was = routing_of(incident)
        for field, value in changes.items():
            setattr(incident, field, value)
        incident.save()
        details = {
            "address": "address" in changes,
            "lat": str(incident.lat) if incident.lat is not None else None,
            "lon": str(incident.lon) if incident.lon is not None else None,
            "district": incident.district_id,
        }
        record(incident, "set_location", actor=actor, at=now, details=details)
        publish_after_commit("incident.changed", incident_payload(incident, moved_from=was))
    return incident


def merge(*, actor, incident: Incident, into: Incident, note: str = "", now=None) -> Incident:
    """`incident` reports the same event as `into` (see queries.duplicate_candidates): it
    ends as merged, its SMS threads continue on `into`. Only before units are sent to it."""
    now = now or timezone.now()
    note = clean_text(note, limit=200, label=_("合并说明"))
    if incident.pk == into.pk:
        raise AlarmError(_("不能与自身合并。"), "same")
    with transaction.atomic():
        first, second = sorted([incident.pk, into.pk])
        locked = {
            row.pk: row
            for row in Incident.objects.select_for_update().filter(pk__in=[first, second])
        }
        incident, into = locked[incident.pk], locked[into.pk]
        require_work(actor, incident)
        require_work(actor, into)
        _require_open(into)
        if incident.status not in (Status.NEW, Status.ANSWERED):
            raise AlarmError(_("已派警的警情不能并入其他警情。"), "dispatched")
        # Threads before the audit entries (lock order: incident, thread, audit chain).
        moved = list(
            SmsThread.objects.select_for_update()
            .filter(incident=incident)
            .values_list("pk", flat=True)
        )
        SmsThread.objects.filter(pk__in=moved).update(incident=into)
        incident.merged_into = into
        incident.closed_at = max(now, incident.received_at)
        transition(
            incident,
            Status.MERGED,
            actor=actor,
            action="merge",
            at=now,
            details={"into": into.number, "note": note},
        )
        record(
            into,
            "merge_in",
            actor=actor,
            at=now,
            details={"from": incident.number, "sms_threads": moved},
        )
        publish_after_commit("incident.changed", incident_payload(incident))
        publish_after_commit("incident.changed", incident_payload(into))
    return incident


def close(*, actor, incident: Incident, outcome: str, note: str = "", now=None) -> Incident:
    """Close an incident once every unit has cleared; its open SMS conversation ends too."""
    from . import sms  # sms builds on this module

    now = now or timezone.now()
    outcome = _choice(outcome, CloseOutcome, _("请选择处置结果。"), "bad_outcome")
    if not outcome:
        raise AlarmError(_("请选择处置结果。"), "bad_outcome")
    note = clean_text(note, limit=500, label=_("结警说明"))
    with transaction.atomic():
        incident = locked_incident(incident)
        require_work(actor, incident)
        if incident.assignments.filter(cleared_at__isnull=True).exists():
            raise AlarmError(_("尚有处警单位未收队，不能结警。"), "units_out")
        # Threads before the audit entries (lock order: incident, thread, audit chain).
        threads = list(incident.sms_threads.select_for_update().filter(status=ThreadStatus.OPEN))
        incident.closed_at = max(now, incident.received_at)
        incident.close_outcome = outcome
        transition(
            incident,
            Status.CLOSED,
            actor=actor,
            action="close",
            at=now,
            details={"outcome": str(outcome), "note": note},
        )
        for thread in threads:
            sms.close_open_thread(thread, incident, actor=actor, now=now)
        publish_after_commit("incident.changed", incident_payload(incident))
    return incident


# --- units -----------------------------------------------------------------------------------


def _unit_payload(unit: Unit, incident: Incident | None) -> dict:
    return {
        "unit": unit.pk,
        "code": unit.code,
        "status": unit.status,
        "desk": unit.desk,
        "district": unit.district_id,
        "incident": incident.pk if incident else None,
    }


def assign_unit(*, actor, incident: Incident, unit: Unit, now=None) -> Assignment:
    """Send an available unit to an incident (queries.nearest_units suggests which). The
    first unit sent stamps dispatched_at."""
    now = now or timezone.now()
    with transaction.atomic():
        incident = locked_incident(incident)
        unit = Unit.objects.get(pk=unit.pk)
        if not alarm_rules.may_dispatch(actor, incident, unit):
            raise PermissionDenied(_("您无权向此警情派出该单位（警种或辖区不符）。"))
        if incident.status == Status.NEW:
            raise AlarmError(_("请先接警，再派警。"), "not_answered")
        _require_open(incident)
        taken = Unit.objects.filter(pk=unit.pk, status=UnitStatus.AVAILABLE, is_active=True).update(
            status=UnitStatus.DISPATCHED, status_changed_at=now
        )
        if not taken:
            raise AlarmError(_("该单位当前不在待命状态，不能派出。"), "unit_busy")
        unit.status = UnitStatus.DISPATCHED
        distance = None
        if None not in (incident.lat, incident.lon, unit.lat, unit.lon):
            distance = round(geo.haversine_m(incident.lat, incident.lon, unit.lat, unit.lon))
        assignment = Assignment.objects.create(
            incident=incident,
            unit=unit,
            assigned_by=actor,
            assigned_at=max(now, incident.received_at),
            distance_m=distance,
        )
        details = {"unit": unit.code, "unit_status": unit.status, "distance_m": distance}
        if incident.dispatched_at is None:
            incident.dispatched_at = assignment.assigned_at
        if incident.status == Status.ANSWERED:
            transition(
                incident,
                Status.DISPATCHED,
                actor=actor,
                action="assign_unit",
                at=now,
                unit=unit,
                details=details,
            )
        else:
            incident.save()
            record(
                incident,
                "assign_unit",
                actor=actor,
                at=now,
                unit=unit,
                from_status=incident.status,
                details=details,
            )
        publish_after_commit("unit.changed", _unit_payload(unit, incident))
        publish_after_commit("incident.changed", incident_payload(incident))
    return assignment


def _lock_unit(unit: Unit) -> tuple[Unit, Incident | None, Assignment | None]:
    """Lock the incident the unit works for (if any), then the unit (the lock order); retry
    when an assignment started or ended between the look and the locks."""
    for _attempt in range(3):
        seen = Assignment.objects.filter(unit=unit, cleared_at__isnull=True).first()
        incident = locked_incident(seen.incident) if seen else None
        locked = Unit.objects.select_for_update().get(pk=unit.pk)
        assignment = Assignment.objects.filter(unit=locked, cleared_at__isnull=True).first()
        if (assignment and assignment.incident_id) == (incident and incident.pk):
            return locked, incident, assignment
    raise AlarmError(_("单位状态正在变化，请刷新后重试。"), "changed")


def unit_status(*, actor, unit: Unit, status: str, lat=None, lon=None, now=None) -> Unit:
    """Record a unit's reported status: dispatched → on scene → returning → available (or
    dispatched → returning when stood down). On scene stamps the assignment and, for the
    first unit, the incident; returning clears the assignment. A position may come along."""
    now = now or timezone.now()
    status = _choice(status, UnitStatus, _("单位状态无效。"), "bad_status")
    position = _coordinates(lat, lon) if lat is not None or lon is not None else None
    with transaction.atomic():
        unit, incident, assignment = _lock_unit(unit)
        if not alarm_rules.may_send(actor, unit):
            raise PermissionDenied(_("您无权调度该单位（警种或辖区不符）。"))
        from_status = unit.status
        if status not in UNIT_TRANSITIONS.get(from_status, frozenset()):
            raise AlarmError(
                _("单位当前状态为“%(from)s”，不能改为“%(to)s”。")
                % {"from": UnitStatus(from_status).label, "to": UnitStatus(status).label},
                "wrong_unit_state",
            )
        unit.status = status
        unit.status_changed_at = now
        if position is not None:
            unit.lat, unit.lon = position
            unit.position_at = now
        unit.save()
        details = {"unit": unit.code, "unit_from": from_status, "unit_status": status}
        if assignment is not None:
            at = max(now, assignment.assigned_at)
            if status == UnitStatus.ON_SCENE:
                assignment.on_scene_at = at
            elif status == UnitStatus.RETURNING:
                assignment.cleared_at = at
            assignment.save()
            if status == UnitStatus.ON_SCENE and incident.on_scene_at is None:
                incident.on_scene_at = at
                if incident.status == Status.DISPATCHED:
                    transition(
                        incident,
                        Status.ON_SCENE,
                        actor=actor,
                        action="unit_status",
                        at=now,
                        unit=unit,
                        details=details,
                    )
                else:
                    incident.save()
                    record(
                        incident,
                        "unit_status",
                        actor=actor,
                        at=now,
                        unit=unit,
                        from_status=incident.status,
                        details=details,
                    )
            else:
                record(
                    incident,
                    "unit_status",
                    actor=actor,
                    at=now,
                    unit=unit,
                    from_status=incident.status,
                    details=details,
                )
            publish_after_commit("incident.changed", incident_payload(incident))
        else:
            last = unit.assignments.order_by("-assigned_at", "-pk").first()
            record(
                last.incident if last else None,
                "unit_status",
                actor=actor,
                at=now,
                unit=unit,
                from_status=last.incident.status if last else "",
                details=details,
            )
        publish_after_commit("unit.changed", _unit_payload(unit, incident))
    return unit


__all__ = [
    "AlarmError",
    "answer",
    "assign_unit",
    "classify",
    "close",
    "create_from_call",
    "create_from_letter",
    "merge",
    "set_location",
    "transition",
    "unit_status",
]
