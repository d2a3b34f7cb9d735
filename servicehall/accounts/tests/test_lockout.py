"""django-axes: too many failures lock the account, whichever identifier was typed."""

import pytest
from django.urls import reverse

from servicehall.core.models import AuditEntry

from .factories import DEFAULT_PASSWORD, CitizenFactory, StaffFactory, totp_token

pytestmark = pytest.mark.django_db

LOGIN = reverse("accounts:login")
OTP = reverse("accounts:otp")


@pytest.fixture(autouse=True)
def limit(settings):
    settings.AXES_FAILURE_LIMIT = 3
    return 3


def fail(client, username, times):
    return [
        client.post(LOGIN, {"username": username, "password": "wrong"}).status_code
        for _ in range(times)
    ]


def test_lockout_after_limit_failures(client, limit):
    citizen = CitizenFactory()
    mobile = citizen.citizen_profile.mobile
    assert fail(client, mobile, limit - 1) == [200] * (limit - 1)
    assert fail(client, mobile, 1) == [429]
    # Even the right password is refused now.
    response = client.post(LOGIN, {"username": mobile, "password": DEFAULT_PASSWORD})
    assert response.status_code == 429
    html = response.content.decode()
    assert "账号已暂时锁定" in html
    assert "15 分钟后再试" in html
    assert "_auth_user_id" not in client.session


def test_identifiers_of_one_account_share_the_count(client, limit):
    citizen = CitizenFactory()
    profile = citizen.citizen_profile
    fail(client, profile.mobile, limit - 1)
    assert fail(client, profile.id_number, 1) == [429]


def test_lockout_does_not_touch_other_accounts(client, limit):
    victim, other = CitizenFactory(), CitizenFactory()
    fail(client, victim.citizen_profile.mobile, limit)
    response = client.post(
        LOGIN, {"username": other.citizen_profile.mobile, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 302


def test_lockout_ends_after_cool_off(client, limit, time_machine):
    time_machine.move_to("2026-11-26 09:00:00+08:00", tick=False)
    citizen = CitizenFactory()
    fail(client, citizen.citizen_profile.mobile, limit)
    time_machine.move_to("2026-11-26 09:16:00+08:00", tick=False)
    response = client.post(
        LOGIN, {"username": citizen.citizen_profile.mobile, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 302


def test_success_resets_the_count(client, limit):
    citizen = CitizenFactory()
    mobile = citizen.citizen_profile.mobile
    fail(client, mobile, limit - 1)
    client.post(LOGIN, {"username": mobile, "password": DEFAULT_PASSWORD})
    client.logout()
    assert fail(client, mobile, limit - 1) == [200] * (limit - 1)


def test_wrong_otp_codes_count_towards_the_lockout(client, limit):
    staff = StaffFactory()
    police_number = staff.staff_profile.police_number
    client.post(LOGIN, {"username": police_number, "password": DEFAULT_PASSWORD})
    wrong = f"{(int(totp_token(staff)) + 1) % 1000000:06d}"
    statuses = [client.post(OTP, {"token": wrong}).status_code for _ in range(limit)]
    assert statuses[-1] == 429
    # The pending sign-in is gone; the password step is locked too.
    response = client.post(LOGIN, {"username": police_number, "password": DEFAULT_PASSWORD})
    assert response.status_code == 429
    assert AuditEntry.objects.filter(action="auth.lockout", object_id=str(staff.pk)).exists()


def test_typed_identifier_is_not_stored_by_axes(client, limit):
    from axes.models import AccessAttempt

    citizen = CitizenFactory()
    fail(client, citizen.citizen_profile.id_number, 1)
    fail(client, "210102199001011237", 1)  # unknown ID number
    stored = " ".join(
        f"{a.username} {a.post_data} {a.get_data}" for a in AccessAttempt.objects.all()
    )
    assert citizen.citizen_profile.id_number not in stored
    assert "210102199001011237" not in stored
