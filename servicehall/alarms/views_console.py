"""The dispatch console (/staff/alarms/): call-takers and dispatchers of the unified
110/119/122 centre and 12110 SMS.

Every view: check access (verified staff through staff_required; then alarms/rules.py: the
dispatcher role with a desk for the console, may_work for an incident; else the shared 403
page), validate a small form (Chinese field errors, 400), call one verb of workflow.py or
sms.py, redirect with a message. A verb's refusal re-renders the page with its message: 403
for a right the user lacks, 409 when the state does not allow the step (the second of two
identical clicks), 400 for other bad input.

Live updates: the pages open the console socket (consumers.py) from a static script
(static/js/alarms-console.js); on a notice it reads the `live/` fragments below again, so
what a page shows is always rendered here, with the viewer's permissions and masking.
Caller numbers and names are masked; `reveal` shows them once for a stated purpose and
audits the read.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from servicehall.core import audit
from servicehall.core.masking import mask_name, mask_phone
from servicehall.core.permissions import forbidden, staff_required

from . import forms_console as fc
from . import queries, sms, workflow
from . import rules as alarm_rules
from .models import (
    HUMAN_KINDS,
    OPEN_STATUSES,
    UNIT_TRANSITIONS,
    Desk,
    Direction,
    Incident,
    MessageKind,
    SmsThread,
    Status,
    ThreadStatus,
    Unit,
)
from .workflow import AlarmError

CONFLICTS = frozenset(
    {
        "wrong_state",
        "not_open",
        "unit_busy",
        "units_out",
        "thread_closed",
        "dispatched",
        "changed",
        "desk_in_use",
        "not_answered",
        "wrong_unit_state",
    }
)
CALLER_FIELDS = ["caller_number", "caller_name"]
WEBSOCKET_PATH = "/ws/alarms/console/"
LIVE_PARTS = ("facts", "work")
NEW_CALL_KEY_SECONDS = 600

ACTION_LABELS = {
    "create_from_call": gettext_lazy("接警登记"),
    "create_from_letter": gettext_lazy("网上110来信转警情"),
    "create_from_sms": gettext_lazy("收到12110短信报警"),
    "answer": gettext_lazy("接警"),
    "classify": gettext_lazy("警情分类"),
    "set_location": gettext_lazy("确定事发地点"),
    "merge": gettext_lazy("并入其他警情"),
    "merge_in": gettext_lazy("合并重复警情"),
    "assign_unit": gettext_lazy("派警"),
    "unit_status": gettext_lazy("单位状态"),
    "close": gettext_lazy("结警"),
    "sms_in": gettext_lazy("收到短信"),
    "sms_reply": gettext_lazy("回复短信"),
    "sms_ask_location": gettext_lazy("短信询问位置"),
    "sms_closing": gettext_lazy("结束短信对话"),
    "sms_close_thread": gettext_lazy("短信对话已结束"),
}
STAMP_LABELS = (
    ("received_at", gettext_lazy("报警")),
    ("answered_at", gettext_lazy("接警")),
    ("dispatched_at", gettext_lazy("派警")),
    ("on_scene_at", gettext_lazy("到场")),
    ("closed_at", gettext_lazy("结警")),
)
INTERVAL_LABELS = {
    "answer": gettext_lazy("接警用时"),
    "dispatch": gettext_lazy("派警用时"),
    "travel": gettext_lazy("到场用时"),
    "total": gettext_lazy("总用时"),
}


# --- helpers ---------------------------------------------------------------------------------


def _console_denied(request):
    user = request.user
    if alarm_rules.is_dispatcher(user) and alarm_rules.desks_of(user):
        return None
    return forbidden(request, _("只有接警调度员可以使用接处警台。"))


def _incident(request, number: str) -> Incident:
    """The incident, or PermissionDenied when it is not of the user's desks and district."""
    incident = get_object_or_404(Incident.objects.select_related("district"), number=number)
    if not alarm_rules.may_work(request.user, incident):
        raise PermissionDenied(_("您无权处理此警情（不属于您的警种或辖区）。"))
    return incident


