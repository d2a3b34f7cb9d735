"""Sign-in helpers: which account an identifier names, the pending second-factor step of
staff, and the audit entries of signing in and out.

Flow: the password step authenticates (django-axes counts failures against the account's
username). Citizens, agents and hotels are then signed in. Staff are *not*: the session only
remembers a pending staff sign-in for a few minutes, and the OTP step signs them in after a
TOTP or backup code. So a staff password alone never yields a session.
"""

from __future__ import annotations

import hashlib
import re
import time

from django.contrib.auth.signals import user_login_failed
from django.utils.http import url_has_allowed_host_and_scheme
from django_otp import devices_for_user

from servicehall.core import audit
from servicehall.core.idnumbers import is_valid_cn_mobile, normalize_cn_mobile, normalize_id_number

from .models import CitizenProfile, StaffProfile, User

PENDING_KEY = "accounts_pending_staff"
PENDING_MAX_AGE = 300  # seconds between the password and the OTP step
STAFF_SEEN_KEY = "accounts_staff_seen"

_ID = re.compile(r"^[0-9]{17}[0-9X]$")
_POLICE = re.compile(r"^[0-9]{6,8}$")


def resolve_username(identifier: str) -> str:
    """The username of the account named by a mobile number, ID number, police number or
    username. Unknown identifiers map to a stable pseudonym, so failures still count towards
    a lockout without storing the typed (possibly personal) value."""
    text = normalize_id_number(identifier)  # folds full-width characters, drops spaces
    username = None
    if is_valid_cn_mobile(text):
        mobile = normalize_cn_mobile(text)
        username = _username_of(CitizenProfile.objects.filter(mobile=mobile))
    elif _ID.match(text):
        username = _username_of(CitizenProfile.objects.filter(id_number=text))
    elif _POLICE.match(text):
        username = _username_of(StaffProfile.objects.filter(police_number=text))
    plain = (identifier or "").strip()
    if username is None and plain and User.objects.filter(username=plain).exists():
        username = plain
    if username is None:
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]
        username = f"unknown:{digest}"
    return username


def _username_of(queryset) -> str | None:
    return queryset.values_list("user__username", flat=True).first()


def looks_like_police_number(identifier: str) -> bool:
    return bool(_POLICE.match(normalize_id_number(identifier)))


def has_second_factor(user) -> bool:
    return next(devices_for_user(user, confirmed=True), None) is not None


def safe_next(request, value: str | None) -> str | None:
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return None


# --- the pending staff sign-in ---------------------------------------------------------------


def start_pending(request, user, next_url: str | None) -> None:
    request.session[PENDING_KEY] = {
        "user_id": user.pk,
        "backend": user.backend,
        "at": time.time(),
        "next": next_url or "",
    }


def pending(request) -> tuple[User, str, str] | None:
    """(user, backend, next) of a pending staff sign-in that has not expired, else None."""
    data = request.session.get(PENDING_KEY)
    if not data:
        return None
    if time.time() - data.get("at", 0) > PENDING_MAX_AGE:
        clear_pending(request)
        return None
    user = User.objects.filter(pk=data.get("user_id"), is_active=True).first()
    if user is None or not user.is_staff_member:
        clear_pending(request)
        return None
    return user, data["backend"], data.get("next") or ""


def clear_pending(request) -> None:
    request.session.pop(PENDING_KEY, None)


def count_failure(request, user) -> None:
    """Let django-axes count a failed second factor like a failed password."""
    user_login_failed.send(
        sender=__name__, credentials={"username": user.get_username()}, request=request
    )


# --- audit ------------------------------------------------------------------------------------


def audit_signin(request, *, user, action: str, success: bool, **details) -> None:
    """Audit a staff sign-in event. `user` is the account concerned (may be None)."""
    actor = user if success and user is not None else None
    audit.record(
        actor=actor,
        action=action,
        target=user,
        target_repr=_staff_repr(user),
        ip=audit.client_ip(request),
        success=success,
        details={key: value for key, value in details.items() if value not in (None, "")},
        actor_label="" if actor else "anonymous",
    )


def _staff_repr(user) -> str:
    if user is None:
        return ""
    profile = user.staff_profile_or_none
    return f"{user.name} ({profile.police_number})" if profile else user.get_username()
