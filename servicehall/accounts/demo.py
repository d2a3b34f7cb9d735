"""Synthetic demo accounts (used by `manage.py demo_accounts`). Idempotent: running again
resets passwords, roles, TOTP secrets and backup codes to the values below.

All people, numbers and places here are made up; the identity numbers only have valid
checksums. Names contain 演示 ("demo") so they cannot be mistaken for real records.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from servicehall.core.idnumbers import make_credit_code, make_id_number

from . import actions, organisation
from .models import (
    CitizenProfile,
    Department,
    District,
    Enterprise,
    Hotel,
    Role,
    StaffProfile,
    Station,
    User,
)

# RFC 6238's test secret ("12345678901234567890"), shared by every demo staff member so one
# authenticator entry serves them all.
DEMO_TOTP_KEY = "3132333435363738393031323334353637383930"
CITIZEN_PASSWORD = "demo-citizen-2026"  # noqa: S105 - published demo password
AGENT_PASSWORD = "demo-agent-2026"  # noqa: S105 - published demo password
HOTEL_PASSWORD = "demo-hotel-2026"  # noqa: S105 - published demo password
STAFF_PASSWORD = "demo-staff-2026"  # noqa: S105 - published demo password

CITIZEN = {
    "name": "王演示",
    "id_number": make_id_number("210102", dt.date(1990, 1, 1), 995),
    "mobile": "13800000001",
}
AGENT = {
    "name": "赵演示",
    "id_number": make_id_number("210103", dt.date(1985, 6, 15), 997),
    "mobile": "13800000002",
}
ENTERPRISE = {
    "name": "沈阳演示科技有限公司",
    "credit_code": make_credit_code("91", "210102", "MA0DEM01"),
    "address": "沈阳市和平区演示路1号",
}
HOTEL = {
    "name": "沈阳演示宾馆",
    "licence_no": "DEMO-LYTH-0001",
    "address": "沈阳市和平区演示路2号",
}
HOTEL_USERNAME = "hotel-demo"

# police number, role, department code, unit ("station" / "district" / "city"), title
STAFF = (
    ("900001", Role.WINDOW_CLERK, "huzheng", "station", "户籍民警"),
    ("900002", Role.REVIEWER, "huzheng", "station", "内勤"),
    ("900003", Role.APPROVER, "huzheng", "district", "分局户政科科长"),
    ("900004", Role.SUPERVISOR, "huzheng", "city", "户政支队督办员"),
    ("900005", Role.DISPATCHER, "zhihui", "city", "接警员"),
    ("900006", Role.AUDITOR, "ducha", "city", "审计员"),
    ("900007", Role.ADMINISTRATOR, None, "city", "系统管理员"),
)
BACKUP_CODES_PER_STAFF = 3


@dataclass
class DemoLogin:
    kind: str
    login: str
    password: str
    name: str
    roles: list[str] = field(default_factory=list)
    otpauth_uri: str = ""
    backup_codes: list[str] = field(default_factory=list)


def backup_codes_for(police_number: str) -> list[str]:
    return [f"bk{police_number}{i}" for i in range(1, BACKUP_CODES_PER_STAFF + 1)]


def ensure_stations() -> dict[str, Station]:
    """One demo station per district: <district>演示派出所, code <district code>-D01."""
    stations = {}
    for district in District.objects.all():
        stations[district.code], _ = Station.objects.update_or_create(
            code=f"{district.code}-D01",
            defaults={"name": f"{district.name}演示派出所", "district": district},
        )
    return stations


def _person(kind: str, data: dict, password: str) -> User:
    profile = CitizenProfile.objects.filter(id_number=data["id_number"]).select_related("user")
    profile = profile.first()
    if profile is None:
        return actions.register_citizen(
            name=data["name"],
            id_number=data["id_number"],
            mobile=data["mobile"],
            password=password,
            kind=kind,
        )
    user = profile.user
    user.name, user.kind, user.is_active = data["name"], kind, True
    user.save(update_fields=["name", "kind", "is_active"])
    actions.set_password(actor=None, user=user, password=password)
    return user


@transaction.atomic
def ensure_demo_accounts() -> list[DemoLogin]:
    organisation.sync_districts(District)
    organisation.sync_departments(Department)
    stations = ensure_stations()
    heping = District.objects.get(code="210102")
    station = stations["210102"]
    logins: list[DemoLogin] = []

    citizen = _person(User.Kind.CITIZEN, CITIZEN, CITIZEN_PASSWORD)
    logins.append(DemoLogin("citizen", CITIZEN["mobile"], CITIZEN_PASSWORD, citizen.name))

    agent = _person(User.Kind.ENTERPRISE_AGENT, AGENT, AGENT_PASSWORD)
    enterprise = Enterprise.objects.filter(credit_code=ENTERPRISE["credit_code"]).first()
    if enterprise is None:
        enterprise = actions.create_enterprise(actor=None, district=heping, **ENTERPRISE)
    actions.authorise_agent(actor=None, enterprise=enterprise, user=agent)
    logins.append(
        DemoLogin(
            "enterprise_agent", AGENT["mobile"], AGENT_PASSWORD, f"{agent.name} · {enterprise.name}"
        )
    )

    hotel = Hotel.objects.filter(licence_no=HOTEL["licence_no"]).first()
    if hotel is None:
        hotel = actions.create_hotel(actor=None, station=station, **HOTEL)
    hotel_user = User.objects.filter(username=HOTEL_USERNAME).first()
    if hotel_user is None:
        hotel_user = actions.create_hotel_account(
            actor=None,
            hotel=hotel,
            username=HOTEL_USERNAME,
            name="演示前台",
            password=HOTEL_PASSWORD,
        )
    else:
        actions.set_password(actor=None, user=hotel_user, password=HOTEL_PASSWORD)
    logins.append(DemoLogin("hotel", HOTEL_USERNAME, HOTEL_PASSWORD, hotel.name))

    for police_number, role, department_code, unit, title in STAFF:
        logins.append(
            _staff(
                police_number, role, department_code, unit, title, station=station, district=heping
            )
        )
    return logins


def _staff(police_number, role, department_code, unit, title, *, station, district) -> DemoLogin:
    department = (
        Department.objects.filter(code=department_code).first() if department_code else None
    )
    placement = {
        "station": station if unit == "station" else None,
        "district": district if unit in ("station", "district") else None,
    }
    name = f"演示{role.label}"
    profile = (
        StaffProfile.objects.filter(police_number=police_number).select_related("user").first()
    )
    if profile is None:
        user = actions.create_staff(
            actor=None,
            police_number=police_number,
            name=name,
            password=STAFF_PASSWORD,
            department=department,
            title=title,
            roles=[role],
            **placement,
        )
    else:
        user = profile.user
        actions.update_staff(
            actor=None, user=user, name=name, department=department, title=title, **placement
        )
        actions.set_password(actor=None, user=user, password=STAFF_PASSWORD)
        for other in user.roles - {str(role)}:
            actions.revoke_role(actor=None, user=user, role=other)
        actions.grant_role(actor=None, user=user, role=role)
    device = TOTPDevice.objects.filter(user=user, key=DEMO_TOTP_KEY, confirmed=True).first()
    if device is None:
        device = actions.enrol_totp(actor=None, user=user, key=DEMO_TOTP_KEY, name="demo")
    codes = actions.set_backup_codes(actor=None, user=user, codes=backup_codes_for(police_number))
    return DemoLogin(
        "staff", police_number, STAFF_PASSWORD, name, [str(role)], device.config_url, codes
    )
