"""At the office (/office/): the check-in desk, the counter screen, the public display, the
waiting-time figures and closures.

Every staff view: check access (verified staff, then the bookings rules for this office:
`can_serve` for the desk and the counters, `can_manage` for figures and closures; else the
shared 403 page), validate a small form, call one verb of queue.py / workflow.py, respond.
A refusal is re-rendered with the verb's Chinese message: 404 for a booking not found, 409
for a state that does not allow the step, 400 for other bad input, 403 for a right the user
lacks. People are shown masked; nothing here reveals full personal data.

The public display needs no sign-in and shows ticket numbers and counter names only. Its
page polls display_calls (a small JSON document) every two seconds from a static script:
cheap on WSGI workers, indifferent to restarts, and clean under the strict CSP.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from servicehall.core.permissions import forbidden, staff_required

from . import forms_office as fo
from . import queries, queue, rules, workflow
from .models import Closure, Counter, Office, Ticket, TicketStatus
from .workflow import BookingError

DISPLAY_POLL_MS = 2000
DISPLAY_CALLS = 8
STATUS_OF_ERROR = {"not_found": 404, "wrong_state": 409}


def _office_or_404(code: str) -> Office:
    return get_object_or_404(Office, code=code, is_active=True)


def _counter_or_404(office: Office, code: str) -> Counter:
    return get_object_or_404(Counter, office=office, code=code, is_active=True)


def _not_serving(request, office):
    if rules.can_serve(request.user, office):
        return None
    return forbidden(request, _("只有本大厅窗口工作人员可以办理签到和叫号。"))


def _not_managing(request, office):
    if rules.can_manage(request.user, office):
        return None
    return forbidden(request, _("只有本大厅所属部门的监督管理人员可以查看和安排此项。"))


def _private(response):
    add_never_cache_headers(response)  # masked people, but still nothing kept in caches
    return response


# --- the office list ----------------------------------------------------------------------


@staff_required()
@require_GET
def index(request):
    """The offices this officer serves at or manages, with their desks and screens."""
    user = request.user
    offices = []
    for office in Office.objects.filter(is_active=True).prefetch_related("counters"):
        serves, manages = rules.can_serve(user, office), rules.can_manage(user, office)
        if serves or manages:
            offices.append({"office": office, "serves": serves, "manages": manages})
    if not offices:
        return forbidden(request, _("您不在任何办证大厅工作，不能使用签到叫号。"))
    context = {"offices": offices, "manages_any": any(row["manages"] for row in offices)}
    return render(request, "bookings/office/index.html", context)


# --- the check-in desk ----------------------------------------------------------------------


def _render_desk(request, office, form, *, status=200, error="", ticket=None):
    context = {
        "office": office,
        "form": form,
        "error": error,
        "ticket": ticket,
        "recent": queries.issued_today(office),
    }
    return _private(render(request, "bookings/office/checkin.html", context, status=status))


def _check_in(actor, office, lookups: list[dict]) -> Ticket:
    """queue.check_in with each way of reading the key, until one finds the booking."""
    for attempt, lookup in enumerate(lookups, start=1):
        try:
            return queue.check_in(actor=actor, office=office, **lookup)
        except BookingError as exc:
            if exc.code != "not_found" or attempt == len(lookups):
                raise
    raise AssertionError("no lookups")  # pragma: no cover - the form gives at least one


@staff_required()
@require_http_methods(["GET", "POST"])
def checkin(request, office_code: str):
    office = _office_or_404(office_code)
    if denied := _not_serving(request, office):
        return denied
    if request.method == "GET":
        return _render_desk(request, office, fo.CheckInForm())
    form = fo.CheckInForm(request.POST)
    if not form.is_valid():
        return _render_desk(request, office, form, status=400)
    try:
        ticket = _check_in(request.user, office, form.lookups())
    except PermissionDenied as exc:
        return _render_desk(request, office, form, status=403, error=str(exc))
    except BookingError as exc:
        status = STATUS_OF_ERROR.get(exc.code, 400)
        return _render_desk(request, office, form, status=status, error=str(exc))
    # A blank field, focused, for the next person; a repeated scan shows the same number.
    return _render_desk(request, office, fo.CheckInForm(), ticket=ticket)


# --- the counter screen ---------------------------------------------------------------------


def _render_counter(request, office, counter, *, status=200, error=""):
    waiting = list(queries.waiting_for(counter)[:50])
    context = {
        "office": office,
        "counter": counter,
        "serving": queries.serving(counter),
        "waiting": waiting,
        "error": error,
    }
    return _private(render(request, "bookings/office/counter.html", context, status=status))


def _counter_view(request, office_code, counter_code):
    office = _office_or_404(office_code)
    return office, _counter_or_404(office, counter_code), _not_serving(request, office)


@staff_required()
@require_GET
def counter(request, office_code: str, counter_code: str):
    office, counter, denied = _counter_view(request, office_code, counter_code)
    return denied or _render_counter(request, office, counter)


def _to_counter(counter: Counter):
    return redirect("bookings_office:counter", counter.office.code, counter.code)


@staff_required()
@require_POST
def call_next(request, office_code: str, counter_code: str):
    """叫下一位. While the counter still serves a number it calls nobody else: the number
    must be finished or skipped first, and a double click is one call."""
    office, counter, denied = _counter_view(request, office_code, counter_code)
    if denied:
        return denied
    current = queries.serving(counter)
    if current is not None:
        messages.info(
            request,
            _("本窗口正在办理%(number)s号，请先办结或过号。") % {"number": current.display_number},
        )
        return _to_counter(counter)
    try:
        ticket = queue.call_next(actor=request.user, counter=counter)
    except PermissionDenied as exc:
        return _render_counter(request, office, counter, status=403, error=str(exc))
    if ticket is None:
        messages.info(request, _("当前没有等候的排队号。"))
    else:
        messages.success(
            request,
            _("已叫号：请%(number)s号到%(counter)s办理。")
            % {"number": ticket.display_number, "counter": counter.name},
        )
    return _to_counter(counter)


FINISH = {
    "complete": (queue.complete, TicketStatus.COMPLETED, gettext_lazy("%(number)s号已办结。")),
    "skip": (queue.skip, TicketStatus.SKIPPED, gettext_lazy("%(number)s号已过号。")),
}


@staff_required()
@require_POST
def finish(request, office_code: str, counter_code: str, ticket_pk: int, action: str):
    """办结 or 过号 the number this counter called; the same click twice is one step."""
    if action not in FINISH:
        raise Http404
    verb, done_status, done = FINISH[action]
    office, counter, denied = _counter_view(request, office_code, counter_code)
    if denied:
        return denied
    ticket = get_object_or_404(Ticket, pk=ticket_pk, counter=counter, date=timezone.localdate())
    if ticket.status == done_status:
        return _to_counter(counter)
    try:
        verb(actor=request.user, ticket=ticket)
    except PermissionDenied as exc:
        return _render_counter(request, office, counter, status=403, error=str(exc))
    except BookingError as exc:
        return _render_counter(request, office, counter, status=409, error=str(exc))
    messages.success(request, str(done) % {"number": ticket.display_number})
    return _to_counter(counter)


# --- the public display ---------------------------------------------------------------------


def _display_data(office: Office) -> dict:
    return {
        "calls": queries.recent_calls(office, limit=DISPLAY_CALLS),
        "waiting": queries.waiting_count(office),
        "time": timezone.localtime().strftime("%H:%M"),
    }


@require_GET
def display(request, office_code: str):
    """The hall's screen: no sign-in, numbers and counter names only."""
    office = _office_or_404(office_code)
    data = _display_data(office)
    context = {"office": office, "poll_ms": DISPLAY_POLL_MS, **data}
    return _private(render(request, "bookings/office/display.html", context))


