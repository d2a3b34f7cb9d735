"""The letters workbench: the queue, one letter and its actions, the hotline desk, CSV import.

Every action view: check access (404 when the letter is not the user's to read, 403 without
the role), validate a small form, call one verb of workflow.py, redirect with a message. A
refused step re-renders the letter with the verb's message: 400 for bad input, 403 for a
right the user lacks, 409 when the letter's state does not allow it (e.g. the second of two
identical posts). Nothing a user types ever becomes a 500.

Contact details are masked; `reveal` shows them once for a stated purpose and audits the read
(audit.record_read), as does every attachment download and an operator re-reading a call.
"""

from __future__ import annotations

import uuid
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
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from servicehall.core import audit, masking, workdays
from servicehall.core.downloads import audited_attachment
from servicehall.core.permissions import forbidden, staff_required

from . import flows, imports, intake, queries, workflow
from . import forms_staff as fs
from . import rules as letter_rules
from .api_import import row_field_errors
from .deadlines import level_on
from .flows import Action, ReplyStatus, Status
from .models import Letter, LetterAttachment, LetterReply

PAGE_SIZE = 25
# Audit purposes are stored as written, whatever the interface language.
ATTACHMENT_READ_PURPOSE = "办理来信：查看来信附件"
OPERATOR_READ_PURPOSE = "热线登记：复核本人登记的来电"
CONTACT_FIELDS = ["contact_name", "contact_phone", "contact_email"]


# --- what each action needs -------------------------------------------------------------------


def _staff(roles):
    return lambda user, letter: letter_rules.can_handle(user, letter, roles)


def _handler_may(user, letter) -> bool:
    """The verbs' _require_handler: a handling role, and the handler if there is one."""
    return letter_rules.can_handle(user, letter, letter_rules.HANDLER_ROLES) and (
        letter.handler_id in (None, user.pk)
    )


def _publisher(user, letter) -> bool:
    return letter_rules.can_handle(
        user, letter, letter_rules.MANAGER_ROLES
    ) or letter_rules.oversees(user, letter)


def _open_reply(letter) -> LetterReply | None:
    return letter.replies.filter(status__in=[ReplyStatus.DRAFT, ReplyStatus.PENDING]).first()


def _has_draft(letter) -> bool:
    reply = _open_reply(letter)
    return reply is not None and reply.status == ReplyStatus.DRAFT


def _in(*statuses):
    return lambda user, letter: letter.status in statuses


@dataclass(frozen=True)
class LetterAction:
    form: type[forms.Form]
    run: Callable  # (actor, letter, cleaned_data): exactly one verb of workflow.py
    done: str
    permitted: Callable  # (user, letter): the role the verb demands (else 403)
    offered: Callable  # (user, letter): shown on the page (state, handler, approval rule)
    takes: tuple[str, ...] = ()  # "letter", "user": the form needs them
    submit: str = ""  # the button, when it is not the action's name


def _w(verb, **fields):
    """A runner calling workflow.<verb> with the named cleaned_data fields."""
    return lambda user, letter, data: verb(
        actor=user, letter=letter, **{arg: data[key] for arg, key in fields.items()}
    )


