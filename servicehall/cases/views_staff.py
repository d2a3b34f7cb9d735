"""The staff workbench: the queue, one case and its actions, supervision.

Every action view: check access (404 outside the department/jurisdiction, 403 without the
role), validate a small form, call one workflow verb, redirect with a message. A refused
step re-renders the case page: 400 for bad input, 409 when the case's state does not allow
it (e.g. the second of two identical posts).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from servicehall.catalog.models import Flow
from servicehall.core import audit
from servicehall.core.downloads import audited_attachment
from servicehall.core.permissions import forbidden, staff_required

from . import flows, forms_staff, queries, workflow
from .deadlines import level_on
from .flows import Action
from .models import Attachment, Case, CorrectionNotice, FollowUpTask, WarningLevel

PAGE_SIZE = 25
# Audit purposes are stored as written, whatever the interface language.
ATTACHMENT_READ_PURPOSE = "办理办件：查看申请材料"
APPLICANT_FIELDS = ["applicant_name", "applicant_id_number", "applicant_phone"]


@dataclass(frozen=True)
class StaffAction:
    form: type[forms.Form]
    run: Callable  # (actor, case, cleaned_data) -> Case; calls exactly one workflow verb
    done: str
    takes_case: bool = False  # the form's choices depend on the case


def _w(verb, **fields):
    """A runner calling workflow.<verb> with the named cleaned_data fields."""
    return lambda user, case, data: verb(
        actor=user, case=case, **{arg: data[key] for arg, key in fields.items()}
    )


fs = forms_staff
# The order is the order on the page.
ACTIONS: dict[str, StaffAction] = {
    Action.CLAIM: StaffAction(fs.EmptyForm, _w(workflow.claim), gettext_lazy("已认领该办件。")),
    Action.ACCEPT: StaffAction(
        fs.NoteForm,
        _w(workflow.accept, note="note"),
        gettext_lazy("已受理，承诺时限自今日起算。"),
    ),
    Action.COMPLETE_INSTANTLY: StaffAction(
        fs.NoteForm, _w(workflow.complete_instantly, note="note"), gettext_lazy("已即办办结。")
    ),
    Action.REQUEST_CORRECTION: StaffAction(
        fs.CorrectionForm,
        _w(workflow.request_correction, items="items", note="note"),
        gettext_lazy("已一次性告知申请人需补正的全部内容。"),
    ),
    Action.REFUSE: StaffAction(
        fs.ReasonForm, _w(workflow.refuse, reason="reason"), gettext_lazy("已决定不予受理。")
    ),
    Action.START_REVIEW: StaffAction(
        fs.EmptyForm, _w(workflow.start_review), gettext_lazy("已开始审查。")
    ),
    Action.APPROVE: StaffAction(
        fs.NoteForm, _w(workflow.approve, note="note"), gettext_lazy("已准予许可。")
    ),
    Action.DENY: StaffAction(
        fs.ReasonForm, _w(workflow.deny, reason="reason"), gettext_lazy("已决定不予许可。")
    ),
    Action.COMPLETE: StaffAction(
        fs.NoteForm, _w(workflow.complete, note="note"), gettext_lazy("已办结。")
    ),
    Action.RECORD_SPOT_CHECK: StaffAction(
        fs.SpotCheckForm,
        _w(workflow.record_spot_check, passed="passed", note="note"),
        gettext_lazy("已记录抽查结果。"),
    ),
    Action.DELIVER: StaffAction(
        fs.DeliveryForm,
        _w(workflow.deliver, method="method", tracking_number="tracking_number"),
        gettext_lazy("已送达。"),
    ),
    Action.HAND_OVER: StaffAction(
        fs.HandOverForm,
        _w(workflow.hand_over, department="department", note="note"),
        gettext_lazy("已移交协办部门。"),
        takes_case=True,
    ),
    Action.TRANSFER_ACCOUNTABILITY: StaffAction(
        fs.AccountabilityForm,
        _w(workflow.transfer_accountability, to_user="to_user", note="reason"),
        gettext_lazy("首问责任已交接。"),
        takes_case=True,
    ),
}
# Steps that keep the status: offered while the case is open, not by the flow table.
HANDLING_ACTIONS = {Action.CLAIM, Action.HAND_OVER, Action.TRANSFER_ACCOUNTABILITY}


def roles_for(action: str, case: Case) -> tuple[str, ...]:
    if action == Action.REQUEST_CORRECTION:
        return workflow.CORRECTION_ROLES.get(case.status, ("window_clerk", "reviewer"))
    return workflow.STAFF_ROLES[action]


def _offered(action: str, case: Case, user) -> bool:
    if action in HANDLING_ACTIONS:
        open_case = case.status not in flows.FINAL and case.status != flows.Status.DRAFT
        if not open_case or (action == Action.CLAIM and case.handler_id == user.pk):
            return False
    elif action not in flows.actions_from(case.flow, case.status):
        return False
    if action == Action.REQUEST_CORRECTION and CorrectionNotice.objects.filter(case=case).exists():
        return False
    return workflow.can_handle(user, case, roles_for(action, case))


def _make_form(action: str, case: Case, data=None) -> forms.Form:
    spec = ACTIONS[action]
    kwargs = {"case": case} if spec.takes_case else {}
    return spec.form(data, auto_id=f"{action}-%s", **kwargs)


def _case_or_404(request, pk: int) -> Case:
    try:
        return queries.case_for(request.user, pk)
    except Case.DoesNotExist:
        raise Http404(_("未找到该办件。")) from None


def _render_case(request, case: Case, *, status=200, bound=None, error="", reveal_form=None):
    """The case page; `bound` is the action form that failed, shown with its errors."""
    revealed = reveal_form is not None and reveal_form.is_bound and reveal_form.is_valid()
    today = workflow.today()
    level = level_on(case, today)
    actions = [
        (action, Action(action).label, (bound or {}).get(action) or _make_form(action, case))
        for action in ACTIONS
        if _offered(action, case, request.user)
    ]
    context = {
        "case": case,
        "level": level,
        "level_label": WarningLevel(level).label if level else "",
        "flow_label": Flow(case.flow).label if case.flow in Flow.values else case.flow,
        "actions": actions,
        "error": error,
        "revealed": revealed,
        "reveal_form": reveal_form or forms_staff.RevealForm(auto_id="reveal-%s"),
        "form_rows": queries.form_rows(case, reveal=revealed),
        "events": case.events.select_related("actor"),
        "attachments": case.attachments.all(),
        "notice": CorrectionNotice.objects.filter(case=case).first(),
    }
    response = render(request, "cases/staff/detail.html", context, status=status)
    if revealed:
        add_never_cache_headers(response)
    return response


# --- pages -------------------------------------------------------------------------------


@staff_required()
@require_GET
def queue(request):
    form = forms_staff.QueueFilterForm(request.GET or None)
    today = workflow.today()
    cases = queries.queue(request.user, today=today, **form.filters())
    page = Paginator(cases, PAGE_SIZE).get_page(request.GET.get("page"))
    for case in page:
        case.warning = level_on(case, today)
    return render(request, "cases/staff/queue.html", {"form": form, "page": page, "today": today})


@staff_required()
@require_GET
def detail(request, pk: int):
    return _render_case(request, _case_or_404(request, pk))


@staff_required()
@require_POST
def reveal(request, pk: int):
    """查看完整信息: shows the applicant's full identity once, with an audited purpose."""
    case = _case_or_404(request, pk)
    form = forms_staff.RevealForm(request.POST, auto_id="reveal-%s")
    if not form.is_valid():
        return _render_case(request, case, status=400, reveal_form=form)
    personal = [f"form_data.{row.name}" for row in queries.form_rows(case) if row.personal]
    audit.record_read(
        request, case, purpose=form.cleaned_data["purpose"], fields=APPLICANT_FIELDS + personal
    )
    return _render_case(request, case, reveal_form=form)


