"""未带身份证住宿: identity proofs for hotel guests without their ID card — the only code that
changes an IdentityProof.

Verbs (keyword-only `actor`, one transaction, an audit entry each):

    request_proof(actor=hotel_user, name=, id_number=, phone=)  -> proof (issued/pending/refused)
    confirm(actor=clerk, proof=, note="")                       -> proof (pending -> issued)
    refuse(actor=clerk, proof=, reason=)                        -> proof (pending -> refused)
    use(actor=hotel_user, code=)                                -> proof (issued -> used)
    expire_due(now=None)                                        -> how many expired

The flow. A hotel submits the guest's name, ID number and phone; the hotel is its account's.
The registry check (`registry_check`) matches when a registered (live) card bears that number
under the same name. settings.REGISTRY_PROOF_CONFIRMATION decides what follows:

    "unmatched" (default)  a match is issued at once; anything else waits for a clerk of the
                           hotel's station, who checks by other means and confirms or refuses
    "always"               every request waits for a clerk
    "never"                a match is issued at once; anything else is refused at once

An issued proof has an 8-character code from an alphabet without look-alikes (no 0/O, 1/I/L),
drawn with `secrets` (32^8 ≈ 10^12 codes), valid for settings.REGISTRY_PROOF_VALID_HOURS
(default 24) hours; the code is sent to the guest's phone by SMS. At check-in the hotel
enters (or scans) the code: it works once, only for the hotel that asked, only before it
expires. A code another hotel enters is "invalid", exactly like a code that never existed.

What the hotel never learns: why a request did not match. An unknown number, another
person's number and a deceased or moved-out person's number all produce the same pending
(or refused) proof holding only what the hotel typed, and take the same path here (one query
by number, one insert, one audit entry). The registry's name for a number is never shown to
a hotel. Staff see the reason (`registry_check`) on the confirmation page.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db import transaction
from django.db.models import TextChoices
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from servicehall.accounts.rules import jurisdiction_filter
from servicehall.core import audit
from servicehall.core.idnumbers import normalize_cn_mobile, normalize_id_number
from servicehall.core.masking import mask_id_number, mask_name, mask_phone
from servicehall.notify import outbox

from .lookup import LOOKUP_ROLES
from .models import IdentityProof, Person, PersonStatus

State = IdentityProof.State

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0 O 1 I L: read aloud, typed by hand
CODE_LENGTH = 8
CONFIRM_ROLES = LOOKUP_ROLES
POLICIES = ("always", "unmatched", "never")
# Stored as written (audit purposes are Chinese whatever the interface language).
REVIEW_PURPOSE = "住宿身份核验"

__all__ = [
    "CODE_ALPHABET",
    "CODE_LENGTH",
    "CONFIRM_ROLES",
    "Match",
    "ProofError",
    "confirm",
    "expire_due",
    "masked_repr",
    "normalize_code",
    "policy",
    "proofs_for_staff",
    "refuse",
    "registry_check",
    "request_proof",
    "use",
    "valid_hours",
]


class ProofError(Exception):
    """A refused step; the message is for the user (already translated). `kind` says why
    in code: "unknown" (no such code for this hotel), "used", "expired", "invalid"."""

    def __init__(self, message: str, kind: str = "invalid"):
        super().__init__(message)
        self.kind = kind


class Match(TextChoices):
    """The registry check's answer. For staff eyes only: hotels never see it."""

    MATCHED = "matched", gettext_lazy("户籍登记信息一致")
    NAME_MISMATCH = "name_mismatch", gettext_lazy("身份号码在册，但姓名不一致")
    NOT_LIVE = "not_live", gettext_lazy("身份号码对应人员已迁出或死亡")
    NOT_FOUND = "not_found", gettext_lazy("本市户籍库中无此身份号码")


@dataclass(frozen=True)
class Check:
    result: Match
    person: Person | None


# --- settings ------------------------------------------------------------------------------


def policy() -> str:
    value = getattr(settings, "REGISTRY_PROOF_CONFIRMATION", "unmatched")
    if value not in POLICIES:
        raise ImproperlyConfigured(f"REGISTRY_PROOF_CONFIRMATION must be one of {POLICIES}")
    return value


def valid_hours() -> int:
    return int(getattr(settings, "REGISTRY_PROOF_VALID_HOURS", 24))


# --- checks --------------------------------------------------------------------------------

_DOTS = re.compile(r"[•・．.‧∙⋅]")


def normalize_name(value: object) -> str:
    """Full-width forms folded, spaces dropped, the middle dots people type made U+00B7."""
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(value or "")))
    return _DOTS.sub("·", text)


def normalize_code(value: object) -> str:
    """Upper case, no spaces or dashes, full-width folded (a code read out or typed on a phone)."""
    return re.sub(r"[\s\-]+", "", unicodedata.normalize("NFKC", str(value or ""))).upper()