@require_GET
def display_calls(request, office_code: str):
    """What the display polls: the same numbers as JSON."""
    office = _office_or_404(office_code)
    return _private(JsonResponse(_display_data(office)))


# --- waiting-time figures -------------------------------------------------------------------


@staff_required(*rules.MANAGER_ROLES)
@require_GET
def figures(request):
    """Per office the officer manages: numbers issued, served, skipped, and the wait from
    check-in to call (average, 90th percentile, longest) on a chosen day."""
    offices = [
        office
        for office in Office.objects.filter(is_active=True)
        if rules.can_manage(request.user, office)
    ]
    if not offices:
        return forbidden(request, _("只有办证大厅所属部门的监督管理人员可以查看等候情况。"))
    form = fo.DayForm(request.GET or None, initial={"day": timezone.localdate()})
    status = 400 if form.is_bound and not form.is_valid() else 200
    day = form.chosen()
    context = {"form": form, "day": day, "rows": queries.waiting_figures_all(day, offices)}
    return render(request, "bookings/office/figures.html", context, status=status)


# --- closures -------------------------------------------------------------------------------


def _render_closures(request, office, form, *, status=200, error=""):
    context = {
        "office": office,
        "form": form,
        "error": error,
        "closures": queries.upcoming_closures(office),
    }
    return render(request, "bookings/office/closures.html", context, status=status)


def _same_closure(office, data, actor) -> Closure | None:
    """An identical closure this officer already added: the form sent twice."""
    return Closure.objects.filter(
        office=office,
        counter=data["counter"],
        start=data["start"],
        end=data["end"],
        reason=data["reason"].strip(),
        created_by=actor,
    ).first()


@staff_required(*rules.MANAGER_ROLES)
@require_http_methods(["GET", "POST"])
def closures(request, office_code: str):
    office = _office_or_404(office_code)
    if denied := _not_managing(request, office):
        return denied
    if request.method == "GET":
        return _render_closures(request, office, fo.ClosureForm(office=office))
    form = fo.ClosureForm(request.POST, office=office)
    if not form.is_valid():
        return _render_closures(request, office, form, status=400)
    data = form.cleaned_data
    closure = _same_closure(office, data, request.user)
    if closure is None:
        try:
            closure = workflow.add_closure(
                actor=request.user,
                office=office,
                counter=data["counter"],
                start=data["start"],
                end=data["end"],
                reason=data["reason"],
            )
        except PermissionDenied as exc:
            return _render_closures(request, office, form, status=403, error=str(exc))
        except BookingError as exc:
            return _render_closures(request, office, form, status=400, error=str(exc))
    messages.success(
        request,
        _("停办安排已添加：%(count)s个预约已取消，并已短信通知预约人。")
        % {"count": queries.affected_by(closure)},
    )
    return redirect("bookings_office:closures", office.code)