def _private(request, response, *, live: bool = True):
    """No caching (personal data); the console's pages may open their socket."""
    add_never_cache_headers(response)
    if live:
        host = request.get_host()
        response._csp_update = {"connect-src": ["'self'", f"ws://{host}", f"wss://{host}"]}
    return response


def _fragment(request, template, context):
    response = render(request, template, context)
    response["X-Alarms-Fragment"] = "1"  # the script sees a login page as not this
    return _private(request, response, live=False)


def duration(seconds) -> str:
    if seconds is None:
        return "—"
    seconds = int(round(seconds))
    minutes, rest = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return _("%(h)d小时%(m)02d分%(s)02d秒") % {"h": hours, "m": minutes, "s": rest}
    if minutes:
        return _("%(m)d分%(s)02d秒") % {"m": minutes, "s": rest}
    return _("%(s)d秒") % {"s": rest}


def _caller(incident, revealed: bool) -> dict:
    if revealed:
        return {"number": incident.caller_number, "name": incident.caller_name}
    return {"number": mask_phone(incident.caller_number), "name": mask_name(incident.caller_name)}


def _console_lists(user) -> dict:
    desks = alarm_rules.desks_of(user)
    incidents = list(queries.open_incidents(user)[:200])
    threads = list(
        SmsThread.objects.filter(
            status=ThreadStatus.OPEN, incident__in=alarm_rules.visible_incidents(user)
        )
        .select_related("incident")
        .order_by("-opened_at")[:100]
    )
    for thread in threads:
        # Waiting for a call-taker: the person wrote last (the automatic ack does not count).
        thread.last = thread.messages.filter(kind__in=[MessageKind.INBOUND, *HUMAN_KINDS]).last()
        thread.waiting = thread.last is not None and thread.last.direction == Direction.IN
    return {
        "incidents": incidents,
        "threads": threads,
        "units": list(queries.units_board(desks, alarm_rules.district_of(user))),
    }


def _status_label(value: str) -> str:
    return Status(value).label if value in Status.values else value


def _labelled(event):
    event.from_label = _status_label(event.from_status)
    event.to_label = _status_label(event.to_status)
    return event


def _incident_live(request, incident: Incident) -> dict:
    """What the incident page shows and refreshes live."""
    user = request.user
    line = queries.timeline(incident)
    assignments = list(incident.assignments.select_related("unit").order_by("assigned_at", "pk"))
    for assignment in assignments:
        unit = assignment.unit
        unit.next_statuses = (
            sorted(UNIT_TRANSITIONS.get(unit.status, ()))
            if alarm_rules.may_send(user, unit)
            and (assignment.is_open or unit.status != "available")
            else []
        )
    is_open = incident.status in OPEN_STATUSES
    return {
        "incident": incident,
        "is_open": is_open,
        "stamps": [(label, line.stamps[name]) for name, label in STAMP_LABELS],
        "intervals": [(INTERVAL_LABELS[n], duration(v)) for n, v in line.intervals.items()],
        "events": [
            (_labelled(event), ACTION_LABELS.get(event.action, event.action))
            for event in line.events
        ],
        "assignments": assignments,
        "nearest": queries.nearest_units(incident, user=user)
        if is_open and incident.status != Status.NEW
        else [],
        "duplicates": [
            (other, distance)
            for other, distance in queries.duplicate_candidates(incident)
            if alarm_rules.may_work(user, other)
        ]
        if incident.status in (Status.NEW, Status.ANSWERED)
        else [],
        "threads": list(incident.sms_threads.order_by("opened_at")),
    }


