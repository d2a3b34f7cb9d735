"""Signing in: citizens with mobile or ID number; staff with police number + TOTP."""

import pytest
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

from servicehall.core.models import AuditEntry

from .factories import (
    DEFAULT_PASSWORD,
    CitizenFactory,
    HotelUserFactory,
    StaffFactory,
    totp_token,
)

pytestmark = pytest.mark.django_db

LOGIN = reverse("accounts:login")
OTP = reverse("accounts:otp")
STAFF_HOME = reverse("accounts:staff_home")


def post_login(client, username, password=DEFAULT_PASSWORD, **extra):
    return client.post(LOGIN, {"username": username, "password": password, **extra})


def is_signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_login_page_renders_in_chinese(client):
    response = client.get(LOGIN)
    assert response.status_code == 200
    html = response.content.decode()
    assert "手机号码或身份证号码" in html
    assert 'autocomplete="current-password"' in html


@pytest.mark.parametrize("identifier", ["mobile", "id_number", "id_number_lower", "full_width"])
def test_citizen_signs_in_with_mobile_or_id_number(client, identifier):
    citizen = CitizenFactory()
    profile = citizen.citizen_profile
    typed = {
        "mobile": profile.mobile,
        "id_number": profile.id_number,
        "id_number_lower": profile.id_number.lower(),
        "full_width": "".join(chr(ord(c) + 0xFEE0) for c in profile.mobile),
    }[identifier]
    response = post_login(client, typed)
    assert response.status_code == 302
    assert response.url == reverse("core:home")
    assert int(client.session["_auth_user_id"]) == citizen.pk


def test_citizen_next_is_followed_but_not_offsite(client):
    citizen = CitizenFactory()
    response = post_login(client, citizen.citizen_profile.mobile, next="/accounts/me/")
    assert response.url == "/accounts/me/"
    client.logout()
    response = post_login(client, citizen.citizen_profile.mobile, next="https://evil.example/")
    assert response.url == reverse("core:home")


def test_hotel_account_signs_in_with_username(client):
    hotel_user = HotelUserFactory()
    assert post_login(client, hotel_user.username).status_code == 302
    assert is_signed_in(client)


@pytest.mark.parametrize("identifier", ["13999999999", "210102199001011237", "unknown-user"])
def test_wrong_credentials_give_a_chinese_error_not_500(client, identifier):
    CitizenFactory()
    response = post_login(client, identifier, "wrong-password")
    assert response.status_code == 200
    assert "账号或密码不正确" in response.content.decode()
    assert not is_signed_in(client)


def test_empty_form_gives_field_errors(client):
    response = client.post(LOGIN, {})
    assert response.status_code == 200
    assert "这个字段是必填项" in response.content.decode()


def test_inactive_user_cannot_sign_in(client):
    citizen = CitizenFactory(is_active=False)
    response = post_login(client, citizen.citizen_profile.mobile)
    assert response.status_code == 200
    assert not is_signed_in(client)


# --- staff: password, then TOTP ------------------------------------------------------------


def test_staff_password_alone_gives_no_session(client):
    staff = StaffFactory()
    response = post_login(client, staff.staff_profile.police_number)
    assert response.status_code == 302
    assert response.url == OTP
    assert not is_signed_in(client)
    # The staff page is refused: still anonymous, so back to the login page.
    response = client.get(STAFF_HOME)
    assert response.status_code == 302
    assert response.url.startswith(LOGIN)
    assert AuditEntry.objects.filter(action="auth.password", success=True).count() == 1


def test_staff_with_correct_totp_reaches_staff_home(client):
    staff = StaffFactory(roles=["approver"])
    post_login(client, staff.staff_profile.police_number)
    response = client.post(OTP, {"token": totp_token(staff)})
    assert response.status_code == 302
    assert response.url == STAFF_HOME
    assert int(client.session["_auth_user_id"]) == staff.pk
    assert client.session.get_expire_at_browser_close()
    page = client.get(STAFF_HOME)
    assert page.status_code == 200
    assert staff.name in page.content.decode()
    entry = AuditEntry.objects.filter(action="auth.login", success=True).get()
    assert entry.actor_id == staff.pk
    assert entry.details["second_factor"] == "TOTPDevice"


def test_staff_next_survives_the_otp_step(client):
    staff = StaffFactory()
    post_login(client, staff.staff_profile.police_number, next="/accounts/staff/?tab=1")
    response = client.post(OTP, {"token": totp_token(staff)})
    assert response.url == "/accounts/staff/?tab=1"


