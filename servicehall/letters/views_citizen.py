"""Pages for writers: the channels, writing, 12389 reports, following a letter with the code,
one's own letters, and the public page of answered letters.

Anonymity (12389 reports, and anyone following a letter with its code):
- An anonymous report is received with actor=None, even from a signed-in account: the verb
  then records no account and no IP address, and these views never audit with the request.
- Its receipt, with the one-time follow-up code, is the POST's own response (no-store), not
  a redirect: the code never appears in a URL, a session or a message. Sending the form
  again within 30 minutes shows the same letter and code (intake derives it from the token).
- Following up: the code is typed into a POST form (rate-limited per client address; the
  limiter keeps only a short-lived counter, never the letter). After a right code the
  browser holds it for 15 minutes in a signed, HttpOnly, SameSite=Strict cookie sent only to
  /letters/follow-up/ pages (POST-redirect-GET); nothing is stored on the server, so
  nothing ties the browser, a session or a later sign-in to the letter. "结束查询" deletes it.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from django_ratelimit.core import get_usage

from servicehall.accounts import rules as account_rules
from servicehall.core.audit import client_ip

from . import intake, queries, queries_citizen, workflow
from .flows import Channel, Kind
from .forms_citizen import (
    CHANNEL_KINDS,
    AnsweredSearchForm,
    FollowUpForm,
    LetterForm,
    LetterRatingForm,
    ReopenForm,
    ReportForm,
    WithdrawForm,
)
from .workflow import WorkflowError

CODE_COOKIE = "letters_code"
CODE_SALT = "servicehall.letters.follow_up"
CODE_MAX_AGE = 15 * 60
RATE_GROUP = "letters.follow_up"


def _rate(group, request):
    return getattr(settings, "LETTER_FOLLOW_UP_RATE", "10/10m") or None


def _client(group, request):
    return client_ip(request) or "unknown"


def rate_limited(request) -> int:
    """Count one code attempt for this client; the seconds to wait when over the limit."""
    usage = get_usage(request, group=RATE_GROUP, key=_client, rate=_rate, increment=True)
    if usage is None or not usage["should_limit"]:
        return 0
    return max(int(usage["time_left"]), 1)


def index(request):
    days = settings.LETTER_REPLY_DAYS
    return render(
        request,
        "letters/citizen/index.html",
        {"quick_days": days.get(Kind.CONSULTATION), "other_days": days.get(Kind.COMPLAINT)},
    )


def _posted_key(request) -> uuid.UUID | None:
    try:
        return uuid.UUID(request.POST.get("submission_key", ""))
    except ValueError:
        return None


def _contact_initial(user) -> dict:
    if not account_rules.is_authenticated(user):
        return {}
    profile = user.citizen_profile_or_none
    return {
        "contact_name": user.name,
        "contact_phone": profile.mobile if profile else "",
        "contact_email": user.email,
    }


def _form_error(request, template, context, error, status=400):
    return render(request, template, {**context, "error": error}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def write(request, channel):
    """局长信箱, 网上110, 民意通: a signed-in citizen writes; a double submit is one letter."""
    if channel not in CHANNEL_KINDS:
        raise Http404
    if request.user.is_staff_member:
        raise PermissionDenied(_("工作人员请通过工作台登记来信。"))
    posted = request.method == "POST"
    form = LetterForm(
        request.POST if posted else None,
        request.FILES if posted else None,
        channel=channel,
        initial=_contact_initial(request.user),
    )
    key = _posted_key(request) if posted else None
    template = "letters/citizen/write.html"
    context = {"form": form, "channel": Channel(channel), "key": key or uuid.uuid4()}
    if not posted:
        return render(request, template, context)
    if key is None:
        return _form_error(request, template, context, _("页面已过期，请刷新后重新填写。"))
    if not form.is_valid():
        return render(request, template, context, status=400)
    data = form.cleaned_data
    try:
        receipt = intake.receive(
            actor=request.user,
            submission_key=key,
            channel=channel,
            kind=data["kind"],
            subject=data["subject"],
            body=data["body"],
            contact_phone=data["contact_phone"],
            contact_email=data["contact_email"],
            publish_consent=data["publish_consent"],
            address=data["address"],
            attachments=data["attachments"],
        )
    except WorkflowError as error:
        return _form_error(request, template, context, str(error))
    return redirect("letters:receipt", number=receipt.letter.number)


@never_cache
@require_http_methods(["GET", "POST"])
def report(request):
    """12389: anonymous by default for visitors; see the module docstring."""
    signed_in = account_rules.is_authenticated(request.user)
    posted = request.method == "POST"
    form = ReportForm(
        request.POST if posted else None,
        request.FILES if posted else None,
        signed_in=signed_in,
        staff=signed_in and request.user.is_staff_member,
        initial={
            "identity": ReportForm.NAMED if signed_in else ReportForm.ANONYMOUS,
            **_contact_initial(request.user),
        },
    )
    key = _posted_key(request) if posted else None
    template = "letters/citizen/report.html"
    context = {"form": form, "key": key or uuid.uuid4()}
    if not posted:
        return render(request, template, context)
    if key is None:
        return _form_error(request, template, context, _("页面已过期，请刷新后重新填写。"))
    if not form.is_valid():
        return render(request, template, context, status=400)
    data = form.cleaned_data
    try:
        receipt = intake.receive(
            actor=None if form.anonymous else request.user,
            submission_key=key,
            channel=Channel.MISCONDUCT,
            kind=Kind.REPORT,
            anonymous=form.anonymous,
            subject=data["subject"],
            body=form.letter_body(),
            subject_officer=data["subject_officer"],
            contact_name=data["contact_name"],
            contact_phone=data["contact_phone"],
            address=data["address"],
            attachments=data["attachments"],
        )
    except WorkflowError as error:
        return _form_error(request, template, context, str(error))
    if receipt.letter.writer_id is not None:
        return redirect("letters:receipt", number=receipt.letter.number)
    return render(
        request,
        "letters/citizen/report_receipt.html",
        {"letter": receipt.letter, "code": receipt.follow_up_code},
    )


# --- the writer's letters: signed in, or with the code -----------------------------------------

# action -> (form, its name in the page, verb, message on success); the same for a writer
# and a code holder.
ACTIONS = {
    "rate": (LetterRatingForm, "rating_form", workflow.rate, gettext_lazy("感谢您的评价！")),
    "reopen": (
        ReopenForm,
        "reopen_form",
        workflow.reopen,
        gettext_lazy("已申请重新办理，我们将在新的期限内再次答复。"),
    ),
    "withdraw": (WithdrawForm, "withdraw_form", workflow.withdraw, gettext_lazy("来信已撤回。")),
    "withdraw_consent": (
        None,
        "",
        workflow.withdraw_consent,
        gettext_lazy("已撤回公开同意，答复不会在网上公开。"),
    ),
}


def _letter_response(request, letter, template, *, action_urls, forms=None, status=200):
    context = {
        **queries_citizen.letter_page(letter),
        "rating_form": LetterRatingForm(),
        "reopen_form": ReopenForm(),
        "withdraw_form": WithdrawForm(),
        "action_urls": action_urls,
        **(forms or {}),
    }
    return render(request, template, context, status=status)


def _act(request, letter, action, *, code, template, action_urls, done_url):
    """Validate the action's form and call its verb once (PRG on success or refusal)."""
    if action not in ACTIONS:
        raise Http404
    form_class, form_name, verb, done = ACTIONS[action]
    form = form_class(request.POST) if form_class else None
    if form is not None and not form.is_valid():
        return _letter_response(
            request, letter, template, action_urls=action_urls, forms={form_name: form}, status=400
        )
    actor = request.user if code is None else None
    try:
        verb(actor=actor, letter=letter, code=code, **(form.cleaned_data if form else {}))
    except WorkflowError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, str(done))
    return redirect(done_url)