@staff_required()
@require_GET
def attachment(request, pk: int, attachment_pk: int):
    """Streams a material from storage to staff who may handle the case (never MEDIA_URL)."""
    case = _case_or_404(request, pk)
    item = get_object_or_404(Attachment, pk=attachment_pk, case=case)
    return audited_attachment(
        request, case, item, purpose=ATTACHMENT_READ_PURPOSE, details={"material": item.material}
    )


@staff_required()
@require_POST
def act(request, pk: int, action: str):
    if action not in ACTIONS:
        raise Http404
    case = _case_or_404(request, pk)
    if not workflow.can_handle(request.user, case, roles_for(action, case)):
        return forbidden(request, _("您的角色无权对该办件执行此操作。"))
    form = _make_form(action, case, request.POST)
    if not form.is_valid():
        return _render_case(request, case, status=400, bound={action: form})
    if action == Action.CLAIM and case.handler_id == request.user.pk:
        return _render_case(request, case, status=409, error=_("您已是该办件的经办人。"))
    try:
        ACTIONS[action].run(request.user, case, form.cleaned_data)
    except PermissionDenied as exc:
        return forbidden(request, str(exc) or None)
    except workflow.IllegalTransition as exc:
        hint = _("该操作可能已经完成（例如重复提交），请查看下方办理记录。")
        case = _case_or_404(request, pk)
        return _render_case(request, case, status=409, error=f"{exc} {hint}")
    except workflow.WorkflowError as exc:
        return _render_case(request, case, status=400, bound={action: form}, error=str(exc))
    messages.success(request, ACTIONS[action].done)
    if action == Action.HAND_OVER:
        return redirect("cases_staff:queue")  # now the other department's case
    return redirect("cases_staff:detail", pk=case.pk)


# --- supervision ------------------------------------------------------------------------


def _render_supervision(request, *, status=200, bound=None):
    today = workflow.today()
    data = queries.supervision(request.user, today=today)
    for task in data.follow_ups:
        task.form = (bound or {}).get(task.pk) or forms_staff.FollowUpForm(
            auto_id=f"follow-up-{task.pk}-%s"
        )
    context = {"data": data, "today": today}
    return render(request, "cases/staff/supervision.html", context, status=status)


@staff_required("supervisor")
@require_GET
def supervision(request):
    return _render_supervision(request)


@staff_required("supervisor")
@require_POST
def close_follow_up(request, pk: int):
    try:
        task = queries.open_follow_up(request.user, pk)
    except FollowUpTask.DoesNotExist:
        raise Http404 from None
    form = forms_staff.FollowUpForm(request.POST, auto_id=f"follow-up-{pk}-%s")
    if not form.is_valid():
        return _render_supervision(request, status=400, bound={task.pk: form})
    try:
        workflow.close_follow_up(
            actor=request.user, task=task, resolution=form.cleaned_data["resolution"]
        )
    except PermissionDenied as exc:
        return forbidden(request, str(exc) or None)
    except workflow.WorkflowError as exc:
        messages.error(request, str(exc))
        return _render_supervision(request, status=409)
    messages.success(request, _("差评整改已办结，回访情况已记录。"))
    return redirect("cases_staff:supervision")
