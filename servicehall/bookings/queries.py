"""The read side: free places, a person's bookings, waiting-time figures per office."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Max, Q, Sum
from django.utils import timezone

from servicehall.catalog import qr

from . import slots as slot_rules
from . import workflow
from .models import (
    Booking,
    BookingEvent,
    Closure,
    Counter,
    CounterItem,
    Office,
    Ticket,
    TicketStatus,
)


def open_slots(office: Office, item, day: date, now=None):
    """Bookable slots of `item` at `office` on `day`, in time order."""
    queryset = office.slots.filter(item=item, date=day).order_by("start", "counter__code")
    return slot_rules.bookable(queryset, now=now)


def day_availability(office: Office, item, start: date, end: date, now=None) -> dict:
    """{day: free places} over bookable slots (what a calendar view shows)."""
    rows = (
        slot_rules.bookable(office.slots.filter(item=item, date__range=(start, end)), now=now)
        .values("date")
        .annotate(free=Sum(F("capacity") - F("booked")))
    )
    return {row["date"]: row["free"] for row in rows}


def booking_qr(booking: Booking, kind: str = "svg") -> bytes:
    """The check-in QR code (SVG or PNG) of a booking: its signed payload, scanned at the
    office (queue.check_in(qr=...))."""
    return qr.render(workflow.qr_payload(booking), kind)


def bookings_of(user):
    """A citizen's own bookings, newest first."""
    return Booking.objects.filter(account=user).select_related("slot", "office", "item")


@dataclass
class WaitingFigures:
    office: Office
    day: date
    issued: int
    waiting: int
    called: int
    completed: int
    skipped: int
    average_wait_minutes: float | None
    longest_wait_minutes: float | None
    p90_wait_minutes: float | None = None  # nine in ten called people waited at most this

    @property
    def ever_called(self) -> int:
        """Numbers a counter has called (whether now served, finished or skipped)."""
        return self.called + self.completed + self.skipped


def waiting_figures(office: Office, day: date | None = None) -> WaitingFigures:
    """Numbers issued and waiting, and the wait from check-in to call, for an office's day."""
    day = day or timezone.localdate()
    wait = ExpressionWrapper(F("called_at") - F("issued_at"), output_field=DurationField())
    tickets = Ticket.objects.filter(office=office, date=day)
    row = tickets.aggregate(
        issued=Count("pk"),
        waiting=Count("pk", filter=Q(status=TicketStatus.WAITING)),
        called=Count("pk", filter=Q(status=TicketStatus.CALLED)),
        completed=Count("pk", filter=Q(status=TicketStatus.COMPLETED)),
        skipped=Count("pk", filter=Q(status=TicketStatus.SKIPPED)),
    )
    called = tickets.filter(called_at__isnull=False)
    waits = called.aggregate(avg=Avg(wait), longest=Max(wait))
    # An office calls a few hundred numbers a day: the percentile is computed here, the same
    # on PostgreSQL and SQLite, from one column of the day's called tickets.
    each = sorted(called.annotate(wait=wait).values_list("wait", flat=True))

    def minutes(value):
        return None if value is None else round(value.total_seconds() / 60, 1)

    return WaitingFigures(
        office=office,
        day=day,
        average_wait_minutes=minutes(waits["avg"]),
        longest_wait_minutes=minutes(waits["longest"]),
        p90_wait_minutes=minutes(nearest_rank(each, 0.9)),
        **row,
    )


def nearest_rank(values: list, fraction: float):
    """The nearest-rank percentile of sorted `values` (None when empty): the smallest value
    at least `fraction` of them do not exceed."""
    if not values:
        return None
    return values[max(math.ceil(fraction * len(values)), 1) - 1]


def waiting_figures_all(day: date | None = None, offices=None) -> list[WaitingFigures]:
    offices = Office.objects.filter(is_active=True) if offices is None else offices
    return [waiting_figures(office, day) for office in offices]


# --- at the office: the desk, the counter screen, the public display ------------------------


def issued_today(office: Office, day: date | None = None, limit: int = 10):
    """The numbers issued last at an office's check-in desk, newest first."""
    day = day or timezone.localdate()
    return (
        Ticket.objects.filter(office=office, date=day)
        .select_related("booking", "item", "counter")
        .order_by("-number")[:limit]
    )


def waiting_for(counter: Counter, day: date | None = None):
    """Numbers waiting for the items `counter` serves, in the order call_next takes them."""
    day = day or timezone.localdate()
    return (
        Ticket.objects.filter(
            office_id=counter.office_id,
            date=day,
            status=TicketStatus.WAITING,
            item_id__in=CounterItem.objects.filter(counter=counter).values("item_id"),
        )
        .select_related("booking", "item")
        .order_by("number")
    )


def serving(counter: Counter, day: date | None = None) -> Ticket | None:
    """The number `counter` called last and has not finished or skipped yet."""
    day = day or timezone.localdate()
    return (
        Ticket.objects.filter(counter=counter, date=day, status=TicketStatus.CALLED)
        .select_related("booking", "item")
        .order_by("-called_at", "-pk")
        .first()
    )


def recent_calls(office: Office, day: date | None = None, limit: int = 8) -> list[dict]:
    """What the public display shows: the numbers called last and the counter that called
    them, newest first. Numbers and counter names only, never a person."""
    day = day or timezone.localdate()
    rows = (
        Ticket.objects.filter(office=office, date=day, called_at__isnull=False)
        .order_by("-called_at", "-pk")
        .values("pk", "number", "called_at", "counter__name")[:limit]
    )
    return [
        {
            "key": f"{row['pk']}:{row['called_at'].timestamp():.3f}",
            "number": f"{row['number']:03d}",
            "counter": row["counter__name"],
            "at": timezone.localtime(row["called_at"]).strftime("%H:%M"),
        }
        for row in rows
    ]


def waiting_count(office: Office, day: date | None = None) -> int:
    day = day or timezone.localdate()
    return Ticket.objects.filter(office=office, date=day, status=TicketStatus.WAITING).count()


def upcoming_closures(office: Office, now: datetime | None = None):
    """Closures not yet over, soonest first, each with `affected`: the bookings it cancelled
    (the holders workflow.add_closure notified by SMS)."""
    now = now or timezone.now()
    closures = list(
        Closure.objects.filter(office=office, end__gt=now)
        .select_related("counter", "created_by")
        .order_by("start", "pk")
    )
    for closure in closures:  # a handful at a time: one count each
        closure.affected = affected_by(closure)
    return closures


def affected_by(closure: Closure) -> int:
    """The bookings a closure cancelled (workflow.add_closure records each with its pk)."""
    return BookingEvent.objects.filter(action="close", details__closure=closure.pk).count()