A, S = Action, Status
ASSIGNABLE = (S.ASSIGNED, S.HANDLING)
# The order is the order on the page.
ACTIONS: dict[str, LetterAction] = {
    A.ASSIGN: LetterAction(
        fs.AssignForm,
        _w(workflow.assign, department="department", station="station", note="note"),
        gettext_lazy("已分办。"),
        _staff(letter_rules.TRIAGE_ROLES),
        _in(S.RECEIVED),
        takes=("letter",),
    ),
    A.CLAIM: LetterAction(
        fs.EmptyForm,
        _w(workflow.claim),
        gettext_lazy("已认领，您是该来信的承办人。"),
        _staff(letter_rules.HANDLER_ROLES),
        lambda user, letter: letter.status in ASSIGNABLE and letter.handler_id is None,
    ),
    A.DRAFT: LetterAction(
        fs.DraftForm,
        _w(workflow.draft_reply, body="body"),
        gettext_lazy("答复草稿已保存。"),
        _handler_may,
        _in(*ASSIGNABLE),
        takes=("letter",),
        submit=gettext_lazy("保存答复草稿"),
    ),
    A.SUBMIT_FOR_APPROVAL: LetterAction(
        fs.EmptyForm,
        _w(workflow.submit_for_approval),
        gettext_lazy("答复已提交领导审核。"),
        _handler_may,
        lambda user, letter: (
            letter.status == S.HANDLING and workflow.needs_approval(letter) and _has_draft(letter)
        ),
    ),
    A.SEND: LetterAction(
        fs.EmptyForm,
        _w(workflow.send_reply),
        gettext_lazy("答复已发送给来信人。"),
        _handler_may,
        lambda user, letter: (
            letter.status == S.HANDLING
            and not workflow.needs_approval(letter)
            and _has_draft(letter)
        ),
        submit=gettext_lazy("发送答复"),
    ),
    A.APPROVE: LetterAction(
        fs.NoteForm,
        _w(workflow.approve_reply, note="note"),
        gettext_lazy("已审核通过，答复已发送给来信人。"),
        _staff(letter_rules.LEADER_ROLES),
        _in(S.PENDING_APPROVAL),
    ),
    A.RETURN: LetterAction(
        fs.ReasonForm,
        _w(workflow.return_reply, reason="reason"),
        gettext_lazy("已退回承办人修改。"),
        _staff(letter_rules.LEADER_ROLES),
        _in(S.PENDING_APPROVAL),
    ),
    A.SET_HANDLER: LetterAction(
        fs.HandlerForm,
        _w(workflow.set_handler, handler="handler"),
        gettext_lazy("已指定承办人。"),
        _staff(letter_rules.MANAGER_ROLES),
        _in(*ASSIGNABLE),
        takes=("letter",),
    ),
    A.TRANSFER: LetterAction(
        fs.TransferForm,
        _w(workflow.transfer, department="department", station="station", note="note"),
        gettext_lazy("已转办，答复期限不变。"),
        _staff(letter_rules.TRANSFER_ROLES),
        lambda user, letter: letter.status in ASSIGNABLE and not letter.is_misconduct,
        takes=("letter",),
    ),
    A.MERGE: LetterAction(
        fs.MergeForm,
        _w(workflow.merge_duplicate, into="into", note="note"),
        gettext_lazy("已作为重复来信合并。"),
        _staff(letter_rules.MERGE_ROLES),
        _in(S.RECEIVED, *ASSIGNABLE),
        takes=("letter", "user"),
    ),
    A.PUBLISH: LetterAction(
        fs.PublishForm,
        _w(workflow.publish, public_subject="public_subject", public_reply="public_reply"),
        gettext_lazy("答复已公开。"),
        _publisher,
        lambda user, letter: (
            letter.status == S.REPLIED and letter.publish_consent and not letter.is_misconduct
        ),
        takes=("letter",),
    ),
    A.UNPUBLISH: LetterAction(
        fs.ReasonForm,
        _w(workflow.unpublish, reason="reason"),
        gettext_lazy("已撤销公开。"),
        _publisher,
        lambda user, letter: letter.public,
    ),
}


def _make_form(action: str, letter: Letter, user, data=None) -> forms.Form:
    spec = ACTIONS[action]
    extra = {name: {"letter": letter, "user": user}[name] for name in spec.takes}
    return spec.form(data, auto_id=f"{action}-%s", **extra)


def _offered_actions(request, letter: Letter, bound: dict | None):
    rows = []
    for action, spec in ACTIONS.items():
        if not (spec.offered(request.user, letter) and spec.permitted(request.user, letter)):
            continue
        form = (bound or {}).get(action) or _make_form(action, letter, request.user)
        rows.append((action, Action(action).label, spec.submit or Action(action).label, form))
    return rows


# --- reading -----------------------------------------------------------------------------------


def _letter_or_404(request, number: str) -> Letter:
    letter = (
        queries.visible_letters(request.user)
        .select_related(
            "department",
            "station",
            "handler",
            "entered_by",
            "outside_platform",
            "merged_into",
        )
        .filter(number=number)
        .first()
    )
    if letter is None:
        raise Http404(_("未找到该来信，或您无权查看。"))
    return letter


def _clock(letter: Letter, today) -> None:
    """Annotate the warning level and the working days left (negative: overdue)."""
    letter.warning = level_on(letter, today)
    letter.days_left = None
    if letter.status in flows.CLOCK_RUNNING:
        try:
            letter.days_left = workdays.working_days_between(today, letter.due_date)
        except workdays.CalendarNotConfirmed:
            letter.days_left = (letter.due_date - today).days
    letter.days_over = -letter.days_left if letter.days_left is not None else None


def _mask_email(value: str) -> str:
    local, at, domain = (value or "").partition("@")
    return f"{masking.mask_middle(local, 1, 0)}{at}{domain}" if value else ""


def _contact(letter: Letter, revealed: bool) -> dict:
    if revealed:
        return {name.removeprefix("contact_"): getattr(letter, name) for name in CONTACT_FIELDS}
    return {
        "name": masking.mask_name(letter.contact_name),
        "phone": masking.mask_phone(letter.contact_phone),
        "email": _mask_email(letter.contact_email),
    }