def _render_incident(request, incident, *, status=200, error="", forms=None, revealed=False):
    forms = forms or {}
    context = {
        **_incident_live(request, incident),
        "error": error,
        "caller": _caller(incident, revealed),
        "revealed": revealed,
        "classify_form": forms.get("classify")
        or fc.ClassifyForm(
            initial={
                "desks": sorted(incident.desks),
                "incident_type": incident.incident_type,
                "priority": incident.priority,
            },
            auto_id="classify-%s",
        ),
        "location_form": forms.get("locate")
        or fc.LocationForm(
            initial={
                "address": incident.address,
                "lat": incident.lat,
                "lon": incident.lon,
                "district": incident.district_id,
            },
            auto_id="locate-%s",
        ),
        "close_form": forms.get("close") or fc.CloseForm(auto_id="close-%s"),
        "reveal_form": forms.get("reveal") or fc.RevealForm(auto_id="reveal-%s"),
        "merge_form": forms.get("merge"),
        "assign_form": forms.get("assign"),
    }
    response = render(request, "alarms/incident.html", context, status=status)
    return _private(request, response)


def _refusal_status(exc: AlarmError) -> int:
    return 409 if exc.code in CONFLICTS else 400


# --- the console -----------------------------------------------------------------------------


def _render_console(request, *, status=200, error=""):
    user = request.user
    context = {
        **_console_lists(user),
        "desks": [desk for desk in Desk.values if desk in alarm_rules.desks_of(user)],
        "may_take": any(alarm_rules.may_take(user, line) for line in ("110", "119", "122")),
        "may_view_figures": alarm_rules.may_view_figures(user),
        "websocket_path": WEBSOCKET_PATH,
        "error": error,
    }
    return _private(request, render(request, "alarms/console.html", context, status=status))


@staff_required()
@require_GET
def console(request):
    if denied := _console_denied(request):
        return denied
    return _render_console(request)


@staff_required()
@require_GET
def console_live(request):
    """The console's three lists, read again on a live notice."""
    if denied := _console_denied(request):
        return denied
    return _fragment(request, "alarms/_console_lists.html", _console_lists(request.user))


@staff_required()
@require_http_methods(["GET", "POST"])
def new_call(request):
    """接警登记: the call-taker records a call; the incident page opens for dispatch."""
    if denied := _console_denied(request):
        return denied
    posted = request.method == "POST"
    form = fc.NewCallForm(request.POST if posted else None, initial={"submission": uuid.uuid4()})
    status, error = 200, ""
    if posted:
        if form.is_valid():
            data = dict(form.cleaned_data)
            # A double click is one call: the form's key remembers the incident it made.
            key = f"alarms:new-call:{request.user.pk}:{data.pop('submission')}"
            if not cache.add(key, "", NEW_CALL_KEY_SECONDS):
                if number := cache.get(key):
                    return redirect("alarms_console:incident", number)
                status, error = 409, _("该来电正在登记，请勿重复提交。")
            else:
                try:
                    incident = workflow.create_from_call(actor=request.user, **data)
                except PermissionDenied as exc:
                    status, error = 403, str(exc)
                except AlarmError as exc:
                    status, error = _refusal_status(exc), str(exc)
                else:
                    cache.set(key, incident.number, NEW_CALL_KEY_SECONDS)
                    messages.success(
                        request, _("已登记警情%(number)s。") % {"number": incident.number}
                    )
                    return redirect("alarms_console:incident", incident.number)
                cache.delete(key)  # refused: the same form may be sent again
        else:
            status = 400
    context = {"form": form, "error": error, "websocket_path": WEBSOCKET_PATH}
    return _private(request, render(request, "alarms/new_call.html", context, status=status))


# --- an incident -----------------------------------------------------------------------------


@staff_required()
@require_GET
def incident(request, number: str):
    if denied := _console_denied(request):
        return denied
    try:
        found = _incident(request, number)
    except PermissionDenied as exc:
        return forbidden(request, str(exc))
    return _render_incident(request, found)


@staff_required()
@require_GET
def incident_live(request, number: str, part: str):
    """The incident page's live sections: `facts` (status, classification, place) and
    `work` (units, suggestions, duplicates, the timeline)."""
    if denied := _console_denied(request):
        return denied
    if part not in LIVE_PARTS:
        return forbidden(request, _("没有这项内容。"))
    try:
        found = _incident(request, number)
    except PermissionDenied as exc:
        return forbidden(request, str(exc))
    return _fragment(request, f"alarms/_incident_{part}.html", _incident_live(request, found))


