"""What the booking pages show (citizen, phone operator and enterprise liaison alike): the
offices and their items, a 7-day strip of availability, and the times of one day.

Read side only; booking itself is workflow.book. A time is shown once however many counters
serve it (a citizen does not choose a counter): its places are the sum over the counters'
slots, and the slot offered is the one with the most free places. When that one fills
meanwhile, workflow.book books a sibling slot at the same time that still has a place, so
"places left" on the page and the booking agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, F, Min, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from servicehall.catalog.models import ServiceItem
from servicehall.core import workdays
from servicehall.core.masking import mask_id_number, mask_middle

from . import schedules
from . import slots as slot_rules
from .models import DocumentType, Office, OfficeKind, Session, Slot

STRIP_DAYS = 7
KIND_ORDER = {OfficeKind.EXIT_ENTRY: 0, OfficeKind.VISA: 1, OfficeKind.VEHICLE: 2}

OPEN, FULL, CLOSED, NOT_RELEASED, ENDED = "open", "full", "closed", "not_released", "ended"
STATE_LABELS = {
    OPEN: _("可预约"),
    FULL: _("已约满"),
    CLOSED: _("不办公"),
    NOT_RELEASED: _("未放号"),
    ENDED: _("已结束"),
}


def offices(kind: str | None = None, item=None) -> list[Office]:
    """Active offices: exit-entry (the city office before the districts), visa, vehicle."""
    queryset = Office.objects.filter(is_active=True).select_related("district")
    if kind:
        queryset = queryset.filter(kind=kind)
    if item is not None:
        queryset = queryset.filter(counters__items=item, counters__is_active=True).distinct()
    return sorted(
        queryset, key=lambda o: (KIND_ORDER.get(o.kind, 9), o.district_id is not None, o.code)
    )


def items_of(office: Office):
    """The items the office's active counters serve."""
    return (
        ServiceItem.active.filter(counters__office=office, counters__is_active=True)
        .distinct()
        .order_by("code")
    )


@dataclass
class Day:
    day: date
    state: str
    free: int = 0
    release_at: datetime | None = None

    @property
    def label(self):
        return STATE_LABELS[self.state]

    @property
    def bookable(self) -> bool:
        return self.state == OPEN

    @property
    def is_today(self) -> bool:
        return self.day == timezone.localdate()


def _opens(office: Office, day: date) -> bool:
    try:
        kind = schedules.day_kind(day)
    except workdays.CalendarNotConfirmed:
        return False
    return bool(schedules.windows(office.hours, day, kind))


def first_day(office: Office, item, now: datetime) -> date:
    """Today while some of today's slots are still ahead, else tomorrow."""
    today = timezone.localdate(now)
    ahead = office.slots.filter(item=item, date=today, start__gt=now, is_closed=False).exists()
    return today if ahead else today + timedelta(days=1)


def day_strip(office: Office, item, now: datetime | None = None) -> list[Day]:
    now = now or timezone.now()
    start = first_day(office, item, now)
    end = start + timedelta(days=STRIP_DAYS - 1)
    live = Q(is_closed=False, start__gt=now)
    rows = {
        row["date"]: row
        for row in office.slots.filter(item=item, date__range=(start, end))
        .values("date")
        .annotate(
            open_slots=Count("pk", filter=Q(is_closed=False)),
            ahead=Count("pk", filter=live),
            release=Min("release_at", filter=Q(is_closed=False)),
            free=Sum(F("capacity") - F("booked"), filter=live & Q(release_at__lte=now)),
        )
    }
    released_through = slot_rules.released_through(now)
    strip = []
    for offset in range(STRIP_DAYS):
        day = start + timedelta(days=offset)
        row = rows.get(day)
        if row is None:
            # Slots are generated a day past the release horizon; later days have none yet.
            if day > released_through and _opens(office, day):
                strip.append(Day(day, NOT_RELEASED, release_at=slot_rules.release_moment(day)))
            else:
                strip.append(Day(day, CLOSED))
        elif not row["open_slots"]:
            strip.append(Day(day, CLOSED))
        elif row["release"] > now:
            strip.append(Day(day, NOT_RELEASED, release_at=row["release"]))
        elif not row["ahead"]:
            strip.append(Day(day, ENDED))
        elif row["free"]:
            strip.append(Day(day, OPEN, free=row["free"]))
        else:
            strip.append(Day(day, FULL))
    return strip


def chosen_day(strip: list[Day], requested: str | None) -> Day:
    """The day asked for if it is in the strip, else the first bookable one (or the first)."""
    for cell in strip:
        if requested and cell.day.isoformat() == requested:
            return cell
    return next((cell for cell in strip if cell.bookable), strip[0])


@dataclass
class Time:
    start: datetime
    end: datetime
    session: str
    free: int
    slot_id: int
    state: str

    @property
    def session_label(self):
        return Session(self.session).label

    @property
    def bookable(self) -> bool:
        return self.state == OPEN


def times(office: Office, item, day: date, now: datetime | None = None, exclude=None):
    """The day's times (one per start), each with its free places and the slot to book;
    `exclude` (a slot) leaves out its time, at every counter (rebooking to it is no change)."""
    now = now or timezone.now()
    queryset = office.slots.filter(item=item, date=day).order_by("start", "counter__code")
    if exclude is not None:
        queryset = queryset.exclude(start=exclude.start)
    found: dict[datetime, Time] = {}
    best: dict[datetime, int] = {}  # the free places of the slot each time offers
    for slot in queryset:
        free = slot.available if slot_rules.is_bookable(slot, now) else 0
        time = found.get(slot.start)
        if time is None:
            found[slot.start] = Time(
                slot.start, slot.end, slot.session, free, slot.pk, _state(slot, now)
            )
            best[slot.start] = free
            continue
        time.free += free
        if free > best[slot.start]:
            time.slot_id, best[slot.start], time.state = slot.pk, free, OPEN
        elif time.state != OPEN and _state(slot, now) == FULL:
            time.state = FULL  # full beats closed when one counter of the time is open
    return list(found.values())


def _state(slot: Slot, now: datetime) -> str:
    if slot.is_closed:
        return CLOSED
    if slot.start <= now:
        return ENDED
    if slot.release_at > now:
        return NOT_RELEASED
    return OPEN if slot.booked < slot.capacity else FULL


# --- the operator's and the liaison's desk: office and item in one choice -------------------


@dataclass
class Offer:
    office: Office
    item: ServiceItem

    @property
    def value(self) -> str:
        return f"{self.office.code}/{self.item.code}"


def offers(kind: str | None = None) -> list[tuple[Office, list[Offer]]]:
    """Every active office (of `kind`) with the items it books, for one grouped select."""
    return [
        (office, [Offer(office, item) for item in items_of(office)]) for office in offices(kind)
    ]


def find_offer(value: str | None, kind: str | None = None) -> Offer | None:
    office_code, _sep, item_code = (value or "").partition("/")
    office = Office.objects.filter(code=office_code, is_active=True).first()
    if office is None or (kind and office.kind != kind):
        return None
    item = items_of(office).filter(code=item_code).first()
    return Offer(office, item) if item else None


def masked_document(booking) -> str:
    """An ID number as 110101********1234, a passport number as E*****678."""
    if booking.document_type == DocumentType.ID_CARD:
        return mask_id_number(booking.document_number)
    return mask_middle(booking.document_number, 1, 3)
