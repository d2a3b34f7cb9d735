"""Incidents from call to closure: the standard timestamps, their intervals, the timeline,
events and audit entries; classification, location, merging, letters; Chinese refusals."""

import uuid
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from servicehall.accounts.tests.factories import CitizenFactory
from servicehall.alarms import live, queries, workflow
from servicehall.alarms.models import (
    Assignment,
    Incident,
    IncidentEvent,
    Status,
    Unit,
    UnitKind,
    UnitStatus,
)
from servicehall.core.models import AuditEntry
from servicehall.letters import intake

from .conftest import SQUARE, at, make_unit, north_of

pytestmark = pytest.mark.django_db


def call(actor, line="110", **extra):
    extra.setdefault("caller_number", "13912345678")
    extra.setdefault("summary", "有人打架")
    extra.setdefault("received_at", at(0))
    extra.setdefault("now", at(8))
    return workflow.create_from_call(actor=actor, line=line, **extra)


def test_a_call_from_receipt_to_closure_with_its_intervals(
    centre, districts, monkeypatch, django_capture_on_commit_callbacks
):
    published = []
    monkeypatch.setattr(live, "publish", lambda kind, payload: published.append((kind, payload)))
    with django_capture_on_commit_callbacks(execute=True):
        incident = call(centre, lat=SQUARE[0], lon=SQUARE[1], district=districts["210102"])
        car = make_unit(position=north_of(SQUARE, 800))
        workflow.classify(
            actor=centre, incident=incident, incident_type="dispute", priority=1, now=at(20)
        )
        workflow.assign_unit(actor=centre, incident=incident, unit=car, now=at(50))
        workflow.unit_status(actor=centre, unit=car, status="on_scene", now=at(410))
        workflow.unit_status(actor=centre, unit=car, status="returning", now=at(1500))
        workflow.close(actor=centre, incident=incident, outcome="handled", now=at(1520))
        workflow.unit_status(actor=centre, unit=car, status="available", now=at(1900))

    incident.refresh_from_db()
    assert incident.number.startswith("JJ20260914")
    assert incident.status == Status.CLOSED
    assert incident.desks == {"police"} and incident.priority == 1
    line = queries.timeline(incident)
    assert line.stamps == {
        "received_at": at(0),
        "answered_at": at(8),
        "dispatched_at": at(50),
        "on_scene_at": at(410),
        "closed_at": at(1520),
    }
    assert line.intervals == {"answer": 8.0, "dispatch": 42.0, "travel": 360.0, "total": 1520.0}
    assert [e.action for e in line.events] == [
        "create_from_call",
        "classify",
        "assign_unit",
        "unit_status",
        "unit_status",
        "close",
        "unit_status",
    ]
    assert all(e.actor == centre for e in line.events)
    assert [e.at for e in line.events][-1] == at(1900)
    assignment = Assignment.objects.get(incident=incident)
    assert (assignment.assigned_at, assignment.on_scene_at, assignment.cleared_at) == (
        at(50),
        at(410),
        at(1500),
    )
    assert 790 <= assignment.distance_m <= 810
    car.refresh_from_db()
    assert car.status == UnitStatus.AVAILABLE
    actions = list(
        AuditEntry.objects.filter(action__startswith="alarm.").values_list("action", flat=True)
    )
    assert actions.count("alarm.unit_status") == 3 and "alarm.close" in actions
    kinds = [kind for kind, _payload in published]
    assert kinds[0] == "incident.created" and "unit.changed" in kinds
    assert all("caller" not in str(payload) for _kind, payload in published)


def test_live_updates_are_published_only_after_commit(
    centre, monkeypatch, django_capture_on_commit_callbacks
):
    published = []
    monkeypatch.setattr(live, "publish", lambda kind, payload: published.append(kind))
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        call(centre)
        raise RuntimeError("rolled back")
    assert callbacks == [] and published == [] and not Incident.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        call(centre)
    assert published == ["incident.created"]


