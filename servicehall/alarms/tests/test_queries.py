"""The read side: nearest units, duplicate suggestions, and figures that equal an
independent computation from the stored timestamps."""

import datetime as dt
import math
import random
from decimal import Decimal

import pytest
from django.utils import timezone

from servicehall.alarms import geo, queries, workflow
from servicehall.alarms import sms as alarm_sms
from servicehall.alarms.models import UNIT_KIND_DESK, Incident, UnitKind

from .conftest import SQUARE, T0, at, make_unit, north_of

pytestmark = pytest.mark.django_db

KIND_OF_DESK = {desk: kind for kind, desk in UNIT_KIND_DESK.items()}


def test_haversine_matches_known_distances():
    # One degree of latitude along a meridian: ~111.195 km on the mean-radius sphere.
    assert geo.haversine_m(41, 123, 42, 123) == pytest.approx(111_195, rel=1e-4)
    # Shenyang Civic Square to Shenyang North railway station: ~3.3 km.
    assert geo.haversine_m(41.803, 123.432, 41.8196, 123.4382) == pytest.approx(1920, rel=0.05)
    assert geo.haversine_m(*SQUARE, *SQUARE) == 0


def test_nearest_available_units_are_suggested_by_distance(centre):
    incident = workflow.create_from_call(
        actor=centre, line="110", lat=SQUARE[0], lon=SQUARE[1], received_at=at(0), now=at(5)
    )
    far = make_unit(position=north_of(SQUARE, 3000), code="FAR")
    near = make_unit(position=north_of(SQUARE, 500), code="NEAR")
    middle = make_unit(position=(SQUARE[0], SQUARE[1] + Decimal("0.02")), code="MID")  # ~1.66 km
    busy = make_unit(position=north_of(SQUARE, 100), code="BUSY")
    make_unit(UnitKind.FIRE_ENGINE, position=north_of(SQUARE, 50), code="ENGINE")
    make_unit(position=None, code="NOWHERE")
    make_unit(position=north_of(SQUARE, 80_000), code="TOOFAR")
    other = workflow.create_from_call(actor=centre, line="110", received_at=at(0), now=at(5))
    workflow.assign_unit(actor=centre, incident=other, unit=busy, now=at(10))

    ranked = queries.nearest_units(incident)
    assert [unit.code for unit, _m in ranked] == ["NEAR", "MID", "FAR"]
    metres = [m for _u, m in ranked]
    assert metres[0] == pytest.approx(500, abs=2) and metres[2] == pytest.approx(3000, abs=5)
    assert metres[1] == pytest.approx(geo.haversine_m(SQUARE[0], SQUARE[1], middle.lat, middle.lon))
    assert [u.code for u, _m in queries.nearest_units(incident, limit=1)] == ["NEAR"]
    assert near in [u for u, _m in queries.nearest_units(incident, user=centre)]
    assert far.code == "FAR"


def test_a_district_dispatcher_is_offered_only_their_districts_units(heping, districts):
    incident = workflow.create_from_call(
        actor=heping, line="110", lat=SQUARE[0], lon=SQUARE[1], received_at=at(0), now=at(5)
    )
    make_unit(position=north_of(SQUARE, 900), code="HEPING")
    make_unit(position=north_of(SQUARE, 200), code="SHENHE", district=districts["210103"])
    assert [u.code for u, _m in queries.nearest_units(incident, user=heping)] == ["HEPING"]


def test_duplicates_share_a_desk_a_place_and_a_time_window(centre):
    def report(line="110", metres=0, seconds=0):
        lat, lon = north_of(SQUARE, metres)
        return workflow.create_from_call(
            actor=centre, line=line, lat=lat, lon=lon, received_at=at(seconds), now=at(seconds)
        )

    first = report()
    near_soon = report(metres=120, seconds=300)
    report(metres=1000, seconds=60)  # too far
    report(metres=50, seconds=3 * 3600)  # too late
    report(line="119", metres=10, seconds=30)  # another desk
    unlocated = workflow.create_from_call(actor=centre, line="110", received_at=at(0), now=at(1))
    found = queries.duplicate_candidates(first)
    assert [incident for incident, _m in found] == [near_soon]
    assert found[0][1] == pytest.approx(120, abs=1)
    assert queries.duplicate_candidates(unlocated) == []
    assert queries.duplicate_candidates(first, metres=50, minutes=0.5) == []
    wider = queries.duplicate_candidates(first, metres=2000, minutes=10)
    assert len(wider) == 2 and wider[0][0] == near_soon


def _independent(rows, desk, shift):
    """The figures recomputed straight from the stored timestamps."""
    mine = [
        r
        for r in rows
        if getattr(r, f"desk_{desk}")
        and (8 <= timezone.localtime(r.received_at).hour < 20) == (shift == "day")
    ]
    waits = sorted((r.answered_at - r.received_at).total_seconds() for r in mine if r.answered_at)
    dispatch = sorted(
        (r.dispatched_at - r.answered_at).total_seconds() for r in mine if r.dispatched_at
    )

    def rank(values, fraction):
        return values[math.ceil(fraction * len(values)) - 1] if values else None

    return {
        "received": len(mine),
        "answered": len(waits),
        "within": sum(w <= 15 for w in waits),
        "answer_p50": rank(waits, 0.5),
        "answer_p90": rank(waits, 0.9),
        "dispatch_p50": rank(dispatch, 0.5),
        "dispatch_p90": rank(dispatch, 0.9),
    }


