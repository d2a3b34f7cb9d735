"""Access checks for staff pages.

    from servicehall.core.permissions import staff_required, StaffRequiredMixin

    @staff_required()                         # any verified staff member
    def workbench(request): ...

    @staff_required("reviewer", "approver")   # holding at least one of these roles
    def review(request, pk): ...

    class CaseList(StaffRequiredMixin, ListView):
        required_roles = ("window_clerk",)

Outcomes, in order: anonymous -> redirect to the login page with ?next=; signed in but not
staff -> 403 page; staff whose second factor is not verified in this session -> redirect to
the OTP step; staff without any of the roles -> 403 (audited). Object-level checks (the
record's jurisdiction) stay in the view, with the predicates of servicehall.accounts.rules.
"""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponseForbidden, HttpResponseRedirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _

FORBIDDEN_TEMPLATE = "accounts/forbidden.html"


def forbidden(request, message: str | None = None) -> HttpResponseForbidden:
    """A 403 page in the user's language."""
    body = render_to_string(
        FORBIDDEN_TEMPLATE,
        {"message": message or _("您没有访问此页面的权限。")},
        request=request,
    )
    return HttpResponseForbidden(body)


def otp_redirect(request) -> HttpResponseRedirect:
    query = urlencode({"next": request.get_full_path()})
    return HttpResponseRedirect(f"{reverse('accounts:otp')}?{query}")


def check_staff_access(request, roles: tuple[str, ...] = ()):
    """None when `request.user` may see a staff page needing `roles`, else the response."""
    user = request.user
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
    if not getattr(user, "is_staff_member", False):
        return forbidden(request, _("此页面仅供公安机关工作人员使用。"))
    is_verified = getattr(user, "is_verified", None)
    if not (callable(is_verified) and is_verified()):
        return otp_redirect(request)
    if roles and not user.has_role(*roles):
        from servicehall.core import audit

        audit.record_for_request(
            request,
            action="access.denied",
            success=False,
            details={"path": request.path, "roles_required": sorted(str(r) for r in roles)},
        )
        return forbidden(request, _("您的角色无权访问此页面。"))
    return None


def staff_required(*roles: str):
    """View decorator: verified staff, holding at least one of `roles` if any are given."""
    if len(roles) == 1 and callable(roles[0]):
        raise TypeError("use @staff_required() with parentheses")

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            denied = check_staff_access(request, roles)
            if denied is not None:
                return denied
            return view(request, *args, **kwargs)

        wrapped.staff_roles = roles
        return wrapped

    return decorator


class StaffRequiredMixin:
    """Class-based-view version of `staff_required`; set `required_roles`."""

    required_roles: tuple[str, ...] = ()

    def dispatch(self, request, *args, **kwargs):
        denied = check_staff_access(request, tuple(self.required_roles))
        if denied is not None:
            return denied
        return super().dispatch(request, *args, **kwargs)