def test_a_ringing_call_is_answered_later(centre):
    incident = call(centre, answered=False)
    assert incident.status == Status.NEW and incident.answered_at is None
    workflow.answer(actor=centre, incident=incident, now=at(14))
    incident.refresh_from_db()
    assert queries.intervals(incident)["answer"] == 14.0
    with pytest.raises(ValidationError, match="不能进行此操作"):
        workflow.answer(actor=centre, incident=incident, now=at(20))


def test_a_unit_cannot_be_sent_twice_or_before_the_call_is_answered(centre):
    first, second = call(centre), call(centre)
    ringing = call(centre, answered=False)
    car = make_unit()
    with pytest.raises(ValidationError, match="请先接警"):
        workflow.assign_unit(actor=centre, incident=ringing, unit=car, now=at(30))
    workflow.assign_unit(actor=centre, incident=first, unit=car, now=at(30))
    with pytest.raises(ValidationError, match="不在待命状态") as refused:
        workflow.assign_unit(actor=centre, incident=second, unit=car, now=at(31))
    assert refused.value.code == "unit_busy"
    assert Assignment.objects.filter(unit=car).count() == 1
    # The database refuses a second open assignment even if code forgot the guard.
    with pytest.raises(IntegrityError), transaction.atomic():
        Assignment.objects.create(incident=second, unit=car, assigned_by=centre, assigned_at=at(32))


def test_a_fire_engine_goes_only_to_an_incident_on_the_fire_desk(centre):
    incident = call(centre)
    engine = make_unit(UnitKind.FIRE_ENGINE)
    with pytest.raises(PermissionDenied):
        workflow.assign_unit(actor=centre, incident=incident, unit=engine, now=at(30))
    workflow.classify(actor=centre, incident=incident, desks=["police", "fire"], now=at(20))
    workflow.assign_unit(actor=centre, incident=incident, unit=engine, now=at(30))
    with pytest.raises(ValidationError, match="不能取消该警种"):
        workflow.classify(actor=centre, incident=incident, desks=["police"], now=at(40))


def test_close_waits_for_every_unit_and_ends_the_timeline(centre):
    incident = call(centre)
    car, other = make_unit(), make_unit()
    workflow.assign_unit(actor=centre, incident=incident, unit=car, now=at(30))
    workflow.assign_unit(actor=centre, incident=incident, unit=other, now=at(60))
    workflow.unit_status(actor=centre, unit=other, status="on_scene", now=at(200))
    workflow.unit_status(actor=centre, unit=car, status="on_scene", now=at(300))
    incident.refresh_from_db()
    assert incident.dispatched_at == at(30) and incident.on_scene_at == at(200)  # the first
    workflow.unit_status(actor=centre, unit=car, status="returning", now=at(900))
    with pytest.raises(ValidationError, match="未收队"):
        workflow.close(actor=centre, incident=incident, outcome="handled", now=at(950))
    workflow.unit_status(actor=centre, unit=other, status="returning", now=at(960))
    workflow.close(actor=centre, incident=incident, outcome="handled", now=at(1000))
    with pytest.raises(ValidationError, match="已结警"):
        workflow.classify(actor=centre, incident=incident, priority=1, now=at(1100))


def test_unit_status_follows_its_transitions(centre):
    car = make_unit()
    with pytest.raises(ValidationError, match="不能改为") as refused:
        workflow.unit_status(actor=centre, unit=car, status="on_scene", now=at(10))
    assert refused.value.code == "wrong_unit_state"
    incident = call(centre)
    workflow.assign_unit(actor=centre, incident=incident, unit=car, now=at(30))
    # Stood down on the way: straight back, the incident keeps no on-scene time.
    workflow.unit_status(
        actor=centre, unit=car, status="returning", lat="41.81", lon="123.44", now=at(60)
    )
    car.refresh_from_db()
    incident.refresh_from_db()
    assert car.status == UnitStatus.RETURNING and car.lat == Decimal("41.810000")
    assert incident.on_scene_at is None and incident.status == Status.DISPATCHED


