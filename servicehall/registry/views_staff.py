"""Station pages: registry look-up, household cards, the identity-proof confirmation queue.

All of them: verified staff holding a look-up role (lookup.LOOKUP_ROLES), else login / OTP
redirect or 403. Reads go through lookup.py (which audits them), changes through proofs.py.
Pages showing personal data are never cached.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from servicehall.core import audit
from servicehall.core.audit import client_ip
from servicehall.core.permissions import forbidden, staff_required

from . import lookup, proofs
from .forms import CardPurposeForm, DecisionForm, LookupForm
from .models import IdentityProof

QUEUE_RECENT = 30


def _private(response):
    add_never_cache_headers(response)
    return response


def _denied(request, exc):
    """A refused read (e.g. a clerk asking for full numbers) leaves a trace, then a 403."""
    audit.record_for_request(
        request,
        action="access.denied",
        success=False,
        details={"path": request.path, "reason": "registry.full_view"},
    )
    return forbidden(request, str(exc))


@staff_required(*lookup.LOOKUP_ROLES)
@require_http_methods(["GET", "POST"])
def search(request):
    """查询: the form on GET; on POST one audited look-up (POST keeps ID numbers out of URLs)."""
    can_full = lookup.can_view_full(request.user)
    if request.method == "GET":
        return render(
            request, "registry/staff/lookup.html", {"form": LookupForm(), "can_full": can_full}
        )
    form = LookupForm(request.POST)
    context = {"form": form, "can_full": can_full}
    if not form.is_valid():
        return render(request, "registry/staff/lookup.html", context, status=400)
    data = form.cleaned_data
    common = {
        "actor": request.user,
        "purpose": form.purpose_text,
        "reveal_reason": data["reveal_reason"],
        "ip": client_ip(request),
    }
    try:
        if data["id_number"]:
            result = lookup.look_up_by_id_number(id_number=data["id_number"], **common)
        else:
            result = lookup.look_up_by_name(
                name=data["name"], birth_date=data["birth_date"], **common
            )
    except PermissionDenied as exc:
        return _denied(request, exc)
    # A fresh form: the page shows the number masked in the results, not in clear in the
    # input; the purpose stays for the next look-up of the same visit.
    context["form"] = LookupForm(
        initial={"purpose": data["purpose"], "purpose_detail": data["purpose_detail"]}
    )
    context.update(result=result, card_query=urlencode({"purpose": result.purpose}))
    return _private(render(request, "registry/staff/lookup.html", context))


@staff_required(*lookup.LOOKUP_ROLES)
@require_http_methods(["GET", "POST"])
def household(request, pk: int):
    """户籍卡片: GET ?purpose= (from a look-up's results), POST to reveal numbers."""
    data = request.POST if request.method == "POST" else request.GET
    can_full = lookup.can_view_full(request.user)
    if "purpose" not in data:
        context = {"form": CardPurposeForm(), "pk": pk, "can_full": can_full}
        return render(request, "registry/staff/household.html", context)
    form = CardPurposeForm(data)
    context = {"form": form, "pk": pk, "can_full": can_full}
    if not form.is_valid():
        return render(request, "registry/staff/household.html", context, status=400)
    try:
        card = lookup.household_card(
            actor=request.user,
            household_id=pk,
            purpose=form.cleaned_data["purpose"],
            reveal_reason=form.cleaned_data["reveal_reason"],
            ip=client_ip(request),
        )
    except PermissionDenied as exc:
        return _denied(request, exc)
    if card is None:
        # Outside the jurisdiction and non-existent look the same (the read is audited).
        raise Http404(_("未找到该户籍卡片。"))
    context.update(card=card, purpose=form.cleaned_data["purpose"])
    return _private(render(request, "registry/staff/household.html", context))


# --- identity proofs: the station's confirmation queue --------------------------------------


def _proof_or_404(request, pk: int) -> IdentityProof:
    proof = proofs.proofs_for_staff(request.user).filter(pk=pk).first()
    if proof is None:
        raise Http404(_("未找到该核验申请。"))
    return proof


@staff_required(*proofs.CONFIRM_ROLES)
@require_GET
def proof_queue(request):
    mine = proofs.proofs_for_staff(request.user)
    context = {
        "pending": mine.filter(state=IdentityProof.State.PENDING).order_by("created_at"),
        "recent": mine.exclude(state=IdentityProof.State.PENDING).order_by("-created_at")[
            :QUEUE_RECENT
        ],
    }
    return _private(render(request, "registry/staff/proofs.html", context))


def _render_proof(request, proof, *, form=None, status=200, error=""):
    """The submitted data in full plus the registry's answer: an audited read."""
    check = proofs.registry_check(proof.guest_name, proof.guest_id_number)
    audit.record_read(
        request,
        proof,
        purpose=proofs.REVIEW_PURPOSE,
        fields=["guest_name", "guest_id_number", "guest_phone", "registry_match"],
        target_repr=proofs.masked_repr(proof),
        details={"match": check.result.value},
    )
    context = {
        "proof": proof,
        "match": check.result,
        "matched": check.result == proofs.Match.MATCHED,
        "form": form or DecisionForm(),
        "error": error,
    }
    return _private(render(request, "registry/staff/proof.html", context, status=status))


@staff_required(*proofs.CONFIRM_ROLES)
@require_GET
def proof_detail(request, pk: int):
    return _render_proof(request, _proof_or_404(request, pk))


@staff_required(*proofs.CONFIRM_ROLES)
@require_POST
def proof_decide(request, pk: int, decision: str):
    if decision not in ("confirm", "refuse"):
        raise Http404
    proof = _proof_or_404(request, pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return _render_proof(request, proof, form=form, status=400)
    note = form.cleaned_data["note"]
    try:
        if decision == "confirm":
            proofs.confirm(actor=request.user, proof=proof, note=note, ip=client_ip(request))
            messages.success(request, _("已确认，核验码已出具并以短信告知旅客。"))
        else:
            proofs.refuse(actor=request.user, proof=proof, reason=note, ip=client_ip(request))
            messages.success(request, _("已标记为未通过核验，旅馆将收到通知。"))
    except PermissionDenied as exc:
        return forbidden(request, str(exc))
    except proofs.ProofError as exc:
        status = 400 if proof.state == IdentityProof.State.PENDING else 409
        return _render_proof(request, proof, form=form, status=status, error=str(exc))
    return redirect("registry_staff:proofs")
