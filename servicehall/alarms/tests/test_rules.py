"""Desks and districts: a dispatcher works only what their unit allows."""

import pytest
from django.core.exceptions import PermissionDenied

from servicehall.accounts.tests.factories import StaffFactory, department
from servicehall.alarms import queries, rules, workflow
from servicehall.alarms.models import Incident, IncidentEvent, UnitKind

from .conftest import SQUARE, at, make_unit

pytestmark = pytest.mark.django_db


def fire_call(actor, **extra):
    return workflow.create_from_call(actor=actor, line="119", received_at=at(0), now=at(5), **extra)


def test_a_traffic_dispatcher_cannot_act_on_a_fire_incident(centre, traffic, fire):
    incident = fire_call(centre)
    engine = make_unit(UnitKind.FIRE_ENGINE)
    traffic_unit = make_unit(UnitKind.TRAFFIC_POLICE)
    refused = [
        lambda: workflow.classify(actor=traffic, incident=incident, priority=1),
        lambda: workflow.set_location(actor=traffic, incident=incident, address="x"),
        lambda: workflow.assign_unit(actor=traffic, incident=incident, unit=engine),
        lambda: workflow.assign_unit(actor=traffic, incident=incident, unit=traffic_unit),
        lambda: workflow.close(actor=traffic, incident=incident, outcome="handled"),
    ]
    for attempt in refused:
        with pytest.raises(PermissionDenied, match="无权"):
            attempt()
    with pytest.raises(PermissionDenied):
        fire_call(traffic)
    assert not rules.may_work(traffic, incident)
    assert list(queries.open_incidents(traffic)) == []
    assert IncidentEvent.objects.filter(incident=incident).count() == 1  # only its creation
    # The fire desk works it; once the fire desk adds traffic, the traffic desk may too.
    workflow.assign_unit(actor=fire, incident=incident, unit=engine, now=at(30))
    workflow.classify(actor=fire, incident=incident, desks=["fire", "traffic"], now=at(40))
    workflow.assign_unit(actor=traffic, incident=incident, unit=traffic_unit, now=at(50))
    # ... but still never sends a fire engine.
    other_engine = make_unit(UnitKind.FIRE_ENGINE)
    with pytest.raises(PermissionDenied):
        workflow.assign_unit(actor=traffic, incident=incident, unit=other_engine, now=at(60))
    with pytest.raises(PermissionDenied):
        workflow.unit_status(actor=traffic, unit=engine, status="on_scene", now=at(70))


def test_a_district_dispatcher_works_their_district_and_unlocated_incidents(
    centre, heping, districts
):
    own = fire_call(centre, district=districts["210102"])
    unlocated = fire_call(centre)
    elsewhere = fire_call(centre, district=districts["210103"])
    assert set(queries.open_incidents(heping)) == {own, unlocated}
    assert set(queries.open_incidents(centre)) == {own, unlocated, elsewhere}
    with pytest.raises(PermissionDenied):
        workflow.classify(actor=heping, incident=elsewhere, priority=1)
    shenhe_car = make_unit(position=SQUARE, district=districts["210103"])
    with pytest.raises(PermissionDenied):
        workflow.assign_unit(actor=heping, incident=own, unit=shenhe_car)
    # A bureau-level dispatcher sends any district's unit (mutual aid).
    workflow.classify(actor=centre, incident=own, desks=["fire", "police"], now=at(10))
    workflow.assign_unit(actor=centre, incident=own, unit=shenhe_car, now=at(20))


def test_who_works_which_desk(centre, traffic, fire, districts):
    clerk = StaffFactory(roles=["window_clerk"], department=department("zhihui"))
    huzheng = StaffFactory(roles=["dispatcher"], department=department("huzheng"))
    assert rules.desks_of(centre) == {"police", "fire", "traffic"}
    assert rules.desks_of(traffic) == {"traffic"} and rules.desks_of(fire) == {"fire"}
    assert rules.desks_of(huzheng) == frozenset()
    assert rules.may_take(traffic, "122") and not rules.may_take(traffic, "110")
    assert not rules.may_take(clerk, "110") and not rules.may_take(huzheng, "110")
    assert rules.may_view_figures(centre) and not rules.may_view_figures(clerk)
    with pytest.raises(PermissionDenied):
        workflow.create_from_call(actor=clerk, line="110")
    assert not Incident.objects.exists()
