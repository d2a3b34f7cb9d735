import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from servicehall.accounts.models import (
    CitizenProfile,
    Department,
    District,
    RoleAssignment,
    User,
)

from .factories import CitizenFactory, EnterpriseFactory, StaffFactory

pytestmark = pytest.mark.django_db


def test_shenyang_districts_are_seeded():
    codes = dict(District.objects.values_list("code", "name"))
    assert len(codes) == 13
    assert codes["210102"] == "和平区"
    assert codes["210112"] == "浑南区"
    assert codes["210181"] == "新民市"
    assert {"法库县", "康平县", "辽中区", "沈北新区"} <= set(codes.values())


def test_departments_are_seeded_from_the_catalogue_file():
    from servicehall.accounts.organisation import read_departments

    expected = {row["code"] for row in read_departments()}
    assert len(expected) == 14
    assert set(Department.objects.values_list("code", flat=True)) >= expected
    assert Department.objects.get(code="huzheng").approval_powers
    assert not Department.objects.get(code="zhihui").approval_powers


def test_sync_is_idempotent():
    from servicehall.accounts.organisation import sync_departments, sync_districts

    sync_districts(District)
    sync_departments(Department)
    assert District.objects.count() == 13


def test_user_display():
    citizen = CitizenFactory(name="张三")
    assert str(citizen) == "张三"
    assert citizen.get_full_name() == "张三"
    assert citizen.citizen_profile.name == "张三"
    assert not hasattr(User, "first_name") or User.first_name is None


def test_roles_are_cached_and_refreshable():
    staff = StaffFactory(roles=["reviewer"])
    assert staff.roles == {"reviewer"}
    RoleAssignment.objects.create(user=staff, role="approver")
    assert staff.has_role("reviewer") and not staff.has_role("approver")  # cached
    del staff.roles
    assert staff.has_role("approver")


def test_a_role_is_held_once():
    staff = StaffFactory(roles=["reviewer"])
    with pytest.raises(IntegrityError):
        RoleAssignment.objects.create(user=staff, role="reviewer")


def test_identity_numbers_are_unique_and_validated():
    citizen = CitizenFactory()
    profile = CitizenProfile(
        user=User.objects.create(username="dup"),
        id_number=citizen.citizen_profile.id_number,
        mobile="13700000000",
    )
    with pytest.raises(ValidationError) as excinfo:
        profile.full_clean()
    assert "id_number" in excinfo.value.message_dict
    bad = CitizenProfile(user=profile.user, id_number="110105194912310021", mobile="123")
    with pytest.raises(ValidationError) as excinfo:
        bad.full_clean()
    assert set(excinfo.value.message_dict) == {"id_number", "mobile"}


def test_enterprise_credit_code_is_validated():
    enterprise = EnterpriseFactory.build(credit_code="91350100M000100Y44")
    with pytest.raises(ValidationError):
        enterprise.full_clean(exclude=["district"])
