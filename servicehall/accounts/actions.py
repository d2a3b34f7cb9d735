"""The only code that changes accounts state. Verbs with a keyword-only `actor`, one
transaction each, an audit entry each. Never takes `request`.

`actor` is the user doing it, or None for the system (commands, self-registration before the
account exists).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from servicehall.core import audit
from servicehall.core.idnumbers import (
    normalize_cn_mobile,
    normalize_credit_code,
    normalize_id_number,
)
from servicehall.core.masking import mask_id_number, mask_name

from .models import (
    CitizenProfile,
    Department,
    District,
    Enterprise,
    EnterpriseMembership,
    Hotel,
    HotelAccount,
    Role,
    RoleAssignment,
    StaffProfile,
    Station,
    User,
)


class AccountConflict(Exception):
    """A unique identity (ID number, mobile, police number ...) is already taken."""

    def __init__(self, field: str, message):
        super().__init__(str(message))
        self.field = field
        self.message = message


def _new_username(prefix: str) -> str:
    return f"{prefix}{secrets.token_hex(5)}"


def _set_password(user: User, password: str | None) -> None:
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()


def _conflict_field(error: IntegrityError, fields: Iterable[str]) -> str:
    text = str(error)
    return next((f for f in fields if f in text), "__all__")


# --- citizens ---------------------------------------------------------------------------------


def register_citizen(
    *,
    actor=None,
    name: str,
    id_number: str,
    mobile: str,
    password: str | None,
    kind: str = User.Kind.CITIZEN,
    ip: str | None = None,
) -> User:
    """Create a real-name account (citizen or enterprise agent). Input must be validated."""
    id_number = normalize_id_number(id_number)
    mobile = normalize_cn_mobile(mobile)
    try:
        with transaction.atomic():
            user = User(username=_new_username("c"), kind=kind, name=name)
            _set_password(user, password)
            user.full_clean(exclude=["password"])
            user.save()
            CitizenProfile.objects.create(user=user, id_number=id_number, mobile=mobile)
            audit.record(
                actor=actor or user,
                action="account.register",
                target=user,
                target_repr=f"{mask_name(name)} {mask_id_number(id_number)}",
                ip=ip,
                details={"kind": str(kind), "self_service": actor is None},
            )
    except IntegrityError as error:
        field = _conflict_field(error, ("id_number", "mobile"))
        message = {
            "id_number": _("该身份证号码已注册。"),
            "mobile": _("该手机号码已被其他账号使用。"),
        }.get(field, _("账号已存在。"))
        raise AccountConflict(field, message) from error
    return user


# --- staff --------------------------------------------------------------------------------------


def create_staff(
    *,
    actor,
    police_number: str,
    name: str,
    password: str | None,
    department: Department | None = None,
    district: District | None = None,
    station: Station | None = None,
    title: str = "",
    roles: Iterable[str] = (),
) -> User:
    """Create a staff member. The username is the police number (handy in django-admin)."""
    try:
        with transaction.atomic():
            user = User(username=police_number, kind=User.Kind.STAFF, name=name)
            _set_password(user, password)
            user.save()
            profile = StaffProfile(
                user=user,
                police_number=police_number,
                department=department,
                district=district or (station.district if station else None),
                station=station,
                title=title,
            )
            profile.full_clean(exclude=["user"])
            profile.save()
            for role in roles:
                RoleAssignment.objects.create(user=user, role=Role(role), granted_by=actor)
            audit.record(
                actor=actor,
                action="staff.create",
                target=user,
                details={"roles": sorted(str(r) for r in roles), "police_number": police_number},
            )
    except IntegrityError as error:
        raise AccountConflict("police_number", _("该警号已存在。")) from error
    return user


def update_staff(
    *,
    actor,
    user: User,
    name: str,
    department: Department | None,
    district: District | None,
    station: Station | None,
    title: str = "",
) -> StaffProfile:
    """Change a staff member's name and placement (department, district, station)."""
    with transaction.atomic():
        profile = StaffProfile.objects.select_for_update().get(user=user)
        before = {
            "department": profile.department_id,
            "district": profile.district_id,
            "station": profile.station_id,
        }
        profile.department, profile.station, profile.title = department, station, title
        profile.district = district or (station.district if station else None)
        profile.save()
        user.name, user.kind, user.is_active = name, User.Kind.STAFF, True
        user.save(update_fields=["name", "kind", "is_active"])
        audit.record(
            actor=actor,
            action="staff.update",
            target=user,
            details={
                "before": before,
                "after": {
                    "department": profile.department_id,
                    "district": profile.district_id,
                    "station": profile.station_id,
                },
            },
        )
    user.__dict__.pop("staff_profile_or_none", None)
    return profile


