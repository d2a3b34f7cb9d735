"""Factories for the registry (reuse them in other tests; no importer needed).

    from servicehall.registry.tests.factories import HouseholdFactory, PersonFactory

    home = HouseholdFactory(station=station)            # district follows the station
    head = PersonFactory(household=home, relation="户主")  # station/district/address follow
    PersonFactory(id_number=..., name="王小明", status="deceased")

Every identity number has a valid checksum, a region code of the person's district and a
sequence digit that agrees with the gender. All data is synthetic.
"""

from __future__ import annotations

import datetime as dt

import factory
from factory.django import DjangoModelFactory

from servicehall.accounts.tests.factories import StationFactory, district
from servicehall.core.idnumbers import make_id_number
from servicehall.registry.models import Gender, Household, Person, PersonStatus

# A small pool of synthetic names; enough variety for listings, not a frequency model.
_SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
_GIVEN = [
    "伟",
    "芳",
    "娜",
    "秀英",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
]


def _name(n: int) -> str:
    return _SURNAMES[n % len(_SURNAMES)] + _GIVEN[(n // len(_SURNAMES)) % len(_GIVEN)]


def _birth(n: int) -> dt.date:
    return dt.date(1950, 1, 1) + dt.timedelta(days=(n * 379) % 25000)


def person_id_number(person) -> str:
    """A valid number for the factory's birth date, gender and district (sequence from n)."""
    # The 17th digit is odd for men, even for women; the two digits before it vary with n.
    sequence = (person.seq % 50) * 20 + (1 if person.gender == Gender.MALE else 0)
    sequence += 2 * ((person.seq // 50) % 5)
    return make_id_number(person.district.code, person.birth_date, sequence % 1000)


class HouseholdFactory(DjangoModelFactory):
    """A family household; pass `station=` (its district follows) or `district=`."""

    class Meta:
        model = Household

    number = factory.Sequence(lambda n: f"T{n:09d}")
    kind = Household.Kind.FAMILY
    address = factory.Sequence(lambda n: f"沈阳市和平区测试街{n + 1}号")
    station = factory.SubFactory(StationFactory)
    district = factory.LazyAttribute(lambda o: o.station.district if o.station else district())


class PersonFactory(DjangoModelFactory):
    """A registered person. `household=` decides station, district and address unless given."""

    class Meta:
        model = Person

    class Params:
        seq = factory.Sequence(lambda n: n)

    name = factory.LazyAttribute(lambda o: _name(o.seq))
    gender = factory.LazyAttribute(lambda o: Gender.MALE if o.seq % 2 else Gender.FEMALE)
    birth_date = factory.LazyAttribute(lambda o: _birth(o.seq))
    household = factory.SubFactory(HouseholdFactory)
    relation = "户主"
    address = factory.LazyAttribute(lambda o: o.household.address)
    station = factory.LazyAttribute(lambda o: o.household.station)
    district = factory.LazyAttribute(lambda o: o.household.district)
    id_number = factory.LazyAttribute(person_id_number)
    phone = factory.Sequence(lambda n: f"137{n:08d}")
    status = PersonStatus.REGISTERED