def _duplicates_of(request, letter: Letter):
    """Open letters from the same phone number: candidates to merge."""
    if not letter.contact_phone:
        return []
    return list(
        queries.visible_letters(request.user)
        .filter(contact_phone=letter.contact_phone, status__in=flows.CLOCK_RUNNING)
        .exclude(pk=letter.pk)
        .order_by("received_at")[:10]
    )


def _render_letter(request, letter, *, status=200, bound=None, error="", reveal_form=None):
    """The letter page; `bound` is the action form that failed, shown with its errors."""
    revealed = reveal_form is not None and reveal_form.is_bound and reveal_form.is_valid()
    _clock(letter, workflow.today())
    actions = _offered_actions(request, letter, bound)
    pending = _open_reply(letter)
    offered = {row[0] for row in actions}
    context = {
        "letter": letter,
        "needs_approval": workflow.needs_approval(letter),
        "actions": actions,
        "error": error,
        "revealed": revealed,
        "contact": _contact(letter, revealed),
        "has_contact": any(getattr(letter, name) for name in CONTACT_FIELDS),
        "reveal_form": reveal_form or fs.RevealForm(auto_id="reveal-%s"),
        "events": letter.events.select_related("actor"),
        "replies": letter.replies.select_related("drafted_by", "decided_by", "sent_by"),
        "self_drafted": pending is not None and pending.drafted_by_id == request.user.pk,
        "attachments": letter.attachments.all(),
        "duplicates": letter.duplicates.all(),
        "same_phone": _duplicates_of(request, letter) if A.MERGE in offered else [],
    }
    response = render(request, "letters/staff/detail.html", context, status=status)
    add_never_cache_headers(response)  # contact details, bodies: nothing kept in caches
    return response


@staff_required()
@require_GET
def queue(request):
    form = fs.QueueFilterForm(request.GET or None)
    filters = form.filters()
    today = workflow.today()
    letters = queries.queue(
        request.user,
        today=today,
        status=filters["status"],
        mine=filters["mine"],
        due=filters["due"],
    )
    if filters["channel"]:
        letters = letters.filter(channel=filters["channel"])
    if filters["kind"]:
        letters = letters.filter(kind=filters["kind"])
    if filters["q"]:
        letters = letters.filter(number__icontains=filters["q"])
    page = Paginator(letters, PAGE_SIZE).get_page(request.GET.get("page"))
    for letter in page:
        _clock(letter, today)
    context = {
        "form": form,
        "page": page,
        "today": today,
        "may_enter_calls": request.user.has_role(*letter_rules.HOTLINE_ROLES),
        "may_import": intake.may_import(request.user),
    }
    return render(request, "letters/staff/queue.html", context)


@staff_required()
@require_GET
def detail(request, number: str):
    return _render_letter(request, _letter_or_404(request, number))


@staff_required()
@require_POST
def reveal(request, number: str):
    """查看联系方式: the writer's full contact details once, for an audited purpose."""
    letter = _letter_or_404(request, number)
    form = fs.RevealForm(request.POST, auto_id="reveal-%s")
    if not form.is_valid():
        return _render_letter(request, letter, status=400, reveal_form=form)
    if letter.anonymous or not any(getattr(letter, name) for name in CONTACT_FIELDS):
        return _render_letter(request, letter, status=400, error=_("该来信没有联系方式。"))
    audit.record_read(request, letter, purpose=form.cleaned_data["purpose"], fields=CONTACT_FIELDS)
    return _render_letter(request, letter, reveal_form=form)


@staff_required()
@require_GET
def attachment(request, number: str, attachment_pk: int):
    """Streams an attachment from storage to staff who may read the letter (never MEDIA_URL)."""
    letter = _letter_or_404(request, number)
    item = get_object_or_404(LetterAttachment, pk=attachment_pk, letter=letter)
    return audited_attachment(request, letter, item, purpose=ATTACHMENT_READ_PURPOSE)


@staff_required()
@require_POST
def act(request, number: str, action: str):
    if action not in ACTIONS:
        raise Http404
    spec = ACTIONS[action]
    letter = _letter_or_404(request, number)
    if not spec.permitted(request.user, letter):
        message = _("您的角色无权对该来信执行此操作。")
        if action in (A.DRAFT, A.SUBMIT_FOR_APPROVAL, A.SEND) and letter.handler_id:
            message = _("该来信由其他民警承办，只有承办人可以办理答复。")
        return _render_letter(request, letter, status=403, error=message)
    form = _make_form(action, letter, request.user, request.POST)
    if not form.is_valid():
        return _render_letter(request, letter, status=400, bound={action: form})
    try:
        spec.run(request.user, letter, form.cleaned_data)
    except PermissionDenied as exc:
        letter = _letter_or_404(request, number)
        return _render_letter(request, letter, status=403, error=str(exc))
    except workflow.IllegalTransition as exc:
        hint = _("该操作可能已经完成（例如重复提交），请查看下方办理记录。")
        letter = _letter_or_404(request, number)
        return _render_letter(request, letter, status=409, error=f"{exc} {hint}")
    except workflow.WorkflowError as exc:
        return _render_letter(request, letter, status=400, bound={action: form}, error=str(exc))
    messages.success(request, spec.done)
    if not queries.visible_letters(request.user).filter(pk=letter.pk).exists():
        return redirect("letters_staff:queue")  # assigned or transferred away
    return redirect("letters_staff:detail", number=letter.number)