def test_wrong_totp_is_refused_and_audited(client):
    staff = StaffFactory()
    post_login(client, staff.staff_profile.police_number)
    wrong = f"{(int(totp_token(staff)) + 1) % 1000000:06d}"
    response = client.post(OTP, {"token": wrong})
    assert response.status_code == 200
    assert "动态口令不正确" in response.content.decode()
    assert not is_signed_in(client)
    assert AuditEntry.objects.filter(
        action="auth.otp", success=False, object_id=str(staff.pk)
    ).exists()


def test_malformed_totp_is_a_form_error(client):
    staff = StaffFactory()
    post_login(client, staff.staff_profile.police_number)
    response = client.post(OTP, {"token": "<script>"})
    assert response.status_code == 200
    assert "动态口令" in response.content.decode()


def test_used_totp_code_cannot_be_replayed(client):
    staff = StaffFactory()
    token = totp_token(staff)
    post_login(client, staff.staff_profile.police_number)
    assert client.post(OTP, {"token": token}).status_code == 302
    client.post(reverse("accounts:logout"))
    post_login(client, staff.staff_profile.police_number)
    response = client.post(OTP, {"token": token})
    assert response.status_code == 200
    assert not is_signed_in(client)


def test_static_backup_code_works_once(client):
    staff = StaffFactory()
    device = StaticDevice.objects.create(user=staff, name="backup", confirmed=True)
    StaticToken.objects.create(device=device, token="bk123456")
    post_login(client, staff.staff_profile.police_number)
    assert client.post(OTP, {"token": "bk123456"}).status_code == 302
    assert client.get(STAFF_HOME).status_code == 200
    client.post(reverse("accounts:logout"))
    post_login(client, staff.staff_profile.police_number)
    assert client.post(OTP, {"token": "bk123456"}).status_code == 200
    assert not is_signed_in(client)


def test_staff_without_second_factor_is_refused(client):
    staff = StaffFactory(otp=False)
    response = post_login(client, staff.staff_profile.police_number)
    assert response.status_code == 200
    assert "尚未绑定动态口令" in response.content.decode()
    assert not is_signed_in(client)
    assert client.get(OTP).status_code == 302  # nothing pending
    entry = AuditEntry.objects.get(action="auth.login", success=False)
    assert entry.details["reason"] == "no_second_factor"


def test_otp_step_without_password_step_goes_to_login(client):
    response = client.get(OTP)
    assert response.status_code == 302
    assert response.url == LOGIN


def test_pending_staff_sign_in_expires(client, time_machine):
    staff = StaffFactory()
    time_machine.move_to("2026-11-26 09:00:00+08:00", tick=False)
    post_login(client, staff.staff_profile.police_number)
    time_machine.move_to("2026-11-26 09:06:00+08:00", tick=False)
    response = client.post(OTP, {"token": totp_token(staff)})
    assert response.status_code == 302
    assert response.url == LOGIN
    assert not is_signed_in(client)


def test_failed_staff_password_is_audited(client):
    staff = StaffFactory()
    post_login(client, staff.staff_profile.police_number, "wrong")
    entry = AuditEntry.objects.get(action="auth.login", success=False)
    assert entry.object_id == str(staff.pk)
    assert entry.actor_id is None
    assert entry.details["stage"] == "password"


def test_unknown_police_number_is_audited(client):
    post_login(client, "999999", "wrong")
    entry = AuditEntry.objects.get(action="auth.login", success=False)
    assert entry.details["police_number"] == "999999"


def test_citizen_failures_are_not_staff_audit_noise(client):
    citizen = CitizenFactory()
    post_login(client, citizen.citizen_profile.mobile, "wrong")
    assert not AuditEntry.objects.filter(action__startswith="auth.").exists()


# --- logout ----------------------------------------------------------------------------------


def test_logout_needs_post(client):
    citizen = CitizenFactory()
    client.force_login(citizen)
    assert client.get(reverse("accounts:logout")).status_code == 405
    assert is_signed_in(client)
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert not is_signed_in(client)


def test_staff_logout_is_audited(client):
    staff = StaffFactory()
    post_login(client, staff.staff_profile.police_number)
    client.post(OTP, {"token": totp_token(staff)})
    client.post(reverse("accounts:logout"))
    assert AuditEntry.objects.filter(action="auth.logout", actor_id=staff.pk).exists()
