"""Factories for accounts (reuse them in other apps' tests).

    from servicehall.accounts.tests.factories import (
        CitizenFactory, StaffFactory, login_verified_staff, totp_token,
    )

    citizen = CitizenFactory()                       # user + real-name profile
    clerk = StaffFactory(roles=["window_clerk"])     # staff + TOTP device (+ station if given)
    login_verified_staff(client, clerk)              # signed in with the second factor passed
    client.force_login(citizen)

Passwords are DEFAULT_PASSWORD. Every identity number has a valid checksum.
"""

from __future__ import annotations

import datetime as dt
import time

import factory
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from factory.django import DjangoModelFactory, Password

from servicehall.accounts.models import (
    CitizenProfile,
    Department,
    District,
    Enterprise,
    EnterpriseMembership,
    Hotel,
    HotelAccount,
    RoleAssignment,
    StaffProfile,
    Station,
    User,
)
from servicehall.accounts.signin import STAFF_SEEN_KEY
from servicehall.core.idnumbers import make_credit_code, make_id_number

DEFAULT_PASSWORD = "Test-password-2026"
TEST_TOTP_KEY = "3132333435363738393031323334353637383930"


def _id_number(n: int) -> str:
    return make_id_number("210102", dt.date(1960, 1, 1) + dt.timedelta(days=n % 18000), n % 1000)


def district(code: str = "210102") -> District:
    """A seeded district (the migration loads all 13)."""
    return District.objects.get(code=code)


def department(code: str = "huzheng") -> Department:
    return Department.objects.get_or_create(code=code, defaults={"name": code})[0]


class StationFactory(DjangoModelFactory):
    class Meta:
        model = Station

    code = factory.Sequence(lambda n: f"T{n:05d}")
    name = factory.Sequence(lambda n: f"测试派出所{n}")
    district = factory.LazyFunction(district)


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    name = factory.Faker("name", locale="zh_CN")
    kind = User.Kind.CITIZEN
    password = Password(DEFAULT_PASSWORD)


class CitizenProfileFactory(DjangoModelFactory):
    class Meta:
        model = CitizenProfile

    user = factory.SubFactory(UserFactory)
    id_number = factory.Sequence(_id_number)
    mobile = factory.Sequence(lambda n: f"139{n:08d}")


class CitizenFactory(UserFactory):
    """A citizen with a real-name profile (`user.citizen_profile`)."""

    username = factory.Sequence(lambda n: f"c-test{n}")
    kind = User.Kind.CITIZEN
    citizen_profile = factory.RelatedFactory(CitizenProfileFactory, factory_related_name="user")


class AgentFactory(CitizenFactory):
    """An enterprise agent; pass `enterprise=` to authorise them for it."""

    kind = User.Kind.ENTERPRISE_AGENT

    @factory.post_generation
    def enterprise(self, create, extracted, **kwargs):
        if create and extracted is not None:
            EnterpriseMembership.objects.create(enterprise=extracted, user=self)


class StaffProfileFactory(DjangoModelFactory):
    class Meta:
        model = StaffProfile

    user = factory.SubFactory(UserFactory, kind=User.Kind.STAFF)
    police_number = factory.Sequence(lambda n: f"{800000 + n}")
    department = factory.LazyFunction(department)
    station = None
    district = None

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        if kwargs.get("station") is not None and kwargs.get("district") is None:
            kwargs["district"] = kwargs["station"].district
        return super()._create(model_class, *args, **kwargs)


class StaffFactory(UserFactory):
    """A staff member. Parameters: roles=[...], station=..., district=..., department=...,
    otp=False for no TOTP device (the device uses TEST_TOTP_KEY)."""

    class Params:
        station = None
        district = None
        department = factory.LazyFunction(department)

    username = factory.Sequence(lambda n: f"{700000 + n}")
    kind = User.Kind.STAFF
    staff_profile = factory.RelatedFactory(
        StaffProfileFactory,
        factory_related_name="user",
        police_number=factory.SelfAttribute("..username"),
        station=factory.SelfAttribute("..station"),
        district=factory.SelfAttribute("..district"),
        department=factory.SelfAttribute("..department"),
    )

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if create and extracted:
            RoleAssignment.objects.bulk_create(RoleAssignment(user=self, role=r) for r in extracted)
            self.__dict__.pop("roles", None)

    @factory.post_generation
    def otp(self, create, extracted, **kwargs):
        if create and extracted is not False:
            totp_device(self)


class EnterpriseFactory(DjangoModelFactory):
    class Meta:
        model = Enterprise

    name = factory.Sequence(lambda n: f"测试企业{n}有限公司")
    credit_code = factory.Sequence(lambda n: make_credit_code("91", "210102", f"{n:08d}"))
    district = factory.LazyFunction(district)


class HotelFactory(DjangoModelFactory):
    class Meta:
        model = Hotel

    name = factory.Sequence(lambda n: f"测试宾馆{n}")
    licence_no = factory.Sequence(lambda n: f"TEST-LY-{n:05d}")
    address = "沈阳市和平区测试路1号"
    station = factory.SubFactory(StationFactory)
    district = factory.SelfAttribute("station.district")


class HotelUserFactory(UserFactory):
    """A hotel front-desk login; pass `hotel=` or one is made."""

    kind = User.Kind.HOTEL
    username = factory.Sequence(lambda n: f"hotel-test{n}")

    @factory.post_generation
    def hotel(self, create, extracted, **kwargs):
        if create:
            HotelAccount.objects.create(user=self, hotel=extracted or HotelFactory())


# --- second factor helpers ----------------------------------------------------------------------


def totp_device(user) -> TOTPDevice:
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(
            user=user, name="test", key=TEST_TOTP_KEY, confirmed=True
        )
    return device


def totp_token(user, *, offset_steps: int = 0) -> str:
    """The code the user's authenticator shows now (offset_steps: 30-second steps away)."""
    device = totp_device(user)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time += offset_steps * device.step
    return f"{totp.token():0{device.digits}d}"


def login_verified_staff(client, user) -> None:
    """Sign `user` in on the test client with the second factor already passed."""
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = totp_device(user).persistent_id
    session[STAFF_SEEN_KEY] = time.time()
    session.save()