def _own_letter(request, number):
    letter = queries_citizen.letter_of(request.user, number)
    if letter is None:
        raise Http404  # another person's letter does not exist, as far as this user can tell
    return letter


def _mine_urls(letter) -> dict:
    return {name: reverse("letters:mine_act", args=[letter.number, name]) for name in ACTIONS}


@login_required
def mine(request):
    return render(
        request,
        "letters/citizen/mine.html",
        {"letters": queries_citizen.letters_of(request.user)},
    )


@login_required
def mine_detail(request, number):
    letter = _own_letter(request, number)
    return _letter_response(
        request, letter, "letters/citizen/detail.html", action_urls=_mine_urls(letter)
    )


@login_required
def receipt(request, number):
    return render(request, "letters/citizen/receipt.html", {"letter": _own_letter(request, number)})


@login_required
@require_POST
def mine_act(request, number, action):
    letter = _own_letter(request, number)
    return _act(
        request,
        letter,
        action,
        code=None,
        template="letters/citizen/detail.html",
        action_urls=_mine_urls(letter),
        done_url=reverse("letters:mine_detail", args=[letter.number]),
    )


# --- following a letter with its code ------------------------------------------------------------


def _held_code(request) -> str | None:
    return request.get_signed_cookie(
        CODE_COOKIE, default=None, salt=CODE_SALT, max_age=CODE_MAX_AGE
    )


