"""Working days under the Chinese holiday arrangement (法定节假日 and 调休).

A day is a working day when it is Monday–Friday and not a holiday, or when it is a
weekend day declared a working day (调休上班). The holidays and swapped days are data
(CalendarYear/CalendarDay, loaded by `manage.py load_calendar` from core/calendar/*.yaml
and edited in the admin); only *confirmed* years are used. A date in any other year raises
CalendarNotConfirmed instead of guessing: the State Council publishes each year's
arrangement in the autumn before, and a guessed deadline is a wrong legal deadline.

Counting (法定时限): the day something happens does not count; counting starts on the next
working day. So

    add_working_days(accepted_on, 1)   -> the first working day after accepted_on
    add_working_days(accepted_on, 20)  -> the deadline of a 20-working-day limit
    add_working_days(d, 0)             -> d itself (an instant item is due the same day)
    working_days_between(a, b)         -> working days in (a, b]; -(working days in (b, a])
                                          when b < a; 0 when a == b

so working_days_between(d, add_working_days(d, n)) == n, and working_days_between is
additive: between(a, b) + between(b, c) == between(a, c).

Caching: these functions sit in hot paths (every case list shows deadlines), so each
process keeps the confirmed years in memory. Saving or deleting a calendar row clears this
process's cache at once (signals in models.py) and other processes notice within
settings.CALENDAR_CACHE_SECONDS (default 30) through a one-query fingerprint of the
CalendarYear table. A thread that has changed the calendar inside a transaction not yet
committed reads its own changes through a private cache that ends with that transaction,
so rolled-back edits (and test transactions) never reach the shared cache.
"""

from __future__ import annotations

import threading
import time
from bisect import bisect_right
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext

__all__ = [
    "CalendarError",
    "CalendarNotConfirmed",
    "add_working_days",
    "invalidate_cache",
    "is_working_day",
    "next_working_day",
    "working_days_between",
]


class CalendarError(Exception):
    """Base class for working-day calendar errors."""


class CalendarNotConfirmed(CalendarError):
    """The holiday arrangement of `year` is missing or not confirmed by an administrator."""

    def __init__(self, year: int):
        self.year = year
        super().__init__(gettext("%(year)s年的节假日安排尚未确认，无法计算工作日") % {"year": year})


@dataclass(frozen=True)
class _Year:
    year: int
    holidays: frozenset[date]
    workdays: frozenset[date]
    # Sorted, for counting within a range: holidays that fall Mon–Fri (a weekend holiday
    # changes nothing) and the swapped weekend working days.
    weekday_holidays: tuple[date, ...]
    weekend_workdays: tuple[date, ...]


# --- cache ------------------------------------------------------------------------------

_lock = threading.Lock()
_shared: dict[int, _Year | None] = {}
_shared_fingerprint: tuple | None = None
_shared_checked_at = 0.0
_local = threading.local()


def _load(year: int) -> _Year | None:
    from .models import CalendarDay, CalendarYear

    if not CalendarYear.objects.filter(year=year, confirmed=True).exists():
        return None
    holidays, workdays = set(), set()
    for day, kind in CalendarDay.objects.filter(calendar_year__year=year).values_list(
        "date", "kind"
    ):
        (holidays if kind == CalendarDay.Kind.HOLIDAY else workdays).add(day)
    return _Year(
        year=year,
        holidays=frozenset(holidays),
        workdays=frozenset(workdays),
        weekday_holidays=tuple(sorted(d for d in holidays if d.weekday() < 5)),
        weekend_workdays=tuple(sorted(d for d in workdays if d.weekday() >= 5)),
    )


def _fingerprint() -> tuple:
    from .models import CalendarYear

    return tuple(
        CalendarYear.objects.order_by("year").values_list("year", "confirmed", "updated_at")
    )


def _clear_shared() -> None:
    global _shared_fingerprint
    with _lock:
        _shared.clear()
        _shared_fingerprint = None


