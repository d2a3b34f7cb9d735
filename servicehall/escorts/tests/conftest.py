import datetime as dt
import uuid
from decimal import Decimal

import pytest
import time_machine

from servicehall.accounts.tests.factories import (
    AgentFactory,
    CitizenFactory,
    EnterpriseFactory,
    StaffFactory,
    StationFactory,
    department,
    district,
)
from servicehall.escorts import workflow

# A Monday morning; requests are made now unless a test says otherwise.
NOW = "2026-09-14 09:00 +0800"
MONDAY = dt.date(2026, 9, 14)
WEDNESDAY = MONDAY + dt.timedelta(days=2)


def token() -> str:
    return uuid.uuid4().hex


@pytest.fixture
def travel():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def station(db):
    """The duty station of 和平区 (the district's first station by code)."""
    return StationFactory(code="210102-A01", name="和平测试派出所", district=district("210102"))


@pytest.fixture
def other_station(db):
    return StationFactory(code="210103-A01", name="沈河测试派出所", district=district("210103"))


def staff(*roles, **placement):
    return StaffFactory(
        roles=list(roles), department=department("zhian"), email="s@police.example", **placement
    )


@pytest.fixture
def duty(station):
    """The duty desk of the station (dispatcher)."""
    return staff("dispatcher", station=station)


@pytest.fixture
def other_duty(other_station):
    return staff("dispatcher", station=other_station)


@pytest.fixture
def clerk(station):
    """A window clerk of the same station: no escort role."""
    return staff("window_clerk", station=station)


@pytest.fixture
def supervisor(station):
    """A supervisor of the 和平区 branch (district level)."""
    return staff("supervisor", district=station.district)


@pytest.fixture
def citizen(db):
    return CitizenFactory()


@pytest.fixture
def enterprise(db):
    return EnterpriseFactory(name="演示商贸有限公司")


@pytest.fixture
def agent(enterprise):
    return AgentFactory(enterprise=enterprise)


def fields(**overrides) -> dict:
    values = {
        "date": WEDNESDAY,
        "start_time": dt.time(10, 0),
        "end_time": dt.time(11, 30),
        "district": district("210102"),
        "pickup_address": "和平区南京北街100号工商银行",
        "destination_address": "和平区太原街50号财务室",
        "amount": Decimal("500000.00"),
        "contact_phone": "13912345678",
        "organisation": "中国工商银行沈阳和平支行",
    }
    return values | overrides


def submit(actor, **overrides):
    """request_escort with sensible defaults; returns the request."""
    values = {"client_token": token(), **fields(**overrides)}
    return workflow.request_escort(actor=actor, **values).escort
