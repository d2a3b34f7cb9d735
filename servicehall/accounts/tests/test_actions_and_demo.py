import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from servicehall.accounts import actions, demo
from servicehall.accounts.models import (
    CitizenProfile,
    Enterprise,
    Hotel,
    Role,
    RoleAssignment,
    StaffProfile,
    User,
)
from servicehall.core.idnumbers import is_valid_credit_code, is_valid_id_number
from servicehall.core.models import AuditEntry

from .factories import CitizenFactory, StaffFactory

pytestmark = pytest.mark.django_db


def test_register_conflict_is_reported():
    existing = CitizenFactory()
    with pytest.raises(actions.AccountConflict) as excinfo:
        actions.register_citizen(
            name="王五",
            id_number=existing.citizen_profile.id_number,
            mobile="13700000009",
            password="Some-password-1",
        )
    assert excinfo.value.field == "id_number"
    assert User.objects.count() == 1


def test_grant_and_revoke_are_audited():
    admin = StaffFactory(roles=["administrator"])
    staff = StaffFactory()
    assert actions.grant_role(actor=admin, user=staff, role="approver")
    assert not actions.grant_role(actor=admin, user=staff, role="approver")
    assert staff.has_role("approver")
    assert actions.revoke_role(actor=admin, user=staff, role="approver")
    assert not staff.has_role("approver")
    assert list(
        AuditEntry.objects.filter(actor_id=admin.pk)
        .order_by("sequence")
        .values_list("action", flat=True)
    ) == ["staff.grant_role", "staff.revoke_role"]


def test_roles_are_for_staff_only():
    with pytest.raises(ValueError):
        actions.grant_role(actor=None, user=CitizenFactory(), role="approver")


def test_demo_accounts_is_idempotent(capsys):
    call_command("demo_accounts")
    first = capsys.readouterr().out
    call_command("demo_accounts")
    assert capsys.readouterr().out == first
    assert "13800000001" in first and "demo-citizen-2026" in first
    assert first.count("otpauth://totp/") == len(Role.values)
    assert User.objects.filter(kind=User.Kind.STAFF).count() == len(demo.STAFF)
    assert RoleAssignment.objects.count() == len(demo.STAFF)
    assert CitizenProfile.objects.count() == 2
    assert Enterprise.objects.count() == 1 and Hotel.objects.count() == 1
    for profile in CitizenProfile.objects.all():
        assert is_valid_id_number(profile.id_number)
    assert is_valid_credit_code(Enterprise.objects.get().credit_code)
    approver = StaffProfile.objects.get(police_number="900003")
    assert approver.district.code == "210102" and approver.station is None


def test_demo_staff_can_sign_in_with_the_printed_codes(client):
    from django.urls import reverse

    call_command("demo_accounts", stdout=io.StringIO())
    client.post(reverse("accounts:login"), {"username": "900004", "password": demo.STAFF_PASSWORD})
    response = client.post(reverse("accounts:otp"), {"token": demo.backup_codes_for("900004")[0]})
    assert response.status_code == 302
    assert client.get(reverse("accounts:staff_home")).status_code == 200


def test_demo_refuses_a_production_secret_key(settings):
    settings.SECRET_KEY = "a-real-production-key-0123456789-abcdefghijklmnopqrstuvwxyz"
    with pytest.raises(CommandError):
        call_command("demo_accounts")


def test_totp_code_needs_debug(settings, capsys):
    call_command("demo_accounts", stdout=io.StringIO())
    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("totp_code", "900001")
    settings.DEBUG = True
    call_command("totp_code", "900001")
    code = capsys.readouterr().out.strip()
    assert len(code) == 6 and code.isdigit()


def test_superuser_is_staff_and_needs_a_second_factor(client):
    from django.urls import reverse

    admin = User.objects.create_superuser("root", "root@example.invalid", "Root-password-2026")
    assert admin.is_staff_member
    response = client.post(
        reverse("accounts:login"), {"username": "root", "password": "Root-password-2026"}
    )
    assert "尚未绑定动态口令" in response.content.decode()
    out = io.StringIO()
    call_command("enrol_totp", "root", "--backup-codes", "2", stdout=out)
    assert "otpauth://totp/servicehall%3Aroot?" in out.getvalue()
    code = out.getvalue().split("one use each: ")[1].split()[0]
    client.post(reverse("accounts:login"), {"username": "root", "password": "Root-password-2026"})
    assert client.post(reverse("accounts:otp"), {"token": code}).status_code == 302
    assert client.get(reverse("accounts:staff_home")).status_code == 200