def test_answer_and_dispatch_figures_equal_the_timestamps(centre):
    rng = random.Random(7)
    for n in range(60):
        # Spread over a day: some in the night shift, some in the day shift.
        received = T0 - dt.timedelta(hours=9) + dt.timedelta(minutes=23 * n)
        line = rng.choice(["110", "110", "119", "122"])
        answered = rng.random() > 0.1
        incident = workflow.create_from_call(
            actor=centre,
            line=line,
            received_at=received,
            answered=False,
            now=received,
        )
        if rng.random() < 0.2:
            workflow.classify(actor=centre, incident=incident, desks=["police", "traffic"])
        if answered:
            workflow.answer(
                actor=centre,
                incident=incident,
                now=received + dt.timedelta(seconds=rng.randint(2, 40)),
            )
            if rng.random() < 0.7:
                incident.refresh_from_db()
                desk = sorted(incident.desks)[0]
                unit = make_unit(KIND_OF_DESK[desk])
                workflow.assign_unit(
                    actor=centre,
                    incident=incident,
                    unit=unit,
                    now=incident.answered_at + dt.timedelta(seconds=rng.randint(20, 400)),
                )
    rows = list(Incident.objects.all())
    figures = queries.answer_figures(T0.date() - dt.timedelta(days=1), T0.date())
    assert sum(f.received for f in figures) >= 60
    seen = 0
    for f in figures:
        expected = _independent(rows, f.desk, f.shift)
        assert f.received == expected["received"]
        assert f.answered == expected["answered"]
        assert f.answered_within_target == expected["within"]
        assert (f.answer_p50, f.answer_p90) == (expected["answer_p50"], expected["answer_p90"])
        assert (f.dispatch_p50, f.dispatch_p90) == (
            expected["dispatch_p50"],
            expected["dispatch_p90"],
        )
        if f.answered:
            seen += 1
            assert f.answered_within_target_share == expected["within"] / expected["answered"]
    assert seen >= 4  # both shifts of several desks had answered calls


def test_nena_target_share(centre):
    for seconds in (5, 10, 14, 15, 30):
        incident = workflow.create_from_call(
            actor=centre, line="110", received_at=at(0), answered=False, now=at(0)
        )
        workflow.answer(actor=centre, incident=incident, now=at(seconds))
    police_day = next(
        f
        for f in queries.answer_figures(T0.date(), T0.date())
        if (f.desk, f.shift) == ("police", "day")
    )
    assert (police_day.answered, police_day.answered_within_target) == (5, 4)
    assert police_day.answered_within_target_share == 0.8 and police_day.meets_target is False
    assert police_day.answer_p90 == 30.0 and police_day.answer_p50 == 14.0


def test_sms_first_response_counts_the_first_human_reply(centre):
    def sms(message_id, phone, seconds):
        return alarm_sms.receive_sms(
            gateway="http",
            message_id=message_id,
            phone=phone,
            text="救命",
            received_at=at(seconds),
            now=at(seconds + 1),
        )

    first = sms("a1", "13900000001", 0)
    sms("a2", "13900000001", 20)
    alarm_sms.ask_location(actor=centre, thread=first.thread, now=at(45))
    alarm_sms.reply_sms(actor=centre, thread=first.thread, text="好的", now=at(100))
    second = sms("b1", "13900000002", 10)
    alarm_sms.reply_sms(actor=centre, thread=second.thread, text="收到", now=at(130))
    sms("c1", "13900000003", 50)  # not answered yet
    figures = queries.sms_first_response(T0.date(), T0.date())
    assert figures.threads == 3 and figures.responded == 2
    assert sorted(figures.response_seconds) == [45.0, 120.0]
    assert figures.p50 == 45.0 and figures.p90 == 120.0


def test_incidents_by_type_and_district(centre, districts):
    heping, shenhe = districts["210102"], districts["210103"]
    for district, kind in [(heping, "dispute"), (heping, "dispute"), (shenhe, "fire"), (None, "")]:
        workflow.create_from_call(
            actor=centre,
            line="110",
            district=district,
            incident_type=kind,
            received_at=at(0),
            now=at(1),
        )
    rows = {
        (r["incident_type"], r["district__name"]): r["count"]
        for r in queries.incidents_by_type_and_district(T0.date(), T0.date())
    }
    assert rows == {("dispute", "和平区"): 2, ("fire", "沈河区"): 1, ("", None): 1}


def test_timeline_of_an_open_incident_has_open_intervals(centre):
    incident = workflow.create_from_call(actor=centre, line="122", received_at=at(0), now=at(3))
    line = queries.timeline(incident)
    assert line.intervals == {"answer": 3.0, "dispatch": None, "travel": None, "total": None}
    assert [e.action for e in line.events] == ["create_from_call"]