def _answer(request, incident, form):
    return workflow.answer(actor=request.user, incident=incident)


def _classify(request, incident, form):
    data = form.cleaned_data
    return workflow.classify(
        actor=request.user,
        incident=incident,
        desks=data["desks"],
        incident_type=data["incident_type"],
        priority=data["priority"],
    )


def _locate(request, incident, form):
    data = form.cleaned_data
    return workflow.set_location(
        actor=request.user,
        incident=incident,
        address=data["address"],
        lat=data["lat"],
        lon=data["lon"],
        district=data["district"],
    )


def _merge(request, incident, form):
    into = Incident.objects.filter(number=form.cleaned_data["into"].strip()).first()
    if into is None:
        raise AlarmError(_("找不到要合并至的警情。"), "not_found")
    return workflow.merge(
        actor=request.user, incident=incident, into=into, note=form.cleaned_data["note"]
    )


def _assign(request, incident, form):
    unit = Unit.objects.filter(pk=form.cleaned_data["unit"]).first()
    if unit is None:
        raise AlarmError(_("找不到该处警单位。"), "not_found")
    return workflow.assign_unit(actor=request.user, incident=incident, unit=unit)


def _close(request, incident, form):
    data = form.cleaned_data
    return workflow.close(
        actor=request.user, incident=incident, outcome=data["outcome"], note=data["note"]
    )


# action: (form class or None, verb, success message)
ACTIONS = {
    "answer": (None, _answer, gettext_lazy("已接警。")),
    "classify": (fc.ClassifyForm, _classify, gettext_lazy("已更新警情分类。")),
    "locate": (fc.LocationForm, _locate, gettext_lazy("已更新事发地点。")),
    "merge": (fc.MergeForm, _merge, gettext_lazy("已并入其他警情。")),
    "assign": (fc.AssignForm, _assign, gettext_lazy("已派出处警单位。")),
    "close": (fc.CloseForm, _close, gettext_lazy("已结警。")),
}


@staff_required()
@require_POST
def act(request, number: str, action: str):
    """One step on an incident (ACTIONS): validate, call its verb, back to the incident."""
    if denied := _console_denied(request):
        return denied
    if action not in ACTIONS:
        return forbidden(request, _("没有这项操作。"))
    try:
        found = _incident(request, number)
    except PermissionDenied as exc:
        return forbidden(request, str(exc))
    form_class, verb, done = ACTIONS[action]
    form = form_class(request.POST, auto_id=f"{action}-%s") if form_class else None
    if form is not None and not form.is_valid():
        return _render_incident(request, found, status=400, forms={action: form})
    try:
        verb(request, found, form)
    except PermissionDenied as exc:
        return _render_incident(request, found, status=403, error=str(exc))
    except AlarmError as exc:
        found.refresh_from_db()
        return _render_incident(request, found, status=_refusal_status(exc), error=str(exc))
    messages.success(request, str(done))
    return redirect("alarms_console:incident", found.number)


@staff_required()
@require_POST
def reveal(request, number: str):
    """查看报警人信息: the caller's full number and name once, for an audited purpose."""
    if denied := _console_denied(request):
        return denied
    try:
        found = _incident(request, number)
    except PermissionDenied as exc:
        return forbidden(request, str(exc))
    form = fc.RevealForm(request.POST, auto_id="reveal-%s")
    if not form.is_valid():
        return _render_incident(request, found, status=400, forms={"reveal": form})
    audit.record_read(request, found, purpose=form.cleaned_data["purpose"], fields=CALLER_FIELDS)
    return _render_incident(request, found, revealed=True)


