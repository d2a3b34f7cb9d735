"""At the office: check-in gives a queue number, a counter calls the next one.

* `check_in` finds the booking by its QR payload, its code, or the person's ID/passport
  number (today's live booking at this office), and issues the next number of the office's
  day from a QueueDay row locked FOR UPDATE: numbers are unique and in check-in order per
  office and day, whatever the concurrency.
* `call_next` takes the lowest waiting number among the items the counter serves, with
  FOR UPDATE SKIP LOCKED, so two counters calling at once never get the same person and
  neither waits for the other.
* `complete` ends a called ticket (the booking becomes completed); `skip` marks a called
  person absent (过号): the booking stays checked in.

Ticket statuses change here only; booking statuses through workflow.transition.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from servicehall.core import audit
from servicehall.core.idnumbers import normalize_id_number

from . import rules
from .models import (
    Booking,
    BookingStatus,
    Counter,
    CounterItem,
    Office,
    QueueDay,
    Ticket,
    TicketStatus,
)
from .workflow import BookingError, code_from_qr, transition


def _require_counter_staff(actor, office: Office) -> None:
    if not rules.can_serve(actor, office):
        raise PermissionDenied(_("只有本大厅窗口工作人员可以办理签到和叫号。"))


def _find_booking(office: Office, *, booking, code, qr, id_number, today) -> Booking:
    found = Booking.objects.select_for_update(of=("self",)).select_related("slot", "office", "item")
    if qr:
        code = code_from_qr(qr)
    if booking is not None:
        found = found.filter(pk=booking.pk)
    elif code:
        found = found.filter(code=str(code).strip().upper())
    elif id_number:
        number = normalize_id_number(id_number)
        found = found.filter(
            document_number=number, office=office, date=today, status=BookingStatus.BOOKED
        ).order_by("slot__start")
    else:
        raise BookingError(_("请扫描预约二维码，或输入预约码、证件号码。"), "missing_key")
    result = found.first()
    if result is None:
        raise BookingError(_("未找到预约，请核对后重试。"), "not_found")
    return result


def _next_number(office: Office, day) -> int:
    QueueDay.objects.get_or_create(office=office, date=day)
    queue_day = QueueDay.objects.select_for_update().get(office=office, date=day)
    queue_day.last_number += 1
    queue_day.save(update_fields=["last_number"])
    return queue_day.last_number


def check_in(
    *,
    actor,
    office: Office,
    booking: Booking | None = None,
    code: str | None = None,
    qr: str | None = None,
    id_number: str | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Check a person in at `office` (scanning the QR, typing the code, or the ID number at
    the counter) and issue a queue number."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    _require_counter_staff(actor, office)
    with transaction.atomic():
        found = _find_booking(
            office, booking=booking, code=code, qr=qr, id_number=id_number, today=today
        )
        if found.office_id != office.pk:
            raise BookingError(
                _("该预约的办理地点是%(office)s，请前往该大厅。") % {"office": found.office.name},
                "wrong_office",
            )
        if found.status == BookingStatus.CHECKED_IN:
            return found.ticket  # a second scan shows the same number
        if found.date != today:
            raise BookingError(_("该预约不是今天的预约。"), "wrong_day")
        early = timedelta(minutes=settings.BOOKING_CHECKIN_EARLY_MINUTES)
        late = timedelta(minutes=settings.BOOKING_CHECKIN_LATE_MINUTES)
        if now < found.slot.start - early:
            raise BookingError(
                _("签到时间未到，请于%(when)s后签到。")
                % {"when": timezone.localtime(found.slot.start - early).strftime("%H:%M")},
                "too_early",
            )
        if now > found.slot.end + late and found.status == BookingStatus.BOOKED:
            raise BookingError(_("已超过预约时段，请重新预约或现场取号。"), "too_late")
        transition(found, BookingStatus.CHECKED_IN, actor=actor, action="check_in")
        ticket = Ticket.objects.create(
            office=office,
            date=today,
            number=_next_number(office, today),
            booking=found,
            item_id=found.item_id,
            issued_at=now,
        )
        audit.record(
            actor=actor,
            action="booking.ticket_issued",
            target=ticket,
            details={"booking": found.pk, "number": ticket.number},
        )
    return ticket


def _ticket_move(ticket: Ticket, to_status: str, *, actor, action: str, **fields) -> Ticket:
    from_status = ticket.status
    ticket.status = to_status
    for name, value in fields.items():
        setattr(ticket, name, value)
    ticket.save()
    audit.record(
        actor=actor,
        action=f"booking.ticket_{action}",
        target=ticket,
        details={"from": from_status, "to": to_status, "number": ticket.number},
    )
    return ticket


def call_next(*, actor, counter: Counter, now: datetime | None = None) -> Ticket | None:
    """The next waiting number for the items `counter` serves, or None when nobody waits."""
    now = now or timezone.now()
    office = counter.office
    _require_counter_staff(actor, office)
    items = CounterItem.objects.filter(counter=counter).values("item_id")
    with transaction.atomic():
        ticket = (
            Ticket.objects.select_for_update(skip_locked=True)
            .filter(
                office=office,
                date=timezone.localdate(now),
                status=TicketStatus.WAITING,
                item_id__in=items,
            )
            .order_by("number")
            .first()
        )
        if ticket is None:
            return None
        return _ticket_move(
            ticket, TicketStatus.CALLED, actor=actor, action="call", counter=counter, called_at=now
        )


def _locked_called(actor, ticket: Ticket) -> Ticket:
    ticket = Ticket.objects.select_for_update().select_related("office").get(pk=ticket.pk)
    _require_counter_staff(actor, ticket.office)
    if ticket.status != TicketStatus.CALLED:
        raise BookingError(
            _("排队号%(number)s当前状态为“%(status)s”，不能进行此操作。")
            % {"number": ticket.display_number, "status": TicketStatus(ticket.status).label},
            "wrong_state",
        )
    return ticket


def complete(*, actor, ticket: Ticket, now: datetime | None = None) -> Ticket:
    now = now or timezone.now()
    with transaction.atomic():
        ticket = _locked_called(actor, ticket)
        booking = Booking.objects.select_for_update().get(pk=ticket.booking_id)
        transition(booking, BookingStatus.COMPLETED, actor=actor, action="complete")
        return _ticket_move(
            ticket, TicketStatus.COMPLETED, actor=actor, action="complete", finished_at=now
        )


def skip(*, actor, ticket: Ticket, now: datetime | None = None) -> Ticket:
    now = now or timezone.now()
    with transaction.atomic():
        ticket = _locked_called(actor, ticket)
        return _ticket_move(
            ticket, TicketStatus.SKIPPED, actor=actor, action="skip", finished_at=now
        )