def grant_role(*, actor, user: User, role: str) -> bool:
    """Give `user` a role; False if already held."""
    role = Role(role)
    if not user.is_staff_member:
        raise ValueError("roles are for staff members only")
    with transaction.atomic():
        _, created = RoleAssignment.objects.get_or_create(
            user=user, role=role, defaults={"granted_by": actor}
        )
        if created:
            audit.record(
                actor=actor,
                action="staff.grant_role",
                target=user,
                details={"role": str(role)},
            )
    user.__dict__.pop("roles", None)
    return created


def revoke_role(*, actor, user: User, role: str) -> bool:
    role = Role(role)
    with transaction.atomic():
        deleted, _ = RoleAssignment.objects.filter(user=user, role=role).delete()
        if deleted:
            audit.record(
                actor=actor,
                action="staff.revoke_role",
                target=user,
                details={"role": str(role)},
            )
    user.__dict__.pop("roles", None)
    return bool(deleted)


def enrol_totp(
    *, actor, user: User, key: str | None = None, name: str = "authenticator"
) -> TOTPDevice:
    """Give `user` a confirmed TOTP device (replacing their others). `key`: 40 hex chars;
    random unless given (the demo fixes it)."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        device = TOTPDevice(user=user, name=name, confirmed=True)
        if key:
            device.key = key
        device.save()
        audit.record(
            actor=actor,
            action="staff.enrol_totp",
            target=user,
        )
    return device


def set_backup_codes(
    *, actor, user: User, codes: Iterable[str] | None = None, count: int = 10
) -> list[str]:
    """Replace `user`'s static backup codes; returns them (shown once)."""
    codes = list(codes) if codes is not None else [StaticToken.random_token() for _ in range(count)]
    with transaction.atomic():
        device, _ = StaticDevice.objects.get_or_create(
            user=user, name="backup", defaults={"confirmed": True}
        )
        device.token_set.all().delete()
        StaticToken.objects.bulk_create(StaticToken(device=device, token=c) for c in codes)
        audit.record(
            actor=actor,
            action="staff.set_backup_codes",
            target=user,
            details={"count": len(codes)},
        )
    return codes


# --- enterprises and hotels ------------------------------------------------------------------


def create_enterprise(
    *, actor, name: str, credit_code: str, address: str = "", district: District | None = None
) -> Enterprise:
    credit_code = normalize_credit_code(credit_code)
    try:
        with transaction.atomic():
            enterprise = Enterprise(
                name=name, credit_code=credit_code, address=address, district=district
            )
            enterprise.full_clean()
            enterprise.save()
            audit.record(
                actor=actor,
                action="enterprise.create",
                target=enterprise,
            )
    except IntegrityError as error:
        raise AccountConflict("credit_code", _("该统一社会信用代码已登记。")) from error
    return enterprise


def authorise_agent(
    *, actor, enterprise: Enterprise, user: User, legal_representative: bool = False
) -> EnterpriseMembership:
    """Let `user` act for `enterprise` (re-activates a withdrawn authorisation)."""
    with transaction.atomic():
        membership, _ = EnterpriseMembership.objects.update_or_create(
            enterprise=enterprise,
            user=user,
            defaults={"is_active": True, "is_legal_representative": legal_representative},
        )
        audit.record(
            actor=actor,
            action="enterprise.authorise_agent",
            target=enterprise,
            details={"agent_id": user.pk},
        )
    return membership


def withdraw_agent(*, actor, enterprise: Enterprise, user: User) -> bool:
    with transaction.atomic():
        changed = EnterpriseMembership.objects.filter(
            enterprise=enterprise, user=user, is_active=True
        ).update(is_active=False)
        if changed:
            audit.record(
                actor=actor,
                action="enterprise.withdraw_agent",
                target=enterprise,
                details={"agent_id": user.pk},
            )
    return bool(changed)


def create_hotel(*, actor, name: str, licence_no: str, address: str, station: Station) -> Hotel:
    try:
        with transaction.atomic():
            hotel = Hotel.objects.create(
                name=name,
                licence_no=licence_no,
                address=address,
                district=station.district,
                station=station,
            )
            audit.record(
                actor=actor,
                action="hotel.create",
                target=hotel,
            )
    except IntegrityError as error:
        raise AccountConflict("licence_no", _("该许可证号已登记。")) from error
    return hotel


def create_hotel_account(
    *, actor, hotel: Hotel, username: str, name: str, password: str | None
) -> User:
    try:
        with transaction.atomic():
            user = User(username=username, kind=User.Kind.HOTEL, name=name)
            _set_password(user, password)
            user.save()
            HotelAccount.objects.create(hotel=hotel, user=user)
            audit.record(
                actor=actor,
                action="hotel.create_account",
                target=hotel,
                details={"username": username},
            )
    except IntegrityError as error:
        raise AccountConflict("username", _("该账号已存在。")) from error
    return user


def set_password(*, actor, user: User, password: str) -> None:
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        audit.record(
            actor=actor,
            action="account.set_password",
            target=user,
        )