def invalidate_cache(*, committed: bool = False) -> None:
    """Forget cached years. Called by the calendar signals; call it after bulk SQL edits.

    `committed=True` means the change is already durable (or the tables were flushed).
    """
    _clear_shared()
    _local.private = None
    if committed or not connection.in_atomic_block:
        _local.stack = None
        return
    # Uncommitted change: this thread reads through a private cache until the transaction
    # that made it ends; other threads and processes see it after commit.
    _local.stack = tuple(connection.atomic_blocks)
    transaction.on_commit(_clear_shared)


def _private_cache() -> dict | None:
    """This thread's cache while it has uncommitted calendar changes, else None."""
    stack = getattr(_local, "stack", None)
    if not stack:
        return None
    blocks = connection.atomic_blocks
    if not blocks or blocks[0] is not stack[0]:
        # The transaction that changed the calendar is over (committed or rolled back).
        _local.stack = _local.private = None
        _clear_shared()
        return None
    if len(blocks) < len(stack) or any(a is not b for a, b in zip(stack, blocks, strict=False)):
        # A savepoint around the change ended: it may have been rolled back, so reload.
        _local.stack = tuple(blocks)
        _local.private = None
    if getattr(_local, "private", None) is None:
        _local.private = {}
    return _local.private


def _revalidate_shared() -> None:
    global _shared_fingerprint, _shared_checked_at
    now = time.monotonic()
    if now - _shared_checked_at < getattr(settings, "CALENDAR_CACHE_SECONDS", 30):
        return
    fingerprint = _fingerprint()
    with _lock:
        if fingerprint != _shared_fingerprint:
            _shared.clear()
            _shared_fingerprint = fingerprint
        _shared_checked_at = now


def _year(year: int) -> _Year:
    cache = _private_cache()
    if cache is None:
        _revalidate_shared()
        cache = _shared
    try:
        data = cache[year]
    except KeyError:
        data = cache[year] = _load(year)
    if data is None:
        raise CalendarNotConfirmed(year)
    return data


# --- API ------------------------------------------------------------------------------


def _as_date(d) -> date:
    if isinstance(d, datetime):
        # An aware datetime counts on the local (Asia/Shanghai) calendar day.
        return timezone.localdate(d) if timezone.is_aware(d) else d.date()
    if isinstance(d, date):
        return d
    raise TypeError(f"expected a date, got {type(d).__name__}")


def _working(d: date, year: _Year) -> bool:
    if d in year.holidays:
        return False
    if d in year.workdays:
        return True
    return d.weekday() < 5


def is_working_day(d: date) -> bool:
    d = _as_date(d)
    return _working(d, _year(d.year))


def add_working_days(d: date, n: int) -> date:
    """The n-th working day after d (d itself not counted); d when n == 0."""
    d = _as_date(d)
    if n < 0:
        raise ValueError("add_working_days needs n >= 0")
    one = timedelta(days=1)
    year = None
    while n:
        d += one
        if year is None or year.year != d.year:
            year = _year(d.year)  # once per year touched, not once per day
        if _working(d, year):
            n -= 1
    return d


def next_working_day(d: date) -> date:
    """The first working day strictly after d."""
    return add_working_days(d, 1)


def _weekdays_through(d: date) -> int:
    # Mon–Fri days from 0001-01-01 (a Monday, ordinal 1) through d.
    weeks, rest = divmod(d.toordinal(), 7)
    return weeks * 5 + min(rest, 5)


def _count_in(sorted_days: tuple[date, ...], after: date, through: date) -> int:
    return bisect_right(sorted_days, through) - bisect_right(sorted_days, after)


def working_days_between(start: date, end: date) -> int:
    """Working days in (start, end]; negative when end is before start.

    E.g. a deadline check: working_days_between(deadline, today) > 0 means overdue by that
    many working days. Every year the range touches must be confirmed.
    """
    start, end = _as_date(start), _as_date(end)
    if end < start:
        return -working_days_between(end, start)
    if end == start:
        return 0
    count = _weekdays_through(end) - _weekdays_through(start)
    first = start + timedelta(days=1)
    for y in range(first.year, end.year + 1):
        year = _year(y)
        count -= _count_in(year.weekday_holidays, start, end)
        count += _count_in(year.weekend_workdays, start, end)
    return count