def registry_check(name: str, id_number: str) -> Check:
    """Does a live card bear this number under this name? One query whatever the answer."""
    number = normalize_id_number(id_number)
    cards = list(Person.objects.filter(id_number=number).only("pk", "name", "status"))
    live = next((p for p in cards if p.status == PersonStatus.REGISTERED), None)
    if live is not None:
        if normalize_name(live.name) == normalize_name(name):
            return Check(Match.MATCHED, live)
        return Check(Match.NAME_MISMATCH, None)
    return Check(Match.NOT_LIVE if cards else Match.NOT_FOUND, None)


def _hotel_of(actor):
    account = getattr(actor, "hotel_account", None) if getattr(actor, "is_hotel", False) else None
    if account is None or not actor.is_active:
        raise PermissionDenied(_("此功能仅供已登记的旅馆账号使用。"))
    return account.hotel


def proofs_for_staff(actor):
    """Proofs of hotels in the actor's jurisdiction (the hotel's station decides)."""
    if not getattr(actor, "is_staff_member", False) or not actor.has_role(*CONFIRM_ROLES):
        return IdentityProof.objects.none()
    return jurisdiction_filter(
        actor,
        IdentityProof.objects.select_related("hotel", "hotel__station", "confirmed_by"),
        station_field="hotel__station",
        district_field="hotel__district",
    )


def masked_repr(proof: IdentityProof) -> str:
    return f"{mask_name(proof.guest_name)} {mask_id_number(proof.guest_id_number)}"


# --- verbs ---------------------------------------------------------------------------------


def request_proof(
    *, actor, name: str, id_number: str, phone: str, ip: str | None = None
) -> IdentityProof:
    """A hotel asks for a proof. A repeat of a still-open request returns that request."""
    hotel = _hotel_of(actor)
    name, number = normalize_name(name), normalize_id_number(id_number)
    phone = normalize_cn_mobile(phone)
    now = timezone.now()
    with transaction.atomic():
        check = registry_check(name, number)
        repeat = _open_request(hotel, name, number, now)
        if repeat is not None:
            audit.record(
                actor=actor,
                action="identity_proof.request",
                target=repeat,
                target_repr=masked_repr(repeat),
                purpose=REVIEW_PURPOSE,
                ip=ip,
                details={"hotel": hotel.pk, "repeat": True, "match": check.result.value},
            )
            return repeat
        chosen = policy()
        matched = check.result == Match.MATCHED
        if matched and chosen != "always":
            state = State.ISSUED
        elif chosen == "never":
            state = State.REFUSED
        else:
            state = State.PENDING
        proof = IdentityProof.objects.create(
            hotel=hotel,
            requested_by=actor,
            guest_name=name,
            guest_id_number=number,
            guest_phone=phone,
            person=check.person,
            state=State.PENDING,
        )
        audit.record(
            actor=actor,
            action="identity_proof.request",
            target=proof,
            target_repr=masked_repr(proof),
            purpose=REVIEW_PURPOSE,
            ip=ip,
            details={
                "hotel": hotel.pk,
                "id_number_masked": mask_id_number(number),
                "phone_masked": mask_phone(phone),
                "match": check.result.value,
                "policy": chosen,
                "outcome": state.value,
            },
        )
        if state == State.ISSUED:
            _issue(proof, actor=actor, how="automatic", ip=ip)
        elif state == State.REFUSED:
            _refuse(proof, actor=actor, reason="未通过自动核验", how="automatic", ip=ip)
    return proof


def _open_request(hotel, name, number, now) -> IdentityProof | None:
    """The same guest's request at the same hotel that still stands (a double click, a retry)."""
    return (
        IdentityProof.objects.select_for_update()
        .filter(hotel=hotel, guest_id_number=number, guest_name=name)
        .filter(state__in=[State.PENDING, State.ISSUED])
        .filter(created_at__gt=now - timedelta(hours=valid_hours()))
        .exclude(state=State.ISSUED, expires_at__lte=now)
        .order_by("-created_at")
        .first()
    )


def _new_code() -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        # The unique constraint is the guarantee; this keeps a collision from failing a
        # transaction in the 1-in-10^12 case.
        if not IdentityProof.objects.filter(code=code).exists():
            return code


def _issue(proof: IdentityProof, *, actor, how: str, ip: str | None, note: str = "") -> None:
    proof.state = State.ISSUED
    proof.code = _new_code()
    proof.expires_at = timezone.now() + timedelta(hours=valid_hours())
    fields = ["state", "code", "expires_at"]
    if how == "confirmed":
        proof.confirmed_by = actor
        fields.append("confirmed_by")
    proof.save(update_fields=fields)
    audit.record(
        actor=actor,
        action="identity_proof.issue",
        target=proof,
        target_repr=masked_repr(proof),
        purpose=REVIEW_PURPOSE,
        ip=ip,
        details={"how": how, "expires_at": proof.expires_at.isoformat(), "note": note},
    )
    expires = timezone.localtime(proof.expires_at)
    outbox.notify_sms(
        proof.guest_phone,
        f"您的住宿身份证明已出具，核验码{proof.code}，有效期至{expires:%m月%d日%H:%M}，"
        f"仅限在{proof.hotel.name}办理入住时使用。如非本人申请，请拨打110。",
        dedupe_key=f"identity_proof:{proof.pk}:issued",
        about=proof,
    )


