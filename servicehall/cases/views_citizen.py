"""Pages for applicants: apply, follow, answer a correction, rate; public progress look-up."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_ratelimit.decorators import ratelimit

from servicehall.accounts.models import Enterprise
from servicehall.catalog import qr
from servicehall.catalog.models import ServiceItem
from servicehall.core.audit import client_ip

from . import flows, queries_citizen, workflow
from .batch import parse_batch_file, template_csv, template_xlsx
from .forms import application_form_class, cleaned_data_to_json, evaluate_flow, initial_from_json
from .forms_citizen import (
    AgentApplicantForm,
    BatchUploadForm,
    ProgressForm,
    RatingForm,
    ServiceOptionsForm,
    materials_form_class,
    uploads_of,
)
from .models import Case


def _enterprises(user):
    return Enterprise.objects.filter(memberships__user=user, memberships__is_active=True)


def _own_case(request, pk) -> Case:
    case = get_object_or_404(Case.objects.select_related("item", "item__department"), pk=pk)
    if not workflow.is_applicant(request.user, case):
        raise Http404  # another person's case does not exist, as far as this user can tell
    return case


def _application_forms(request, item, *, draft=None):
    """The generated form plus materials, options and (for agents) the applicant form."""
    data, files = (request.POST, request.FILES) if request.method == "POST" else (None, None)
    initial = initial_from_json(item.document, draft.form_data if draft else None)
    forms = {
        "form": application_form_class(item.document)(data, initial=initial),
        "materials": materials_form_class(item.document)(data, files),
        "options": ServiceOptionsForm(
            data, initial={"green_channel": draft.green_channel if draft else ""}
        ),
    }
    if request.user.is_enterprise_agent:
        forms["agent"] = AgentApplicantForm(data, enterprises=_enterprises(request.user))
    return forms


@login_required
@require_http_methods(["GET", "POST"])
def apply(request, code):
    item = get_object_or_404(ServiceItem.active.select_related("department"), code=code)
    if (
        item.flow not in flows.APPLICABLE_FLOWS
        or "online" not in item.channels
        or request.user.is_staff_member
    ):
        messages.error(request, _("该事项不支持网上申请，请按办事指南到窗口办理。"))
        return redirect(item)
    draft = _draft_to_continue(request, item)
    forms = _application_forms(request, item, draft=draft)
    key = draft.submission_key if draft else uuid.uuid4()
    context = {"item": item, "key": key, **forms}
    if request.method == "GET":
        return render(request, "cases/apply.html", context)
    try:
        key = uuid.UUID(request.POST.get("submission_key", ""))
    except ValueError:
        return render(
            request,
            "cases/apply.html",
            {**context, "error": _("页面已过期，请刷新后重新填写。")},
            status=400,
        )
    context["key"] = key
    submitting = "submit" in request.POST
    form_ok = forms["form"].is_valid()
    extras_ok = all(f.is_valid() for name, f in forms.items() if name != "form")
    if not extras_ok or (submitting and not form_ok):
        return render(request, "cases/apply.html", context, status=400)
    agent = forms.get("agent")
    try:
        case = workflow.start_application(
            actor=request.user,
            item=item,
            submission_key=key,
            enterprise=agent.cleaned_data["enterprise"] if agent else None,
        )
        data = (
            forms["form"].to_json() if form_ok else cleaned_data_to_json(forms["form"].cleaned_data)
        )
        case = workflow.apply(
            actor=request.user,
            case=case,
            data=data,
            uploads=uploads_of(forms["materials"]),
            submit_flow=evaluate_flow(item.document, data) if submitting else None,
            applicant=agent.applicant() if agent else None,
            green_channel=forms["options"].cleaned_data["green_channel"],
            door_to_door=forms["options"].cleaned_data["door_to_door"],
        )
    except workflow.WorkflowError as error:
        return render(request, "cases/apply.html", {**context, "error": str(error)}, status=400)
    if case.status == flows.Status.DRAFT:
        messages.success(request, _("草稿已保存，可随时回来继续填写。"))
        return redirect(f"{request.path}?draft={case.pk}")
    return redirect("cases:receipt", pk=case.pk)


def _draft_to_continue(request, item):
    draft_id = request.GET.get("draft")
    if not draft_id or not draft_id.isdigit():
        return None
    case = _own_case(request, int(draft_id))
    if case.item_id != item.pk or case.status != flows.Status.DRAFT:
        raise Http404
    return case


@login_required
def my_cases(request):
    return render(request, "cases/my_cases.html", {"cases": queries_citizen.cases_of(request.user)})


@login_required
def detail(request, pk):
    case = _own_case(request, pk)
    context = queries_citizen.case_page(case)
    if case.status == flows.Status.CORRECTION:
        context.update(_application_forms(request, case.item, draft=case))
    if case.status in flows.RATEABLE and not context["rating"]:
        context["rating_form"] = RatingForm()
    return render(request, "cases/detail.html", context)


@login_required
@require_POST
def resubmit(request, pk):
    case = _own_case(request, pk)
    forms = _application_forms(request, case.item, draft=case)
    if not (forms["form"].is_valid() and forms["materials"].is_valid()):
        return render(
            request, "cases/detail.html", {**queries_citizen.case_page(case), **forms}, status=400
        )
    try:
        workflow.resubmit(
            actor=request.user,
            case=case,
            data=forms["form"].to_json(),
            uploads=uploads_of(forms["materials"]),
        )
    except workflow.WorkflowError as error:
        messages.error(request, str(error))
        return redirect(case)
    messages.success(request, _("补正材料已提交，我们会尽快办理。"))
    return redirect(case)


@login_required
@require_POST
def rate(request, pk):
    case = _own_case(request, pk)
    form = RatingForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "cases/detail.html",
            {**queries_citizen.case_page(case), "rating_form": form},
            status=400,
        )
    try:
        workflow.rate(
            actor=request.user,
            case=case,
            level=form.cleaned_data["level"],
            comment=form.cleaned_data["comment"],
        )
    except workflow.WorkflowError as error:
        messages.error(request, str(error))
        return redirect(case)
    messages.success(request, _("感谢您的评价！"))
    return redirect(case)


@login_required
@require_POST
def withdraw(request, pk):
    case = _own_case(request, pk)
    try:
        workflow.withdraw(actor=request.user, case=case)
    except workflow.WorkflowError as error:
        messages.error(request, str(error))
    return redirect(case)


def _progress_url(request, case) -> str:
    return qr.absolute_url(request, f"/cases/progress/?number={case.number}")


@login_required
def receipt(request, pk):
    case = _own_case(request, pk)
    if case.status == flows.Status.DRAFT:
        return redirect(case)
    return render(
        request, "cases/receipt.html", {"case": case, "progress_url": _progress_url(request, case)}
    )


@login_required
def receipt_qr(request, pk):
    case = _own_case(request, pk)
    if case.status == flows.Status.DRAFT:
        raise Http404
    return HttpResponse(
        qr.render(_progress_url(request, case), "svg"), content_type="image/svg+xml"
    )


@ratelimit(
    key=lambda group, request: client_ip(request) or "unknown",
    rate="20/10m",
    method="POST",
    block=False,
)
@require_http_methods(["GET", "POST"])
def progress(request):
    """阳光审批: number + phone, no sign-in; a wrong pair and an unknown number look the same."""
    if request.method == "GET":
        form = ProgressForm(initial={"number": request.GET.get("number", "")})
        return render(request, "cases/progress.html", {"form": form})
    if getattr(request, "limited", False):
        form = ProgressForm(request.POST)
        error = _("查询过于频繁，请10分钟后再试。")
        return render(request, "cases/progress.html", {"form": form, "error": error}, status=429)
    form = ProgressForm(request.POST)
    if not form.is_valid():
        return render(request, "cases/progress.html", {"form": form}, status=400)
    case = queries_citizen.case_for_progress(
        form.cleaned_data["number"], form.cleaned_data["phone"]
    )
    if case is None:
        error = _("未查询到办件。请核对办件编号和申请时填写的手机号码。")
        return render(request, "cases/progress.html", {"form": form, "error": error}, status=404)
    return render(
        request, "cases/progress.html", {"form": form, **queries_citizen.public_progress(case)}
    )


@login_required
@require_http_methods(["GET", "POST"])
def batch(request, code):
    item = get_object_or_404(ServiceItem.active, code=code)
    enterprises = _enterprises(request.user)
    if not enterprises.exists():
        raise PermissionDenied(_("集中申报须以获得授权的企业经办人身份登录。"))
    if request.method == "GET":
        form = BatchUploadForm(enterprises=enterprises)
        return render(
            request, "cases/batch.html", {"item": item, "form": form, "key": uuid.uuid4()}
        )
    form = BatchUploadForm(request.POST, request.FILES, enterprises=enterprises)
    try:
        key = uuid.UUID(request.POST.get("upload_key", ""))
    except ValueError:
        key = None
    if key is None or not form.is_valid():
        return render(
            request,
            "cases/batch.html",
            {"item": item, "form": form, "key": key or uuid.uuid4()},
            status=400,
        )
    upload = form.cleaned_data["file"]
    result = parse_batch_file(upload)
    if not result.valid_rows:
        context = {"item": item, "form": form, "key": key, "errors": result.errors}
        return render(request, "cases/batch.html", context, status=400)
    batch = workflow.file_batch(
        actor=request.user,
        item=item,
        enterprise=form.cleaned_data["enterprise"],
        upload_key=key,
        file_name=upload.name[:200],
        result=result,
    )
    return render(
        request,
        "cases/batch_report.html",
        {"item": item, "batch": batch, "cases": batch.cases.order_by("id")},
    )


def batch_template(request):
    """The Excel template first: Excel mangles 18-digit ID numbers typed into a CSV."""
    if request.GET.get("format") == "csv":
        response = HttpResponse(template_csv(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="liudong-renkou-template.csv"'
        return response
    response = HttpResponse(
        template_xlsx(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = 'attachment; filename="liudong-renkou-template.xlsx"'
    return response
