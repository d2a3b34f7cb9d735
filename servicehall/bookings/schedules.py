"""Which hours an office keeps on a given day.

The working-day calendar (core.workdays, with 调休) decides the kind of day:

* a statutory holiday (any weekday, e.g. 2026-10-01..07)      -> HOLIDAY: closed, no
  extended hours either (neither 8+1 nor 5+2 serves on a holiday);
* a working day: Monday–Friday that is not a holiday, and a weekend day declared a working
  day (调休上班, e.g. Sunday 2026-09-20, Saturday 2026-10-10) -> WORKING: the normal weekday
  hours, plus the 8+1 lunch hour where the office offers it. A swapped working Saturday is
  an ordinary working day: it gets weekday hours, not the 5+2 weekend hours;
* any other Saturday or Sunday                                -> WEEKEND: the 5+2 weekend
  hours where the office offers them, otherwise closed.

A year whose calendar is not confirmed has no slots at all (CalendarNotConfirmed): booking
days on a guessed calendar would promise service on a day that may become a holiday.
"""

from __future__ import annotations

import enum
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from servicehall.core import workdays

from .models import Session


class DayKind(enum.Enum):
    WORKING = "working"
    WEEKEND = "weekend"
    HOLIDAY = "holiday"


def _holidays(start: date, end: date) -> set[date]:
    from servicehall.core.models import CalendarDay

    return set(
        CalendarDay.objects.filter(
            date__range=(start, end),
            kind=CalendarDay.Kind.HOLIDAY,
            calendar_year__confirmed=True,
        ).values_list("date", flat=True)
    )


def day_kinds(start: date, end: date) -> dict[date, DayKind]:
    """The kind of every day in [start, end] (inclusive). Days of an unconfirmed year are
    left out (no slots are generated for them)."""
    holidays = _holidays(start, end)
    kinds = {}
    day = start
    while day <= end:
        try:
            working = workdays.is_working_day(day)
        except workdays.CalendarNotConfirmed:
            day += timedelta(days=1)
            continue
        if working:
            kinds[day] = DayKind.WORKING
        elif day in holidays:
            kinds[day] = DayKind.HOLIDAY
        else:
            kinds[day] = DayKind.WEEKEND
        day += timedelta(days=1)
    return kinds


def day_kind(day: date) -> DayKind:
    """Raises CalendarNotConfirmed for a day of an unconfirmed year."""
    kind = day_kinds(day, day).get(day)
    if kind is None:
        raise workdays.CalendarNotConfirmed(day.year)
    return kind


def _at(day: date, hhmm: str) -> datetime:
    hours, minutes = hhmm.split(":")
    return timezone.make_aware(datetime.combine(day, time(int(hours), int(minutes))))


def windows(hours: dict, day: date, kind: DayKind) -> list[tuple[datetime, datetime, str]]:
    """(start, end, session) of the office's service windows on `day`, in order."""
    if kind is DayKind.HOLIDAY:
        return []
    found: list[tuple[str, str, str]] = []
    if kind is DayKind.WORKING:
        found += [(start, end, Session.NORMAL) for start, end in hours["weekday"]]
        if hours.get("lunch"):
            found.append((hours["lunch"][0], hours["lunch"][1], Session.LUNCH))
    elif hours.get("weekend"):
        found += [(start, end, Session.WEEKEND) for start, end in hours["weekend"]]
    return sorted((_at(day, s), _at(day, e), session) for s, e, session in found)
