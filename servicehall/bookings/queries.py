"""The read side: free places, a person's bookings, waiting-time figures per office."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Max, Q, Sum
from django.utils import timezone

from servicehall.catalog import qr

from . import slots as slot_rules
from . import workflow
from .models import Booking, Office, Ticket, TicketStatus


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
    waits = tickets.filter(called_at__isnull=False).aggregate(avg=Avg(wait), longest=Max(wait))

    def minutes(value):
        return None if value is None else round(value.total_seconds() / 60, 1)

    return WaitingFigures(
        office=office,
        day=day,
        average_wait_minutes=minutes(waits["avg"]),
        longest_wait_minutes=minutes(waits["longest"]),
        **row,
    )


def waiting_figures_all(day: date | None = None) -> list[WaitingFigures]:
    return [waiting_figures(office, day) for office in Office.objects.filter(is_active=True)]
