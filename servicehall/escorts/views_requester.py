"""Pages for requesters (citizens, enterprise agents): the request form, "my escorts" and one
request with its timeline and the cancel button while it may still be cancelled.

A double submit is one request (the form's client token); bad input re-renders the form
with Chinese field errors and a 400; someone else's request does not exist (404).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from servicehall.core.permissions import forbidden

from . import queries, rules, workflow
from .forms import CancelForm, RequestForm
from .models import Status

CANCELLABLE = (Status.REQUESTED, Status.ACCEPTED)


@login_required
def index(request):
    if request.user.is_staff_member:
        return redirect("escorts:queue")
    return redirect("escorts:mine")


def _context(form) -> dict:
    return {"form": form, "lead_hours": settings.ESCORT_MIN_LEAD_HOURS}


@login_required
@require_http_methods(["GET", "POST"])
def new(request):
    if not rules.may_request(request.user):
        return forbidden(request, _("只有完成实名认证的个人用户或企业经办人可以在网上申请护送。"))
    template = "escorts/request.html"
    if request.method == "GET":
        return render(request, template, _context(RequestForm.blank(request.user)))
    form = RequestForm(request.POST, user=request.user)
    if not form.is_valid():
        return render(request, template, _context(form), status=400)
    try:
        submitted = workflow.request_escort(actor=request.user, **form.verb_kwargs())
    except PermissionDenied as exc:
        return forbidden(request, str(exc))
    except workflow.EscortError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, str(exc))
        return render(request, template, _context(form), status=400)
    if submitted.created:
        messages.success(request, _("护送申请已提交，派出所将在答复时限内受理并短信通知您。"))
    return redirect("escorts:mine_detail", number=submitted.escort.number)


@login_required
def mine(request):
    return render(request, "escorts/mine.html", {"escorts": queries.requests_of(request.user)})


def _own(request, number):
    escort = queries.request_of(request.user, number)
    if escort is None:
        raise Http404  # someone else's request does not exist, as far as this user can tell
    return escort


def _detail(request, escort, *, form=None, status=200):
    context = {
        "escort": escort,
        "events": queries.timeline(escort),
        "can_cancel": escort.status in CANCELLABLE,
        "cancel_form": form or CancelForm(),
    }
    return render(request, "escorts/detail.html", context, status=status)


@login_required
def mine_detail(request, number):
    return _detail(request, _own(request, number))


@login_required
@require_POST
def cancel(request, number):
    escort = _own(request, number)
    form = CancelForm(request.POST)
    if not form.is_valid():
        return _detail(request, escort, form=form, status=400)
    try:
        workflow.cancel(actor=request.user, escort=escort, reason=form.cleaned_data["reason"])
    except workflow.EscortError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("护送申请已取消。"))
    return redirect("escorts:mine_detail", number=escort.number)