def _hold_code(response, code: str):
    response.set_signed_cookie(
        CODE_COOKIE,
        code,
        salt=CODE_SALT,
        max_age=CODE_MAX_AGE,
        path=reverse("letters:follow_up"),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Strict",
    )
    return response


def _code_urls() -> dict:
    return {name: reverse("letters:follow_up_act", args=[name]) for name in ACTIONS}


@never_cache
@require_http_methods(["GET", "POST"])
def follow_up(request):
    template = "letters/citizen/follow_up.html"
    if request.method == "GET":
        letter = queries.letter_for_code(_held_code(request))
        if letter is None:
            return render(request, template, {"form": FollowUpForm()})
        return _letter_response(request, letter, template, action_urls=_code_urls())
    form = FollowUpForm(request.POST)
    wait = rate_limited(request)
    if wait:
        error = _("查询次数过多，请%(seconds)d秒后再试。") % {"seconds": wait}
        response = _form_error(request, template, {"form": form}, error, status=429)
        response["Retry-After"] = str(wait)
        return response
    if not form.is_valid():
        return render(request, template, {"form": form}, status=400)
    code = form.cleaned_data["code"]
    if queries.letter_for_code(code) is None:
        form.add_error("code", _("查询码不正确，请核对后重新输入。"))
        return render(request, template, {"form": form}, status=404)
    return _hold_code(redirect("letters:follow_up"), code)


@never_cache
@require_POST
def follow_up_act(request, action):
    code = _held_code(request)
    letter = queries.letter_for_code(code)
    if letter is None:
        messages.info(request, _("查询已超时，请重新输入查询码。"))
        return redirect("letters:follow_up")
    return _act(
        request,
        letter,
        action,
        code=code,
        template="letters/citizen/follow_up.html",
        action_urls=_code_urls(),
        done_url=reverse("letters:follow_up"),
    )


@require_POST
def follow_up_end(request):
    response = redirect("letters:follow_up")
    response.delete_cookie(CODE_COOKIE, path=reverse("letters:follow_up"), samesite="Strict")
    return response


# --- answered letters (public) -------------------------------------------------------------------


def answered(request):
    form = AnsweredSearchForm(request.GET)
    search = form.cleaned_data["q"].strip() if form.is_valid() else ""
    page = Paginator(queries_citizen.answered(search), 10).get_page(request.GET.get("page"))
    return render(
        request,
        "letters/citizen/answered.html",
        {"form": form, "search": search, "page": page},
    )


def answered_detail(request, number):
    letter = queries_citizen.answered_letter(number)
    if letter is None:
        raise Http404
    return render(request, "letters/citizen/answered_detail.html", {"letter": letter})
