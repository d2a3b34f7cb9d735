"""Slot generation and the release policy.

`generate_slots(office, start, end)` creates, for every day in [start, end], every active
counter and every item it serves, the slots of that item's length inside the office's
windows for the day (schedules.windows). A slot that would not fit before a window's end is
not made. It is idempotent: existing slots (matched by counter, item, start) are left as
they are, bookings and all; re-running after a data change only adds what is missing.

Release: a slot becomes bookable at its release moment,
    (slot day - settings.BOOKING_RELEASE_DAYS_AHEAD days) at settings.BOOKING_RELEASE_TIME,
stored on the slot (`release_at`) so that booking compares one column and a change of policy
affects only slots generated afterwards. The `release_slots` command generates slots up to
one day beyond the release horizon on a timer, so the next day's slots exist before their
release moment and become bookable exactly at it — not when the timer next runs.

A slot inside a closure is generated closed (is_closed) and cannot be booked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from . import schedules
from .models import Closure, CounterItem, Office, Slot


def release_time() -> time:
    hours, minutes = settings.BOOKING_RELEASE_TIME.split(":")
    return time(int(hours), int(minutes))


def release_moment(day: date) -> datetime:
    """When the slots of `day` become bookable."""
    released_on = day - timedelta(days=settings.BOOKING_RELEASE_DAYS_AHEAD)
    return timezone.make_aware(datetime.combine(released_on, release_time()))


def released_through(now: datetime | None = None) -> date:
    """The last day whose slots are bookable at `now`."""
    now = timezone.localtime(now or timezone.now())
    horizon = now.date() + timedelta(days=settings.BOOKING_RELEASE_DAYS_AHEAD)
    return horizon if now.time() >= release_time() else horizon - timedelta(days=1)


@dataclass
class GenerateReport:
    created: int = 0
    days: int = 0

    def __str__(self) -> str:
        return f"{self.created} slots created over {self.days} office-days"


def _closed(closures: list[Closure], counter_id: int, start: datetime, end: datetime) -> bool:
    return any(
        (c.counter_id is None or c.counter_id == counter_id) and c.start < end and start < c.end
        for c in closures
    )


def generate_slots(office: Office, start: date, end: date) -> GenerateReport:
    report = GenerateReport()
    if not office.is_active or end < start:
        return report
    counter_items = list(
        CounterItem.objects.filter(counter__office=office, counter__is_active=True)
        .select_related("counter")
        .order_by("counter__code", "item_id")
    )
    day_start = timezone.make_aware(datetime.combine(start, time.min))
    day_end = timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min))
    closures = list(
        Closure.objects.filter(office=office).filter(Q(start__lt=day_end) & Q(end__gt=day_start))
    )
    new: list[Slot] = []
    for day, kind in sorted(schedules.day_kinds(start, end).items()):
        windows = schedules.windows(office.hours, day, kind)
        if not windows:
            continue
        report.days += 1
        released = release_moment(day)
        for ci in counter_items:
            length = timedelta(minutes=ci.slot_minutes)
            for window_start, window_end, session in windows:
                slot_start = window_start
                while slot_start + length <= window_end:
                    slot_end = slot_start + length
                    new.append(
                        Slot(
                            office=office,
                            counter=ci.counter,
                            item_id=ci.item_id,
                            date=day,
                            start=slot_start,
                            end=slot_end,
                            session=session,
                            capacity=ci.capacity,
                            release_at=released,
                            is_closed=_closed(closures, ci.counter_id, slot_start, slot_end),
                        )
                    )
                    slot_start = slot_end
    if new:
        before = Slot.objects.filter(office=office, date__range=(start, end)).count()
        Slot.objects.bulk_create(new, ignore_conflicts=True, batch_size=2000)
        report.created = (
            Slot.objects.filter(office=office, date__range=(start, end)).count() - before
        )
    return report


def generate_ahead(now: datetime | None = None) -> GenerateReport:
    """Slots for every active office from today through one day past the release horizon."""
    today = timezone.localdate(now or timezone.now())
    through = released_through(now) + timedelta(days=1)
    total = GenerateReport()
    for office in Office.objects.filter(is_active=True):
        report = generate_slots(office, today, through)
        total.created += report.created
        total.days += report.days
    return total


def bookable(queryset=None, now: datetime | None = None):
    """Slots that can be booked now: released, not started, open, with a free place."""
    now = now or timezone.now()
    queryset = Slot.objects.all() if queryset is None else queryset
    return queryset.filter(
        release_at__lte=now, start__gt=now, is_closed=False, booked__lt=F("capacity")
    )


def is_bookable(slot: Slot, now: datetime) -> bool:
    """`bookable` for one slot already in hand."""
    return (
        not slot.is_closed
        and slot.release_at <= now
        and slot.start > now
        and slot.booked < slot.capacity
    )
