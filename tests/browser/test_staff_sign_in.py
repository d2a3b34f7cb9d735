"""A police officer signs in with password and authenticator code; a password alone gets
nowhere, and a citizen cannot open the staff workbench."""

import pytest

from servicehall.accounts.models import Department
from servicehall.accounts.tests.factories import CitizenFactory, StaffFactory, totp_token

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "Correct-horse-2026"


def sign_in(page, login, password):
    page.goto(page.base_url + "/accounts/login/")
    page.get_by_label("账号").fill(login)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").last.click()
    page.wait_for_load_state()


def test_officer_needs_the_second_factor(phone, screenshot):
    officer = StaffFactory(
        roles=["window_clerk"], department=Department.objects.get(code="huzheng"), password=PASSWORD
    )
    police_number = officer.staff_profile.police_number
    sign_in(phone, police_number, PASSWORD)
    assert "/accounts/login/otp/" in phone.url
    screenshot(phone, "otp-step")

    # Skipping the code: a password alone opened no session, so the workbench asks to sign in.
    phone.goto(phone.base_url + "/accounts/staff/")
    assert "/accounts/login/?next=/accounts/staff/" in phone.url
    sign_in(phone, police_number, PASSWORD)
    assert "/accounts/login/otp/" in phone.url

    phone.get_by_label("动态口令").fill("000000" if totp_token(officer) != "000000" else "111111")
    phone.get_by_role("button").filter(has_text="验证").first.click()
    phone.wait_for_load_state()
    assert phone.locator("[role=alert], .errorlist").first.is_visible()

    phone.wait_for_timeout(1500)  # django-otp throttles a device for 1 s after a failure
    phone.get_by_label("动态口令").fill(totp_token(officer))
    phone.get_by_role("button").filter(has_text="验证").first.click()
    phone.wait_for_url("**/accounts/staff/")
    body = phone.locator("main").inner_text()
    assert "户政管理" in body and "窗口受理员" in body
    screenshot(phone, "workbench")


def test_citizen_is_refused_the_workbench(phone):
    citizen = CitizenFactory(password=PASSWORD)
    sign_in(phone, citizen.citizen_profile.mobile, PASSWORD)
    response = phone.goto(phone.base_url + "/accounts/staff/")
    assert response.status == 403
    assert "此页面仅供公安机关工作人员使用" in phone.locator("main").inner_text()
