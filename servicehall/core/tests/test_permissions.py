"""staff_required / StaffRequiredMixin, exercised on a throwaway view."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.db import SessionStore
from django.http import HttpResponse
from django.test import RequestFactory
from django.views import View

from servicehall.accounts.tests.factories import CitizenFactory, HotelUserFactory, StaffFactory
from servicehall.core.models import AuditEntry
from servicehall.core.permissions import StaffRequiredMixin, staff_required

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@staff_required("approver")
def approve(request):
    return HttpResponse("ok")


@staff_required()
def workbench(request):
    return HttpResponse("ok")


class ApproveView(StaffRequiredMixin, View):
    required_roles = ("approver",)

    def get(self, request):
        return HttpResponse("ok")


def request_as(user, verified=False):
    request = RequestFactory().get("/staff/approve/?case=7")
    request.session = SessionStore()
    request.user = user
    user.is_verified = lambda: verified
    return request


def anonymous():
    return AnonymousUser()


@pytest.mark.parametrize("view", [approve, ApproveView.as_view()], ids=["decorator", "mixin"])
@pytest.mark.parametrize(
    ("make_user", "verified", "status", "location_start"),
    [
        (anonymous, False, 302, "/accounts/login/?next=/staff/approve/%3Fcase%3D7"),
        (CitizenFactory, False, 403, None),
        (HotelUserFactory, False, 403, None),
        (lambda: StaffFactory(roles=["approver"]), False, 302, "/accounts/login/otp/?next="),
        (lambda: StaffFactory(roles=["reviewer"]), True, 403, None),
        (lambda: StaffFactory(roles=["approver", "reviewer"]), True, 200, None),
    ],
    ids=["anonymous", "citizen", "hotel", "staff-unverified", "staff-wrong-role", "approver"],
)
def test_staff_required(view, make_user, verified, status, location_start):
    response = view(request_as(make_user(), verified))
    assert response.status_code == status
    if location_start:
        assert response["Location"].startswith(location_start)
    if status == 403:
        assert "无权访问" in response.content.decode()


def test_no_roles_means_any_verified_staff():
    assert workbench(request_as(StaffFactory(), verified=True)).status_code == 200


def test_role_denial_is_audited():
    staff = StaffFactory(roles=["reviewer"])
    approve(request_as(staff, verified=True))
    entry = AuditEntry.objects.get(action="access.denied")
    assert entry.actor_id == staff.pk
    assert entry.details["roles_required"] == ["approver"]
    assert not entry.success


def test_decorator_needs_parentheses():
    with pytest.raises(TypeError):
        staff_required(approve)