@staff_required()
@require_POST
def unit_status(request, unit_pk: int):
    """A unit reports its status (到场, 返回, 待命); back to the incident it works for."""
    if denied := _console_denied(request):
        return denied
    unit = get_object_or_404(Unit, pk=unit_pk)
    back = request.POST.get("incident", "")
    target = Incident.objects.filter(number=back).first()
    if not alarm_rules.may_send(request.user, unit):
        return forbidden(request, _("您无权调度该单位（警种或辖区不符）。"))
    form = fc.UnitStatusForm(request.POST)
    error, status = "", 200
    if not form.is_valid():
        error, status = form.errors["status"][0], 400
    else:
        try:
            workflow.unit_status(actor=request.user, unit=unit, status=form.cleaned_data["status"])
        except PermissionDenied as exc:
            error, status = str(exc), 403
        except AlarmError as exc:
            error, status = str(exc), _refusal_status(exc)
    if status != 200:
        if target is not None and alarm_rules.may_work(request.user, target):
            return _render_incident(request, target, status=status, error=error)
        return _render_console(request, status=status, error=error)
    unit.refresh_from_db()
    messages.success(
        request,
        _("%(unit)s：%(status)s。") % {"unit": unit.name, "status": unit.get_status_display()},
    )
    if target is not None and alarm_rules.may_work(request.user, target):
        return redirect("alarms_console:incident", target.number)
    return redirect("alarms_console:console")


# --- 12110 SMS conversations -----------------------------------------------------------------


def _thread(request, pk: int) -> SmsThread:
    thread = get_object_or_404(SmsThread.objects.select_related("incident"), pk=pk)
    if not alarm_rules.may_work(request.user, thread.incident):
        raise PermissionDenied(_("您无权处理此短信报警（不属于您的警种或辖区）。"))
    return thread


def _render_thread(request, thread, *, status=200, error="", form=None):
    context = {
        "thread": thread,
        "incident": thread.incident,
        "phone": mask_phone(thread.phone),
        "sms_messages": list(queries.thread_messages(thread)),
        "form": form or fc.ReplyForm(auto_id="reply-%s"),
        "error": error,
        "websocket_path": WEBSOCKET_PATH,
    }
    return _private(request, render(request, "alarms/thread.html", context, status=status))


@staff_required()
@require_GET
def thread(request, pk: int):
    if denied := _console_denied(request):
        return denied
    try:
        found = _thread(request, pk)
    except PermissionDenied as exc:
        return forbidden(request, str(exc))
    return _render_thread(request, found)


@staff_required()
@require_GET
def thread_live(request, pk: int):
    if denied := _console_denied(request):
        return denied
    try:
        found = _thread(request, pk)
    except PermissionDenied as exc:
        return forbidden(request, str(exc))
    context = {"thread": found, "sms_messages": list(queries.thread_messages(found))}
    return _fragment(request, "alarms/_thread_messages.html", context)


SMS_ACTIONS = {
    "reply": gettext_lazy("回复短信已发出。"),
    "ask_location": gettext_lazy("已发短信询问位置。"),
    "close": gettext_lazy("短信对话已结束，已短信告知报警人。"),
}


@staff_required()
@require_POST
def thread_act(request, pk: int, action: str):
    """回复, 询问位置, 结束对话: each one verb of sms.py."""
    if denied := _console_denied(request):
        return denied
    if action not in SMS_ACTIONS:
        return forbidden(request, _("没有这项操作。"))
    try:
        found = _thread(request, pk)
    except PermissionDenied as exc:
        return forbidden(request, str(exc))
    form = fc.ReplyForm(request.POST, auto_id="reply-%s") if action == "reply" else None
    if form is not None and not form.is_valid():
        return _render_thread(request, found, status=400, form=form)
    try:
        if action == "reply":
            sms.reply_sms(actor=request.user, thread=found, text=form.cleaned_data["text"])
        elif action == "ask_location":
            sms.ask_location(actor=request.user, thread=found)
        else:
            sms.close_thread(actor=request.user, thread=found)
    except PermissionDenied as exc:
        return _render_thread(request, found, status=403, error=str(exc))
    except AlarmError as exc:
        found.refresh_from_db()
        return _render_thread(request, found, status=_refusal_status(exc), error=str(exc))
    messages.success(request, str(SMS_ACTIONS[action]))
    return redirect("alarms_console:thread", found.pk)
