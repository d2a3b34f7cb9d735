import datetime as dt
import uuid

import pytest
from django.core.management import call_command

from servicehall.accounts.tests.factories import (
    AgentFactory,
    CitizenFactory,
    EnterpriseFactory,
    StaffFactory,
    department,
    district,
)
from servicehall.bookings import slots
from servicehall.bookings.models import Office, Slot

# A Monday; booking tests travel here (slots of the coming week are released).
NOW = "2026-09-14 09:00 +0800"
MONDAY = dt.date(2026, 9, 14)


def token() -> str:
    return uuid.uuid4().hex


def crj_staff(*roles, **extra):
    return StaffFactory(roles=list(roles), department=department("churujing"), **extra)


@pytest.fixture
def offices(catalogue):
    from servicehall.accounts.models import District
    from servicehall.accounts.organisation import sync_districts

    sync_districts(District)  # seeded by a migration; a transactional test's flush empties it
    call_command("load_offices", verbosity=0)
    return {office.code: office for office in Office.objects.all()}


@pytest.fixture
def city(offices):
    return offices["crj-city"]


def first_slot(office, item_code="CRJ-XK-001", day=MONDAY + dt.timedelta(days=1), **filters):
    slots.generate_slots(office, day, day)
    return (
        Slot.objects.filter(office=office, date=day, item__code=item_code, **filters)
        .order_by("start", "counter__code")
        .first()
    )


@pytest.fixture
def citizen(db):
    return CitizenFactory()


@pytest.fixture
def clerk(db):
    """A bureau-level window clerk of exit-entry: serves at every exit-entry office."""
    return crj_staff("window_clerk")


@pytest.fixture
def heping_clerk(db):
    return crj_staff("window_clerk", district=district("210102"))


@pytest.fixture
def dispatcher(db):
    return StaffFactory(roles=["dispatcher"], department=department("zhihui"))


@pytest.fixture
def manager(db):
    return crj_staff("supervisor")


@pytest.fixture
def enterprise(db):
    return EnterpriseFactory()


@pytest.fixture
def liaison(enterprise):
    return AgentFactory(enterprise=enterprise)