def _refuse(proof: IdentityProof, *, actor, reason: str, how: str, ip: str | None) -> None:
    proof.state = State.REFUSED
    fields = ["state"]
    if how == "confirmed":
        proof.confirmed_by = actor
        fields.append("confirmed_by")
    proof.save(update_fields=fields)
    audit.record(
        actor=actor,
        action="identity_proof.refuse",
        target=proof,
        target_repr=masked_repr(proof),
        purpose=REVIEW_PURPOSE,
        ip=ip,
        details={"how": how, "reason": reason},
    )


def _pending_for(actor, proof: IdentityProof) -> IdentityProof:
    """The proof, locked, if the actor may decide it; else PermissionDenied / ProofError."""
    if not getattr(actor, "is_staff_member", False) or not actor.has_role(*CONFIRM_ROLES):
        raise PermissionDenied(_("您的角色无权确认住宿身份核验。"))
    locked = proofs_for_staff(actor).select_for_update(of=("self",)).filter(pk=proof.pk).first()
    if locked is None:
        raise PermissionDenied(_("该申请不属于您的辖区。"))
    if locked.state != State.PENDING:
        raise ProofError(
            _("该申请已处理（%(state)s），无需重复操作。") % {"state": locked.get_state_display()}
        )
    return locked


def confirm(*, actor, proof: IdentityProof, note: str = "", ip: str | None = None) -> IdentityProof:
    """A clerk of the hotel's station has verified the guest by other means: issue."""
    with transaction.atomic():
        locked = _pending_for(actor, proof)
        _issue(locked, actor=actor, how="confirmed", ip=ip, note=note)
    return locked


def refuse(*, actor, proof: IdentityProof, reason: str, ip: str | None = None) -> IdentityProof:
    """A clerk could not verify the guest: the request ends, the hotel is told neutrally."""
    if not (reason or "").strip():
        raise ProofError(_("请填写未通过核验的原因。"))
    with transaction.atomic():
        locked = _pending_for(actor, proof)
        _refuse(locked, actor=actor, reason=reason.strip(), how="confirmed", ip=ip)
    return locked


def use(*, actor, code: str, ip: str | None = None) -> IdentityProof:
    """Check-in: the hotel that asked redeems the code once, before it expires.

    Every attempt is audited, refusals too: the entry is committed before ProofError is
    raised, so call this outside any transaction of your own.
    """
    hotel = _hotel_of(actor)
    code = normalize_code(code)
    now = timezone.now()
    with transaction.atomic():
        proof = (
            IdentityProof.objects.select_for_update().filter(code=code).first()
            if 0 < len(code) <= 12
            else None
        )
        refusal = None
        if proof is None or proof.hotel_id != hotel.pk:
            # Another hotel's code is as unknown as a made-up one.
            refusal, reason, proof_seen = _("核验码无效，请核对后重新输入。"), "unknown", None
        else:
            proof_seen = proof
            if proof.state == State.USED:
                refusal, reason = _("该核验码已使用，不能重复核销。"), "used"
            elif proof.state == State.EXPIRED or (
                proof.state == State.ISSUED and proof.expires_at <= now
            ):
                refusal, reason = _("该核验码已过期，请重新申请。"), "expired"
                if proof.state == State.ISSUED:
                    proof.state = State.EXPIRED
                    proof.save(update_fields=["state"])
            elif proof.state != State.ISSUED:
                refusal, reason = _("该核验码尚未生效。"), proof.state
            else:
                reason = "ok"
                proof.state, proof.used_at = State.USED, now
                proof.save(update_fields=["state", "used_at"])
        audit.record(
            actor=actor,
            action="identity_proof.use",
            target=proof_seen,
            target_repr=masked_repr(proof_seen) if proof_seen else "",
            purpose=REVIEW_PURPOSE,
            ip=ip,
            success=refusal is None,
            details={"hotel": hotel.pk, "result": reason, "code_masked": code[:2] + "******"},
        )
    if refusal is not None:
        raise ProofError(refusal, kind=reason)
    return proof


def expire_due(*, now=None) -> int:
    """Issued proofs past their time and requests nobody decided in time become expired.

    Idempotent (a guarded UPDATE); run it on a timer. `use` refuses an expired code even
    before the sweep has run.
    """
    now = now or timezone.now()
    stale = now - timedelta(hours=valid_hours())
    with transaction.atomic():
        due = IdentityProof.objects.filter(state=State.ISSUED, expires_at__lte=now) | (
            IdentityProof.objects.filter(state=State.PENDING, created_at__lte=stale)
        )
        ids = list(due.select_for_update().values_list("pk", flat=True))
        if not ids:
            return 0
        count = IdentityProof.objects.filter(
            pk__in=ids, state__in=[State.ISSUED, State.PENDING]
        ).update(state=State.EXPIRED)
        audit.record(
            actor=None,
            actor_label="system:expire_identity_proofs",
            action="identity_proof.expire",
            purpose=REVIEW_PURPOSE,
            details={"count": count, "proofs": ids[:1000]},
        )
    return count
