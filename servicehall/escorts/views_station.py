"""The duty station's pages: the queue (response due-by first), one request with the actions
its state allows, the audited reveal of the requester's phone, and the monthly figures for
supervisors (page and JSON).

Access: verified staff of a reading role (rules.READER_ROLES) reach the pages; a request
outside the user's jurisdiction is refused with 403, as is an action without a duty role.
Every action view validates a small form and calls one verb; a refusal re-renders the request
with the verb's message: 400 bad input, 403 no right, 409 wrong state (e.g. a second click).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from servicehall.core import audit, masking
from servicehall.core.permissions import staff_required

from . import forms as f
from . import queries, rules, workflow
from .models import EscortRequest, Status

PAGE_SIZE = 25
CONTACT_FIELDS = ["contact_phone"]


@dataclass(frozen=True)
class EscortAction:
    label: str
    form: type[forms.Form]
    run: Callable  # (actor, escort, cleaned_data): exactly one verb of workflow.py
    done: str
    offered: tuple[str, ...]  # the statuses it is shown in
    takes_escort: bool = False


S = Status
ACTIONS: dict[str, EscortAction] = {
    "accept": EscortAction(
        gettext_lazy("受理"),
        f.AcceptForm,
        lambda user, escort, data: workflow.accept(actor=user, escort=escort, note=data["note"]),
        gettext_lazy("已受理，已短信通知申请人。"),
        (S.REQUESTED,),
    ),
    "decline": EscortAction(
        gettext_lazy("不予护送"),
        f.DeclineForm,
        lambda user, escort, data: workflow.decline(
            actor=user, escort=escort, reason=data["reason"]
        ),
        gettext_lazy("已答复不予护送，已短信通知申请人。"),
        (S.REQUESTED,),
    ),
    "dispatch": EscortAction(
        gettext_lazy("派警"),
        f.DispatchForm,
        lambda user, escort, data: workflow.dispatch(actor=user, escort=escort, **data),
        gettext_lazy("已派警，已短信通知申请人。"),
        (S.ACCEPTED,),
        takes_escort=True,
    ),
    "start": EscortAction(
        gettext_lazy("护送开始"),
        f.StartForm,
        lambda user, escort, data: workflow.start(actor=user, escort=escort),
        gettext_lazy("已登记护送开始。"),
        (S.DISPATCHED,),
    ),
    "complete": EscortAction(
        gettext_lazy("登记护送完成"),
        f.CompleteForm,
        lambda user, escort, data: workflow.complete(
            actor=user,
            escort=escort,
            actual_start=data["actual_start"],
            actual_end=data["actual_end"],
            handed_over_amount=data["handed_over_amount"],
            confirmed=data["confirmed"],
            notes=data["notes"],
        ),
        gettext_lazy("护送记录已登记，护送完成。"),
        (S.IN_PROGRESS,),
        takes_escort=True,
    ),
}


def _form(action: str, escort, data=None) -> forms.Form:
    spec = ACTIONS[action]
    extra = {"escort": escort} if spec.takes_escort else {}
    return spec.form(data, auto_id=f"{action}-%s", **extra)


def _escort(request, number: str) -> EscortRequest:
    """The request, or 404 when there is none; PermissionDenied (403) outside jurisdiction."""
    escort = (
        EscortRequest.objects.select_related(
            "station", "district", "requester", "enterprise", "lead_officer"
        )
        .filter(number=number)
        .first()
    )
    if escort is None:
        raise Http404(_("未找到该护送申请。"))
    if not rules.can_read(request.user, escort):
        raise PermissionDenied(_("该护送申请不属于您的辖区。"))
    return escort


def _render(request, escort, *, status=200, bound=None, error="", reveal_form=None):
    revealed = bool(reveal_form is not None and reveal_form.is_bound and reveal_form.is_valid())
    may_act = rules.can_handle(request.user, escort)
    actions = []
    if may_act:
        for name, spec in ACTIONS.items():
            if escort.status in spec.offered:
                actions.append((name, spec, (bound or {}).get(name) or _form(name, escort)))
    context = {
        "escort": escort,
        "now": timezone.now(),
        "actions": actions,
        "may_act": may_act,
        "error": error,
        "revealed": revealed,
        "phone": escort.contact_phone if revealed else masking.mask_phone(escort.contact_phone),
        "requester_name": escort.requester.name
        if revealed
        else masking.mask_name(escort.requester.name),
        "reveal_form": reveal_form or f.RevealForm(auto_id="reveal-%s"),
        "events": queries.timeline(escort),
    }
    response = render(request, "escorts/station/detail.html", context, status=status)
    add_never_cache_headers(response)  # the route and contact of a cash transport
    return response


@staff_required(*rules.READER_ROLES)
@require_GET
def queue(request):
    form = f.QueueFilterForm(request.GET or None)
    status = form.cleaned_data["status"] if form.is_valid() else ""
    page = Paginator(queries.queue(request.user, status=status), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "form": form,
        "page": page,
        "now": timezone.now(),
        "may_see_figures": rules.is_supervisor(request.user),
    }
    return render(request, "escorts/station/queue.html", context)


@staff_required(*rules.READER_ROLES)
@require_GET
def detail(request, number: str):
    return _render(request, _escort(request, number))


@staff_required(*rules.READER_ROLES)
@require_POST
def reveal(request, number: str):
    """The requester's name and phone once, for a stated purpose; the read is audited."""
    escort = _escort(request, number)
    form = f.RevealForm(request.POST, auto_id="reveal-%s")
    if not form.is_valid():
        return _render(request, escort, status=400, reveal_form=form)
    audit.record_read(
        request, escort, purpose=form.cleaned_data["purpose"], fields=["name", *CONTACT_FIELDS]
    )
    return _render(request, escort, reveal_form=form)


