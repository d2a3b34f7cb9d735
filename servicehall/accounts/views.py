"""Sign-in, sign-out, registration, the citizen's account page and the staff home.

Views stay short: check access, validate, call one action (or the sign-in helpers), respond.
"""

from __future__ import annotations

import time

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import devices_for_user, match_token
from django_otp import login as otp_login

from servicehall.core import audit
from servicehall.core.permissions import staff_required

from . import actions, signin
from .forms import LoginForm, OTPForm, RegistrationForm
from .models import Role, StaffProfile, User

MODEL_BACKEND = "servicehall.accounts.backends.ModelBackend"


@sensitive_post_parameters("password")
@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request):
    next_url = signin.safe_next(request, request.POST.get("next") or request.GET.get("next"))
    form = LoginForm(request, request.POST if request.method == "POST" else None)
    if form.is_valid():
        user = form.user
        if not user.is_staff_member:
            auth_login(request, user)
            return redirect(next_url or settings.LOGIN_REDIRECT_URL)
        if signin.has_second_factor(user):
            signin.start_pending(request, user, next_url)
            signin.audit_signin(request, user=user, action="auth.password", success=True)
            return redirect("accounts:otp")
        signin.audit_signin(
            request, user=user, action="auth.login", success=False, reason="no_second_factor"
        )
        form.add_error(
            None, _("您的账号尚未绑定动态口令（双因素认证），不能登录。请联系系统管理员。")
        )
    elif form.is_bound:
        _audit_failed_password(request, form.cleaned_data.get("username", ""))
    context = {"form": form, "next": next_url or "", "timed_out": request.GET.get("timeout") == "1"}
    return render(request, "accounts/login.html", context)


def _audit_failed_password(request, identifier: str) -> None:
    """Failed password steps of staff accounts (or of anything typed like a police number)."""
    user = User.objects.filter(username=signin.resolve_username(identifier)).first()
    locked = bool(getattr(request, "axes_locked_out", False))
    if user is not None and user.kind == User.Kind.STAFF:
        signin.audit_signin(
            request,
            user=user,
            action="auth.login",
            success=False,
            stage="password",
            locked_out=locked,
        )
    elif user is None and signin.looks_like_police_number(identifier):
        signin.audit_signin(
            request,
            user=None,
            action="auth.login",
            success=False,
            stage="password",
            police_number=identifier.strip(),
            locked_out=locked,
        )


@sensitive_post_parameters("token")
@never_cache
@require_http_methods(["GET", "POST"])
def otp_view(request):
    state = signin.pending(request)
    if state is not None:
        user, backend, pending_next = state
    elif request.user.is_authenticated and request.user.is_staff_member:
        if request.user.is_verified():
            return redirect("accounts:staff_home")
        user, backend, pending_next = request.user, None, ""
    else:
        messages.info(request, _("请先输入账号和密码。"))
        return redirect("accounts:login")
    next_url = signin.safe_next(request, request.POST.get("next") or request.GET.get("next"))
    next_url = next_url or signin.safe_next(request, pending_next)
    credentials = {"username": user.get_username()}
    if AxesProxyHandler.is_locked(request, credentials):
        signin.clear_pending(request)
        return locked_out(request, credentials=credentials)

    form = OTPForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        throttled = not any(d.verify_is_allowed()[0] for d in devices_for_user(user))
        device = None if throttled else match_token(user, form.cleaned_data["token"])
        if device is not None:
            return _finish_staff_login(request, user, backend, device, next_url)
        form.add_error(
            "token",
            _("动态口令错误次数过多，请稍候片刻再试。")
            if throttled
            else _("动态口令不正确或已过期，请输入身份验证器上当前显示的数字。"),
        )
    if form.is_bound:
        signin.audit_signin(request, user=user, action="auth.otp", success=False)
        signin.count_failure(request, user)  # may lock out (axes then answers 429)
        if getattr(request, "axes_locked_out", False):
            signin.clear_pending(request)
    return render(
        request, "accounts/otp.html", {"form": form, "next": next_url or "", "staff": user}
    )


def _finish_staff_login(request, user, backend, device, next_url):
    signin.clear_pending(request)
    if request.user.is_authenticated and request.user.pk == user.pk:
        otp_login(request, device)
    else:
        user.otp_device = device  # django_otp records it in the session on login
        auth_login(request, user, backend=backend or MODEL_BACKEND)
    # Staff sessions end with the browser, and after STAFF_IDLE_TIMEOUT of inactivity.
    request.session.set_expiry(0)
    request.session[signin.STAFF_SEEN_KEY] = time.time()
    signin.audit_signin(
        request,
        user=user,
        action="auth.login",
        success=True,
        second_factor=device.__class__.__name__,
    )
    return redirect(next_url or "accounts:staff_home")


def locked_out(request, original_response=None, credentials=None):
    """Lockout page (django-axes' AXES_LOCKOUT_CALLABLE), HTTP 429."""
    cool_off = get_cool_off(request)
    minutes = max(1, round(cool_off.total_seconds() / 60)) if cool_off else None
    return render(
        request,
        "accounts/locked_out.html",
        {"minutes": minutes, "failure_limit": settings.AXES_FAILURE_LIMIT},
        status=429,
    )


@require_POST
def logout_view(request):
    user = request.user
    if user.is_authenticated and user.is_staff_member:
        signin.audit_signin(request, user=user, action="auth.logout", success=True)
    auth_logout(request)
    messages.success(request, _("您已安全退出。"))
    return redirect(settings.LOGOUT_REDIRECT_URL)


@sensitive_post_parameters("password1", "password2")
@never_cache
@require_http_methods(["GET", "POST"])
def register_view(request):
    form = RegistrationForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        data = form.cleaned_data
        try:
            user = actions.register_citizen(
                name=data["name"],
                id_number=data["id_number"],
                mobile=data["mobile"],
                password=data["password1"],
                ip=audit.client_ip(request),
            )
        except actions.AccountConflict as conflict:
            form.add_error(
                conflict.field if conflict.field in form.fields else None, conflict.message
            )
        else:
            auth_login(request, user, backend=MODEL_BACKEND)
            messages.success(request, _("注册成功，欢迎使用网上公安机关服务大厅。"))
            return redirect("accounts:profile")
    return render(request, "accounts/register.html", {"form": form})


@login_required
def profile_view(request):
    user = request.user
    if user.is_staff_member:
        return redirect("accounts:staff_home")
    context = {
        "profile": user.citizen_profile_or_none,
        "memberships": user.enterprise_memberships.filter(is_active=True).select_related(
            "enterprise"
        ),
        "hotel_account": getattr(user, "hotel_account", None),
    }
    return render(request, "accounts/profile.html", context)


@staff_required()
def staff_home(request):
    user = request.user
    profile = (
        StaffProfile.objects.select_related("department", "district", "station__district")
        .filter(user=user)
        .first()
    )
    roles = [Role(code).label for code in Role.values if code in user.roles]
    return render(request, "accounts/staff_home.html", {"profile": profile, "roles": roles})