def test_merge_a_duplicate_into_the_first_report(centre):
    first = call(centre, lat=SQUARE[0], lon=SQUARE[1])
    second = call(centre, lat=north_of(SQUARE, 100)[0], lon=SQUARE[1], now=at(40))
    assert [c for c, _m in queries.duplicate_candidates(second)] == [first]
    workflow.merge(actor=centre, incident=second, into=first, note="同一起", now=at(60))
    second.refresh_from_db()
    assert second.status == Status.MERGED and second.merged_into == first
    assert IncidentEvent.objects.filter(incident=first, action="merge_in").exists()
    with pytest.raises(ValidationError, match="不能与自身合并"):
        workflow.merge(actor=centre, incident=first, into=first)
    third = call(centre)
    workflow.assign_unit(actor=centre, incident=third, unit=make_unit(), now=at(30))
    with pytest.raises(ValidationError, match="已派警"):
        workflow.merge(actor=centre, incident=third, into=first, now=at(70))


def test_an_online_110_letter_is_escalated_once(centre, catalogue):
    receipt = intake.receive(
        actor=CitizenFactory(),
        submission_key=uuid.uuid4(),
        channel="online110",
        kind="report",
        subject="小区门口有人撬车",
        body="刚才看到有人在撬电动车。",
        address="和平区测试路1号",
        lat="41.80",
        long="123.43",
    )
    incident = workflow.create_from_letter(actor=centre, letter=receipt.letter)
    again = workflow.create_from_letter(actor=centre, letter=receipt.letter)
    assert again.pk == incident.pk and Incident.objects.count() == 1
    assert incident.channel == "online110" and incident.status == Status.ANSWERED
    assert incident.received_at == receipt.letter.received_at
    assert incident.lat == Decimal("41.800000") and "撬车" in incident.summary


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"caller_number": "13x45"}, "报警电话号码格式不正确"),
        ({"lat": "95", "lon": "123.4"}, "经纬度无效"),
        ({"lat": "41.8", "lon": None}, "经纬度无效"),
        ({"lat": "北纬", "lon": "东经"}, "经纬度无效"),
        ({"incident_type": "alien"}, "警情类别无效"),
        ({"address": "地" * 201}, "事发地点不能超过200个字"),
    ],
)
def test_wrong_input_is_refused_in_chinese(centre, fields, message):
    with pytest.raises(ValidationError) as refused:
        call(centre, **fields)
    assert message in refused.value.messages[0]
    assert not Incident.objects.exists()


def test_wrong_line_and_empty_location(centre):
    with pytest.raises(ValidationError, match="110、119或122"):
        call(centre, line="120")
    incident = call(centre)
    with pytest.raises(ValidationError, match="请填写事发地点"):
        workflow.set_location(actor=centre, incident=incident)
    workflow.set_location(
        actor=centre, incident=incident, address=" 和平区南京街 ", lat=41.8, lon=123.4
    )
    incident.refresh_from_db()
    assert incident.address == "和平区南京街" and incident.lon == Decimal("123.400000")


def test_the_database_keeps_the_desks_and_the_coordinates(centre):
    incident = call(centre)
    with pytest.raises(IntegrityError), transaction.atomic():
        Incident.objects.filter(pk=incident.pk).update(desk_police=False)
    with pytest.raises(IntegrityError), transaction.atomic():
        Unit.objects.create(code="X1", name="x", kind="fire_engine", desk="police", district_id=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Incident.objects.filter(pk=incident.pk).update(lat=Decimal("91"), lon=Decimal("1"))


def test_a_closed_incident_says_so_once(centre):
    """The status label already says 已 (已结警): the refusal must not say it twice."""
    incident = workflow.create_from_call(actor=centre, line="110", summary="噪音扰民")
    workflow.close(actor=centre, incident=incident, outcome="advice")
    with pytest.raises(workflow.AlarmError) as refused:
        workflow.classify(actor=centre, incident=incident, desks=["police"])
    assert "警情已结警，不能再操作。" in str(refused.value.messages[0])


def test_incident_numbers_count_up_within_a_day_and_start_again_the_next(centre):
    from datetime import timedelta

    numbers = [call(centre, now=at(8 + n)).number for n in range(3)]
    assert numbers == ["JJ2026091400001", "JJ2026091400002", "JJ2026091400003"]
    next_day = at(0) + timedelta(days=1)
    assert call(centre, received_at=next_day, now=next_day).number == "JJ2026091500001"
