"""Hotel front desk: ask for a guest's identity proof (未带身份证住宿) and redeem it at check-in.

A hotel account (User.kind hotel with a HotelAccount) sees only its own hotel's proofs;
another hotel's proof is a 404 and its code "invalid". What a page shows about a request
that did not match never depends on why (see proofs.py): only what the desk typed and the
request's state.
"""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_ratelimit.decorators import ratelimit

from servicehall.catalog import qr
from servicehall.core.audit import client_ip
from servicehall.core.permissions import forbidden

from . import proofs
from .forms import ProofRequestForm, VerifyCodeForm
from .models import IdentityProof

RECENT = 20


def hotel_required(view):
    """Anonymous -> login; signed in but not a hotel front-desk account -> 403."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
        if not (user.is_hotel and getattr(user, "hotel_account", None) is not None):
            return forbidden(request, _("此页面仅供已登记的旅馆账号使用。"))
        request.hotel = user.hotel_account.hotel
        return view(request, *args, **kwargs)

    return wrapped


def _per_account(group, request) -> str:
    # Per front-desk login: one busy hotel's desks do not throttle each other, and a
    # hotel cannot spread guesses over a shared pool.
    return f"hotel-user:{request.user.pk}"


def _request_rate(group, request) -> str:
    return getattr(settings, "REGISTRY_PROOF_RATE", "30/h")


def _verify_rate(group, request) -> str:
    return getattr(settings, "REGISTRY_PROOF_VERIFY_RATE", "60/h")


def _private(response):
    add_never_cache_headers(response)
    return response


def _home_context(request, form):
    recent = IdentityProof.objects.filter(hotel=request.hotel).order_by("-created_at")[:RECENT]
    return {"form": form, "recent": recent, "hotel": request.hotel}


@hotel_required
@require_GET
def home(request):
    return _private(
        render(request, "registry/hotel/home.html", _home_context(request, ProofRequestForm()))
    )


@hotel_required
@ratelimit(key=_per_account, rate=_request_rate, method="POST", block=False)
@require_POST
def new_proof(request):
    form = ProofRequestForm(request.POST)
    if getattr(request, "limited", False):
        context = {**_home_context(request, form), "error": _("提交过于频繁，请稍后再试。")}
        return _private(render(request, "registry/hotel/home.html", context, status=429))
    if not form.is_valid():
        return _private(
            render(request, "registry/hotel/home.html", _home_context(request, form), status=400)
        )
    data = form.cleaned_data
    try:
        proof = proofs.request_proof(
            actor=request.user,
            name=data["guest_name"],
            id_number=data["guest_id_number"],
            phone=data["guest_phone"],
            ip=client_ip(request),
        )
    except PermissionDenied as exc:
        return forbidden(request, str(exc))
    return redirect("registry_hotel:proof", pk=proof.pk)


def _own_proof(request, pk: int) -> IdentityProof:
    proof = IdentityProof.objects.filter(pk=pk, hotel=request.hotel).first()
    if proof is None:
        raise Http404(_("未找到该核验申请。"))
    return proof


def _verify_url(request, code: str) -> str:
    return qr.absolute_url(
        request, f"{reverse('registry_hotel:verify')}?{urlencode({'code': code})}"
    )


@hotel_required
@require_GET
def proof(request, pk: int):
    item = _own_proof(request, pk)
    return _private(render(request, "registry/hotel/proof.html", {"proof": item}))


@hotel_required
@require_GET
def proof_qr(request, pk: int):
    item = _own_proof(request, pk)
    if item.state != IdentityProof.State.ISSUED or not item.code:
        raise Http404
    response = HttpResponse(
        qr.render(_verify_url(request, item.code), "svg"), content_type="image/svg+xml"
    )
    return _private(response)


@hotel_required
@ratelimit(key=_per_account, rate=_verify_rate, method="POST", block=False)
@require_http_methods(["GET", "POST"])
def verify(request):
    """入住核销: the code from the guest's SMS (or the QR) is redeemed once."""
    if request.method == "GET":
        form = VerifyCodeForm(initial={"code": request.GET.get("code", "")[:20]})
        return render(request, "registry/hotel/verify.html", {"form": form})
    form = VerifyCodeForm(request.POST)
    if getattr(request, "limited", False):
        error = _("核验过于频繁，请稍后再试。")
        return render(
            request, "registry/hotel/verify.html", {"form": form, "error": error}, status=429
        )
    if not form.is_valid():
        return render(request, "registry/hotel/verify.html", {"form": form}, status=400)
    try:
        used = proofs.use(actor=request.user, code=form.cleaned_data["code"], ip=client_ip(request))
    except proofs.ProofError as exc:
        context = {"form": form, "error": str(exc)}
        status = 404 if exc.kind == "unknown" else 409
        return render(request, "registry/hotel/verify.html", context, status=status)
    messages.success(request, _("核验通过，已核销，可为旅客办理入住登记。"))
    return _private(
        render(request, "registry/hotel/verify.html", {"form": VerifyCodeForm(), "used": used})
    )