@staff_required(*rules.READER_ROLES)
@require_POST
def act(request, number: str, action: str):
    if action not in ACTIONS:
        raise Http404
    escort = _escort(request, number)
    if not rules.can_handle(request.user, escort):
        message = _("只有受理派出所的值班或领导民警可以办理护送申请。")
        return _render(request, escort, status=403, error=message)
    form = _form(action, escort, request.POST)
    if not form.is_valid():
        return _render(request, escort, status=400, bound={action: form})
    try:
        ACTIONS[action].run(request.user, escort, form.cleaned_data)
    except PermissionDenied as exc:
        return _render(request, escort, status=403, error=str(exc))
    except workflow.EscortError as exc:
        escort = _escort(request, number)
        if exc.code == "wrong_state":
            hint = _("该操作可能已经完成（例如重复提交），请查看下方办理记录。")
            return _render(request, escort, status=409, error=f"{exc} {hint}")
        if exc.field in form.fields:
            form.add_error(exc.field, str(exc))
            return _render(request, escort, status=400, bound={action: form})
        return _render(request, escort, status=400, error=str(exc))
    messages.success(request, ACTIONS[action].done)
    return redirect("escorts:station_detail", number=escort.number)


# --- figures ----------------------------------------------------------------------------------


def _figures(request):
    form = f.FiguresForm(request.GET or None)
    year = form.year_or(timezone.localdate().year)
    escorts = queries.visible_escorts(request.user)
    return form, escorts, queries.figures(escorts, year)


@staff_required(*rules.SUPERVISOR_ROLES)
@require_GET
def figures(request):
    form, escorts, result = _figures(request)
    years = queries.years_with_escorts(escorts)
    if result.year not in years:
        years = sorted({*years, result.year}, reverse=True)
    context = {
        "form": form,
        "figures": result,
        "years": years,
        "response_hours": f"{settings.ESCORT_RESPONSE_HOURS:g}",
    }
    return render(request, "escorts/figures.html", context)


@staff_required(*rules.SUPERVISOR_ROLES)
@require_GET
def figures_json(request):
    form, _escorts, result = _figures(request)
    if form.is_bound and not form.is_valid():
        return JsonResponse({"errors": form.errors.get_json_data()}, status=400)
    return JsonResponse(
        {
            "year": result.year,
            "months": [row.as_dict() for row in result.months],
            "total": {**result.total.as_dict(), "month": None},
        },
        json_dumps_params={"ensure_ascii": False},
    )
