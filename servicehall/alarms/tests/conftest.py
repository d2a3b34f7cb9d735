"""Alarm test fixtures: dispatchers per desk and district, units around Shenyang's centre."""

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from django.utils import timezone

from servicehall.accounts.tests.factories import StaffFactory, department, district
from servicehall.alarms.models import UNIT_KIND_DESK, Unit, UnitKind

# Shenyang, 市府广场 (Civic Square): the tests' point of reference.
SQUARE = (Decimal("41.803000"), Decimal("123.432000"))
T0 = timezone.make_aware(dt.datetime(2026, 9, 14, 10, 0, 0))  # a Monday, day shift

_codes = itertools.count(1)


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def north_of(point, metres: float):
    """A point `metres` due north (one degree of latitude is ~111.2 km)."""
    lat, lon = point
    return (lat + Decimal(str(round(metres / 111_195.0, 6))), lon)


def make_unit(kind=UnitKind.PATROL_CAR, *, position=SQUARE, code=None, **extra) -> Unit:
    extra.setdefault("district", district("210102"))
    lat, lon = position if position else (None, None)
    return Unit.objects.create(
        code=code or f"U{next(_codes):04d}",
        name="测试单位",
        kind=kind,
        desk=UNIT_KIND_DESK[kind],
        lat=lat,
        lon=lon,
        **extra,
    )


def dispatcher_of(dept: str, **extra):
    return StaffFactory(roles=["dispatcher"], department=department(dept), **extra)


@pytest.fixture
def districts(db):
    from servicehall.accounts.models import District
    from servicehall.accounts.organisation import sync_districts

    sync_districts(District)  # seeded by a migration; a transactional test's flush empties it
    return {d.code: d for d in District.objects.all()}


@pytest.fixture
def centre(districts):
    """A bureau-level call-taker/dispatcher of the command centre: every desk, every
    district."""
    return dispatcher_of("zhihui")


@pytest.fixture
def traffic(districts):
    return dispatcher_of("jiaojing")


@pytest.fixture
def fire(districts):
    return dispatcher_of("xiaofang")


@pytest.fixture
def heping(districts):
    """A command-centre dispatcher of the 和平区 branch."""
    return dispatcher_of("zhihui", district=districts["210102"])


@pytest.fixture
def first_message_insert_fails():
    """The database fails at the first inbound message's INSERT (a crash between receiving
    and storing); later INSERTs work. Use as `with first_message_insert_fails(error): ...`."""
    from contextlib import contextmanager
    from unittest import mock

    from servicehall.alarms.models import SmsMessage
    from servicehall.core import rows

    @contextmanager
    def failing(error: Exception):
        real_one, real_together, failed = rows.insert, rows.insert_together, []

        def fail_on_a_message(objs):
            if any(isinstance(obj, SmsMessage) for obj in objs) and not failed:
                failed.append(objs)
                raise error

        def insert(obj, **kwargs):
            fail_on_a_message([obj])
            return real_one(obj, **kwargs)

        def insert_together(objs, **kwargs):
            fail_on_a_message(objs)
            return real_together(objs, **kwargs)

        with (
            mock.patch.object(rows, "insert", side_effect=insert),
            mock.patch.object(rows, "insert_together", side_effect=insert_together),
        ):
            yield

    return failing