# --- the hotline desk ----------------------------------------------------------------------


def _entered_by(user):
    return Letter.objects.filter(entered_by=user).order_by("-received_at", "-id")


def _render_hotline(request, form, *, status=200, error="", receipt=None):
    context = {
        "form": form,
        "error": error,
        "receipt": receipt,
        "recent": _entered_by(request.user)[:5],
    }
    response = render(request, "letters/staff/hotline.html", context, status=status)
    add_never_cache_headers(response)  # the follow-up code is shown once
    return response


@staff_required(*letter_rules.HOTLINE_ROLES)
@require_http_methods(["GET", "POST"])
def hotline(request):
    """96123 / 12389 calls typed in by the operator; the form token makes a double submit one
    letter (the second answer shows the same number and code)."""
    if request.method == "GET":
        return _render_hotline(request, fs.HotlineForm.blank())
    form = fs.HotlineForm(request.POST)
    if not form.is_valid():
        if "submission_key" in form.errors:  # no letter has this form's token: issue one
            data = request.POST.copy()
            data["submission_key"] = str(uuid.uuid4())
            form = fs.HotlineForm(data)
            form.is_valid()
            error = _("页面已过期。已保留您填写的内容，请核对后再次提交。")
            return _render_hotline(request, form, status=400, error=error)
        return _render_hotline(request, form, status=400)
    try:
        receipt = intake.receive(actor=request.user, **form.receive_kwargs())
    except PermissionDenied as exc:
        return _render_hotline(request, form, status=403, error=str(exc))
    except workflow.WorkflowError as exc:
        return _render_hotline(request, form, status=400, error=str(exc))
    if receipt.created:
        messages.success(request, _("来电已登记。"))
    blank = fs.HotlineForm.blank(channel=form.cleaned_data["channel"])
    return _render_hotline(request, blank, receipt=receipt)


@staff_required(*letter_rules.HOTLINE_ROLES)
@require_GET
def entered(request):
    """The calls this operator typed in (masked); each opens read-only."""
    page = Paginator(_entered_by(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "letters/staff/entered.html", {"page": page})


@staff_required(*letter_rules.HOTLINE_ROLES)
@require_GET
def entered_detail(request, number: str):
    """What the operator typed, read back in full (audited as a read of personal data)."""
    letter = get_object_or_404(_entered_by(request.user), number=number)
    audit.record_read(
        request, letter, purpose=OPERATOR_READ_PURPOSE, fields=[*CONTACT_FIELDS, "body"]
    )
    response = render(request, "letters/staff/entered_detail.html", {"letter": letter})
    add_never_cache_headers(response)
    return response


# --- CSV import from outside platforms ------------------------------------------------------


def _error_rows(upload, errors):
    """(line, fields, reason) for the report: the fields a row check names for each line the
    import refused (the import's own message is the reason)."""
    fields = row_field_errors(upload, [line for line, _reason in errors])
    return [(line, fields.get(line, []), reason) for line, reason in errors]


@staff_required(*letter_rules.TRIAGE_ROLES)
@require_http_methods(["GET", "POST"])
def import_letters(request):
    if not intake.may_import(request.user):
        return forbidden(request, _("只有信访部门的受理人员可以导入外部平台来信。"))
    form = fs.ImportForm(request.POST or None, request.FILES or None)
    context = {"form": form}
    if request.method == "GET":
        return render(request, "letters/staff/import.html", context)
    if not form.is_valid():
        return render(request, "letters/staff/import.html", context, status=400)
    upload = form.cleaned_data["file"]
    try:
        report = imports.import_csv(
            actor=request.user, platform=form.cleaned_data["platform"], file=upload
        )
    except PermissionDenied as exc:
        context["error"] = str(exc)
        return render(request, "letters/staff/import.html", context, status=403)
    except workflow.WorkflowError as exc:
        context["error"] = str(exc)
        return render(request, "letters/staff/import.html", context, status=400)
    context.update(
        report=report,
        platform=form.cleaned_data["platform"],
        error_rows=_error_rows(upload, report.errors),
        form=fs.ImportForm(),
    )
    return render(request, "letters/staff/import.html", context)
