"""Slot generation from hours and the 2026 working-day calendar (调休), release, closures."""

import datetime as dt
from collections import Counter as Tally

import pytest
import time_machine
from django.utils import timezone

from servicehall.bookings import schedules, slots
from servicehall.bookings.models import Session, Slot
from servicehall.bookings.schedules import DayKind

D = dt.date.fromisoformat


def sessions(office, day):
    slots.generate_slots(office, day, day)
    return Tally(Slot.objects.filter(office=office, date=day).values_list("session", flat=True))


def test_the_2026_days_are_classified_by_the_calendar(catalogue):
    assert D("2026-09-19").weekday() == 5 and D("2026-09-20").weekday() == 6
    assert D("2026-10-01").weekday() == 3 and D("2026-10-10").weekday() == 5
    kinds = schedules.day_kinds(D("2026-09-18"), D("2026-10-11"))
    assert kinds[D("2026-09-18")] is DayKind.WORKING  # Friday
    assert kinds[D("2026-09-19")] is DayKind.WEEKEND  # Saturday
    assert kinds[D("2026-09-20")] is DayKind.WORKING  # Sunday worked for National Day (调休)
    assert kinds[D("2026-09-25")] is DayKind.HOLIDAY  # Mid-Autumn, a Friday
    assert kinds[D("2026-10-01")] is DayKind.HOLIDAY  # National Day, a Thursday
    assert kinds[D("2026-10-03")] is DayKind.HOLIDAY  # a Saturday inside the holiday
    assert kinds[D("2026-10-10")] is DayKind.WORKING  # Saturday worked (调休)
    assert kinds[D("2026-10-11")] is DayKind.WEEKEND


def test_an_ordinary_weekday_has_normal_hours_and_the_8_plus_1_lunch_hour(city):
    day = D("2026-09-14")  # Monday
    found = sessions(city, day)
    # 12 counter-items (4 counters × 3 items); 20-minute slots: 10 + 12 normal, 3 at lunch.
    assert found == {Session.NORMAL: 12 * 22, Session.LUNCH: 12 * 3}
    lunch = Slot.objects.filter(office=city, date=day, session=Session.LUNCH)
    assert {timezone.localtime(s.start).time() for s in lunch} == {
        dt.time(12, 0),
        dt.time(12, 20),
        dt.time(12, 40),
    }


def test_an_ordinary_weekend_has_only_the_5_plus_2_hours(city, offices):
    assert sessions(city, D("2026-09-19")) == {Session.WEEKEND: 12 * 18}
    # An office without 5+2 is closed at the weekend; one without 8+1 has no lunch slots.
    assert sessions(offices["crj-shenhe"], D("2026-09-19")) == {}
    assert Session.LUNCH not in sessions(offices["crj-shenhe"], D("2026-09-14"))
    assert sessions(offices["vehicle-city"], D("2026-09-19")) == {Session.WEEKEND: 3 * 24}


@pytest.mark.parametrize("day", ["2026-10-01", "2026-10-03", "2026-10-04", "2026-09-25"])
def test_a_holiday_has_no_slots_at_all_not_even_extended_hours(city, offices, day):
    assert sessions(city, D(day)) == {}
    assert sessions(offices["vehicle-city"], D(day)) == {}


@pytest.mark.parametrize("day", ["2026-09-20", "2026-10-10"])
def test_a_swapped_working_weekend_day_keeps_weekday_hours(city, offices, day):
    """调休: the Sunday/Saturday worked for National Day is a working day: normal hours
    and the 8+1 lunch hour, not the 5+2 weekend hours; offices without weekend service
    open too."""
    assert sessions(city, D(day)) == {Session.NORMAL: 12 * 22, Session.LUNCH: 12 * 3}
    assert sessions(offices["crj-shenhe"], D(day)) == {Session.NORMAL: 6 * 22}


def test_generation_is_idempotent(city):
    first = slots.generate_slots(city, D("2026-09-14"), D("2026-09-20"))
    total = Slot.objects.count()
    again = slots.generate_slots(city, D("2026-09-14"), D("2026-09-20"))
    assert first.created == total > 0
    assert again.created == 0 and Slot.objects.count() == total


def test_an_unconfirmed_year_gets_no_slots(city):
    assert slots.generate_slots(city, D("2031-03-03"), D("2031-03-09")).created == 0


def test_slots_are_released_days_ahead_at_the_release_time(city, settings):
    settings.BOOKING_RELEASE_DAYS_AHEAD = 7
    settings.BOOKING_RELEASE_TIME = "08:00"
    slots.generate_slots(city, D("2026-09-21"), D("2026-09-21"))
    slot = Slot.objects.filter(office=city).first()
    assert timezone.localtime(slot.release_at) == timezone.make_aware(dt.datetime(2026, 9, 14, 8))
    before = timezone.make_aware(dt.datetime(2026, 9, 14, 7, 59))
    after = timezone.make_aware(dt.datetime(2026, 9, 14, 8, 0))
    assert not slots.bookable(now=before).exists()
    assert slots.bookable(now=after).count() == Slot.objects.count()
    assert slots.released_through(before) == D("2026-09-20")
    assert slots.released_through(after) == D("2026-09-21")


def test_release_slots_generates_past_the_horizon(offices):
    from django.core.management import call_command

    with time_machine.travel("2026-09-14 07:00 +0800"):
        call_command("release_slots", verbosity=0)
    days = set(Slot.objects.values_list("date", flat=True))
    assert min(days) == D("2026-09-14")
    assert max(days) == D("2026-09-21")  # tomorrow 08:00 releases the 21st: it exists already
