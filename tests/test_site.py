"""Site-wide behaviour: error pages in Chinese, the admin behind the second factor, headers."""

import pytest
from pytest_django.asserts import assertContains

from servicehall.accounts.tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


def test_unknown_page_is_a_chinese_404(client, settings):
    settings.DEBUG = False
    response = client.get("/no/such/page/")
    assertContains(response, "页面不存在", status_code=404)


def test_admin_refuses_a_password_only_staff_session(client):
    staff = StaffFactory(roles=["administrator"])
    staff.is_superuser = staff.is_staff = True
    staff.save()
    client.force_login(staff)  # a session without a verified second factor
    response = client.get("/django-admin/")
    assert response.status_code == 302
    assert "/django-admin/login/" in response["Location"]


def test_security_headers(client):
    response = client.get("/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


def test_admin_lists_citizens_masked_and_audits_opening_one(client):
    from servicehall.accounts.tests.factories import CitizenFactory, login_verified_staff
    from servicehall.core.models import AuditEntry

    citizen = CitizenFactory()
    profile = citizen.citizen_profile_or_none
    admin = StaffFactory(roles=["administrator"])
    admin.is_superuser = admin.is_staff = True
    admin.save()
    login_verified_staff(client, admin)

    listing = client.get("/django-admin/accounts/citizenprofile/")
    assert profile.id_number not in listing.content.decode()
    assert profile.id_number[:6] + "********" + profile.id_number[-4:] in listing.content.decode()
    assert not AuditEntry.objects.filter(action="personal_data.read").exists()

    page = client.get(f"/django-admin/accounts/citizenprofile/{profile.pk}/change/")
    assert page.status_code == 200
    read = AuditEntry.objects.get(action="personal_data.read")
    assert read.actor == admin
    assert read.purpose == "后台账户管理"
    assert read.details["fields"] == ["id_number", "mobile"]
