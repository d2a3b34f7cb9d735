"""The only code that changes a booking's status (queue.py changes queue tickets and moves a
booking to checked-in / completed through `transition` here).

Every verb takes a keyword-only `actor` (None only for the system's sweeps), runs in one
transaction, writes a BookingEvent and an audit entry for every transition, and queues its
SMS in the outbox in that same transaction. Verbs never take a request.

Capacity is the database's: `book` raises a slot's `booked` with one guarded UPDATE
(… SET booked = booked + 1 WHERE id = … AND booked < capacity AND …) and the CHECK
booked <= capacity backs it; under any concurrency a slot never holds more than its
capacity, and a full slot refuses without waiting on a row lock. One live booking per person
per item per day is a partial UNIQUE; a double submit (same `client_token`) returns the
booking already made.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from servicehall.catalog.models import ServiceItem
from servicehall.core import audit, rows
from servicehall.core.idnumbers import id_number_error, normalize_id_number
from servicehall.notify.outbox import new_sms, notify_sms

from . import rules, sql
from . import slots as slot_rules
from .models import (
    LIVE_STATUSES,
    Booking,
    BookingEvent,
    BookingStatus,
    Channel,
    Closure,
    DocumentType,
    Office,
    OfficeKind,
    Slot,
)

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read out on the phone
CODE_LENGTH = 8
QR_SALT = "servicehall.bookings.checkin"
PASSPORT_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")

TRANSITIONS = {
    BookingStatus.BOOKED: {
        BookingStatus.CHECKED_IN,
        BookingStatus.CANCELLED,
        BookingStatus.CLOSED,
        BookingStatus.NO_SHOW,
    },
    BookingStatus.CHECKED_IN: {BookingStatus.COMPLETED},
}


class BookingError(Exception):
    """A refusal the user should read; `code` says which (for the API and the pages)."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.code = code


# --- events ------------------------------------------------------------------------------


def transition(
    booking: Booking,
    to_status: str,
    *,
    actor,
    action: str,
    details: dict | None = None,
    actor_label: str = "",
) -> BookingEvent:
    """Move a (locked) booking to `to_status` and record it; the one place a status changes."""
    from_status = booking.status
    if to_status not in TRANSITIONS.get(from_status, set()):
        raise BookingError(
            _("预约当前状态为“%(status)s”，不能进行此操作。")
            % {"status": BookingStatus(from_status).label},
            "wrong_state",
        )
    booking.status = to_status
    booking.save(update_fields=["status", "updated_at"])
    return record(
        booking,
        action,
        actor=actor,
        from_status=from_status,
        details=details,
        actor_label=actor_label,
    )


def record(booking, action, *, actor, from_status="", details=None, actor_label="", along=()):
    """The booking's event and its audit entry, written in one round trip with `along`
    (other new rows of the change, e.g. its SMS: notify.outbox.new_message)."""
    details = details or {}
    event = BookingEvent(
        booking=booking,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        from_status=from_status,
        to_status=booking.status,
        details=details,
    )
    audit.record(
        actor=actor,
        actor_label=actor_label,
        action=f"booking.{action}",
        target=booking,
        target_repr=str(booking),
        details={"from": from_status, "to": booking.status, **details},
        along=(*along, event),
    )
    return event


# --- codes and QR --------------------------------------------------------------------------


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def qr_payload(booking: Booking) -> str:
    """The signed text in the booking's QR code (the code alone is guessable, this is not)."""
    return signing.dumps(booking.code, salt=QR_SALT, compress=True)


def code_from_qr(payload: str) -> str:
    try:
        return signing.loads(payload, salt=QR_SALT)
    except signing.BadSignature as exc:
        raise BookingError(_("二维码无效，请出示预约短信中的预约码。"), "bad_qr") from exc


# --- who is booked --------------------------------------------------------------------------


def _normalise_passport(value) -> str:
    number = "".join(str(value or "").split()).upper()
    if not (5 <= len(number) <= 20) or set(number) - PASSPORT_CHARS:
        raise BookingError(_("护照号码应为5至20位字母或数字。"), "bad_document")
    return number


def _checked_id(value) -> str:
    error = id_number_error(value)
    if error:
        raise BookingError(error, "bad_document")
    return normalize_id_number(value)


def _person(
    actor, slot, *, person_name, id_number, passport_number, nationality, phone, enterprise
):
    """Who the booking is for, and through which channel; refuses what the actor may not do."""
    if not (actor and actor.is_authenticated):
        raise PermissionDenied(_("请先登录后再预约。"))
    if enterprise is not None:
        if not rules.is_liaison(actor, enterprise):
            raise PermissionDenied(_("您不是该单位的授权经办人，不能为其员工预约。"))
        if slot.office.kind != OfficeKind.VISA:
            raise BookingError(_("单位代为预约仅限外国人签证业务。"), "wrong_office")
        profile = actor.citizen_profile_or_none
        phone = phone or (profile.mobile if profile else "")
        if not phone:
            raise BookingError(_("请填写联系电话。"), "missing_phone")
        return {
            "channel": Channel.ENTERPRISE,
            "enterprise": enterprise,
            "document_type": DocumentType.PASSPORT,
            "document_number": _normalise_passport(passport_number),
            "nationality": (nationality or "").upper()[:3],
            "person_name": _required_name(person_name),
            "phone": phone,
            "account": None,
        }
    if rules.is_operator(actor):
        if passport_number:
            document = (DocumentType.PASSPORT, _normalise_passport(passport_number))
        else:
            document = (DocumentType.ID_CARD, _checked_id(id_number))
        if not phone:
            raise BookingError(_("请填写来电人的联系电话。"), "missing_phone")
        return {
            "channel": Channel.PHONE,
            "enterprise": None,
            "document_type": document[0],
            "document_number": document[1],
            "nationality": (nationality or "").upper()[:3],
            "person_name": _required_name(person_name),
            "phone": phone,
            "account": None,
        }
    profile = actor.citizen_profile_or_none
    if not actor.is_citizen or profile is None:
        raise PermissionDenied(_("只有完成实名认证的个人用户可以网上预约。"))
    if id_number and normalize_id_number(id_number) != profile.id_number:
        raise PermissionDenied(_("网上预约只能为本人预约；代他人预约请拨打预约电话。"))
    return {
        "channel": Channel.ONLINE,
        "enterprise": None,
        "document_type": DocumentType.ID_CARD,
        "document_number": profile.id_number,
        "nationality": "",
        "person_name": actor.name or actor.get_username(),
        "phone": phone or profile.mobile,
        "account": actor,
    }


def _required_name(name) -> str:
    name = (name or "").strip()
    if not name:
        raise BookingError(_("请填写预约人姓名。"), "missing_name")
    return name[:64]


def _person_of(booking: Booking) -> dict:
    return {
        field: getattr(booking, field)
        for field in (
            "channel",
            "enterprise",
            "document_type",
            "document_number",
            "nationality",
            "person_name",
            "phone",
            "account",
        )
    }


# --- no-show restriction --------------------------------------------------------------------


def restricted_until(document_type: str, document_number: str, today: date) -> date | None:
    """The last day a person may not book because of repeated no-shows, or None:
    BOOKING_NO_SHOW_LIMIT no-shows within BOOKING_NO_SHOW_WINDOW_DAYS restrict booking for
    BOOKING_NO_SHOW_RESTRICT_DAYS days after the latest of them."""
    if settings.BOOKING_NO_SHOW_LIMIT <= 0:
        return None
    dates = Booking.objects.filter(
        _no_shows_in_window(today),
        document_type=document_type,
        document_number=document_number,
    ).values_list("date", flat=True)
    return _restricted_until(dates, today)


def _no_show_window(today: date) -> tuple[date, date]:
    """The days whose no-shows count: after the first, through the second."""
    return today - timedelta(days=settings.BOOKING_NO_SHOW_WINDOW_DAYS), today


def _no_shows_in_window(today: date) -> Q:
    after, through = _no_show_window(today)
    return Q(status=BookingStatus.NO_SHOW, date__gt=after, date__lte=through)


def _restricted_until(no_show_dates, today: date) -> date | None:
    """restricted_until from the dates of the person's no-shows within the window."""
    limit = settings.BOOKING_NO_SHOW_LIMIT
    dates = sorted(no_show_dates, reverse=True)[:limit]
    if limit <= 0 or len(dates) < limit:
        return None
    until = dates[0] + timedelta(days=settings.BOOKING_NO_SHOW_RESTRICT_DAYS)
    return until if until >= today else None


# --- booking ----------------------------------------------------------------------------------


def _check_slot(slot: Slot, item, now: datetime) -> None:
    if item is not None and item.pk != slot.item_id:
        raise BookingError(_("该时段不办理此事项。"), "wrong_item")
    if slot.start <= now:
        raise BookingError(_("该时段已过，请选择其他时段。"), "past")
    if slot.release_at > now:
        raise BookingError(
            _("该时段尚未放号，将于%(when)s开放预约。")
            % {"when": timezone.localtime(slot.release_at).strftime("%Y-%m-%d %H:%M")},
            "not_released",
        )
    if slot.is_closed:
        raise BookingError(_("该时段已停止办理，请选择其他时段。"), "closed")


def _refuse_duplicate() -> BookingError:
    return BookingError(
        _("您当天已预约该事项，不能重复预约；如需更改时间，请改约或取消后重新预约。"), "duplicate"
    )


def _same_submit(existing: Booking, actor) -> Booking:
    if existing.booked_by_id != getattr(actor, "pk", None):
        raise BookingError(_("提交标识已被使用，请刷新页面后重新提交。"), "token_reused")
    existing.repeated = True  # callers tell a repeated submit (HTTP 200) from a new one (201)
    return existing


def book(
    *,
    actor,
    slot: Slot,
    client_token: str,
    item=None,
    person_name: str | None = None,
    id_number: str | None = None,
    passport_number: str | None = None,
    nationality: str = "",
    phone: str | None = None,
    enterprise=None,
    at_any_counter: bool = False,
    now: datetime | None = None,
) -> Booking:
    """Book a place in `slot` or, `at_any_counter`, at its time: the emptiest of it and the
    other counters' slots of the same office, item and time that have a place (what the
    pages and the API offer: a person books a time, not a counter). A citizen books for
    themself; an operator (dispatcher, window_clerk) for a caller (name, ID or passport
    number, phone); a liaison for a foreign employee of `enterprise` at a visa office (name,
    passport number). The same `client_token` again returns the booking already made.

    Cheap refusals first: one read gives the slots of that time (with office and item) and
    whether this client token has booked before; a time seen full is refused from those
    rows, before the person's bookings are looked at (most requests at a release moment find
    it full). The guarded UPDATE in `_book` stays the guarantee. When this call opens the
    transaction (the views), the UPDATE and the INSERT run without a savepoint: a conflict
    on a unique key rolls the whole transaction back and is sorted out after it."""
    if not client_token or len(client_token) > 64:
        raise ValueError("book() needs a client_token of 1 to 64 characters")
    now = now or timezone.now()
    for _attempt in range(3):
        asked, chosen, token_booking = _slots_at_time(slot.pk, client_token, now, at_any_counter)
        if token_booking is not None:
            return _same_submit(_by_pk(token_booking), actor)
        person = _person(
            actor,
            asked,
            person_name=person_name,
            id_number=id_number,
            passport_number=passport_number,
            nationality=nationality,
            phone=phone,
            enterprise=enterprise,
        )
        _check_slot(chosen, item, now)
        if chosen.booked >= chosen.capacity:
            raise _refuse_full()
        savepoint = connection.in_atomic_block  # nested in a caller's transaction
        try:
            with transaction.atomic():
                return _book(actor, chosen, person, client_token, now, savepoint=savepoint)
        except IntegrityError:
            # Rolled back: a concurrent double submit committed first, the person got a
            # booking that day meanwhile, or (rarely) the random code was taken: tell which.
            existing = Booking.objects.filter(client_token=client_token).first()
            if existing is not None:
                return _same_submit(existing, actor)
            if _live(person, chosen).exists():
                raise _refuse_duplicate() from None
    raise BookingError(_("系统繁忙，请稍后重试。"), "busy")  # pragma: no cover - 3 code clashes


def _slots_at_time(
    slot_pk: int, client_token: str, now: datetime, at_any_counter: bool
) -> tuple[Slot, Slot, int | None]:
    """The slot `slot_pk` (at an active office, else not found); the slot to book — itself,
    or `at_any_counter` the emptiest of it and its siblings with a place, else itself for
    the refusal; and the pk of the booking `client_token` made, or None. One statement
    (sql.slots_at_time); each slot comes with its office and item holding only the fields a
    booking reads (the rest are deferred)."""
    with connection.cursor() as cursor:
        cursor.execute(sql.slots_at_time(), [client_token, slot_pk])
        found = [_slot_of(row) for row in cursor.fetchall()]
    asked = next((s for s in found if s.pk == slot_pk), None)
    if asked is None:
        raise BookingError(_("未找到该预约时段，请重新选择。"), "not_found")
    with_place = [s for s in found if at_any_counter and slot_rules.is_bookable(s, now)]
    chosen = min(with_place, key=lambda s: (s.booked, s.counter_code), default=asked)
    return asked, chosen, asked.token_booking


def _slot_of(row) -> Slot:
    """A row of sql.slots_at_time as a Slot with its office and item (deferred but for the
    fields read)."""
    slot, after = rows.from_row(Slot, row)
    office_code, office_name, office_kind, item_code, item_name, counter, token = row[after:]
    slot.office = Office.from_db(
        None,
        ["id", "code", "name", "kind"],
        [slot.office_id, office_code, office_name, office_kind],
    )
    slot.item = ServiceItem.from_db(
        None, ["id", "code", "name"], [slot.item_id, item_code, item_name]
    )
    slot.counter_code, slot.token_booking = counter, token
    return slot


def _by_pk(pk: int) -> Booking:
    return Booking.objects.select_related("slot", "office", "item").get(pk=pk)


def _refuse_full() -> BookingError:
    return BookingError(_("该时段已约满，请选择其他时段。"), "full")


def _live(person: dict, slot: Slot):
    return Booking.objects.filter(
        document_type=person["document_type"],
        document_number=person["document_number"],
        item_id=slot.item_id,
        date=slot.date,
        status__in=LIVE_STATUSES,
    )


def _check_person(person: dict, slot: Slot, today: date, client_token: str) -> int | None:
    """Refuse a person restricted for no-shows, then one with a live booking of the item
    that day — one query over the person's bookings (sql.PERSON_BOOKINGS). That live
    booking may be this very submit's, committed by a concurrent request since the token
    was looked up: its pk is returned then (the same booking, not a refusal)."""
    with connection.cursor() as cursor:
        cursor.execute(
            sql.PERSON_BOOKINGS,
            [
                person["document_type"],
                person["document_number"],
                slot.item_id,
                slot.date,
                *LIVE_STATUSES,
                BookingStatus.NO_SHOW,
                *_no_show_window(today),
            ],
        )
        rows_found = cursor.fetchall()
    no_shows, live = [], None
    for pk, status, day, token in rows_found:
        if status == BookingStatus.NO_SHOW:
            no_shows.append(day)
        else:
            live = (pk, token)
    until = _restricted_until(no_shows, today)
    if until is not None:
        raise BookingError(
            _("您近期多次预约未到，%(until)s前暂停预约。") % {"until": until.isoformat()},
            "restricted",
        )
    if live is not None:
        if live[1] == client_token:
            return live[0]
        raise _refuse_duplicate()
    return None


def _book(
    actor,
    slot: Slot,
    person: dict,
    client_token: str,
    now,
    rebooked_from=None,
    *,
    savepoint: bool = True,
) -> Booking:
    """Take a place and record the booking, inside the caller's transaction. With
    `savepoint`, a unique-key conflict is sorted out here (the caller's other work stands);
    without, the IntegrityError propagates and the caller's transaction rolls back."""
    same = _check_person(person, slot, timezone.localdate(now), client_token)
    if same is not None:
        return _same_submit(_by_pk(same), actor)
    for _attempt in range(3):
        try:
            with transaction.atomic(savepoint=savepoint):
                booking = Booking(
                    slot=slot,
                    office=slot.office,
                    item=slot.item,
                    date=slot.date,
                    booked_by=actor,
                    client_token=client_token,
                    code=new_code(),
                    rebooked_from=rebooked_from,
                    **person,
                )
                # The guarded UPDATE takes a place (one more booked, if the slot is still
                # open and has one) and the booking is written only if it did.
                at = connection.ops.adapt_datetimefield_value(now)
                if not rows.insert_if(booking, sql.TAKE_PLACE, [slot.pk, at, at]):
                    if Slot.objects.filter(pk=slot.pk, is_closed=True).exists():
                        raise BookingError(_("该时段已停止办理，请选择其他时段。"), "closed")
                    raise _refuse_full()
            break
        except IntegrityError:
            if not savepoint:
                raise
            # A concurrent double submit committed first, the person got a booking that
            # day meanwhile, or (rarely) the random code was taken: tell which.
            existing = Booking.objects.filter(client_token=client_token).first()
            if existing is not None:
                return _same_submit(existing, actor)
            if _live(person, slot).exists():
                raise _refuse_duplicate() from None
    else:  # pragma: no cover - three code collisions in a row
        raise BookingError(_("系统繁忙，请稍后重试。"), "busy")
    confirmation = new_sms(
        booking.phone,
        _(
            "您已预约%(office)s %(when)s办理“%(item)s”，预约码%(code)s。"
            "请携带证件按时到场，凭预约码或二维码签到取号。"
        )
        % {
            "office": slot.office.name,
            "when": timezone.localtime(slot.start).strftime("%Y-%m-%d %H:%M"),
            "item": slot.item.name,
            "code": booking.code,
        },
        dedupe_key=f"booking:{booking.pk}:booked",  # a new booking's: never held yet
        about=booking,
    )
    # Last: the audit entry takes the chain's lock, held until COMMIT; the SMS and the
    # event are written with it, in one round trip.
    record(
        booking,
        "book",
        actor=actor,
        details={
            "slot": slot.pk,
            "channel": booking.channel,
            "rebooked_from": rebooked_from.pk if rebooked_from else None,
        },
        along=(confirmation,),
    )
    return booking


def _locked(booking: Booking) -> Booking:
    return (
        Booking.objects.select_for_update(of=("self",))
        .select_related("slot", "office", "item")
        .get(pk=booking.pk)
    )


def _free_place(slot_id: int) -> None:
    Slot.objects.filter(pk=slot_id, booked__gt=0).update(booked=F("booked") - 1)


def cancel(*, actor, booking: Booking, reason: str = "", now: datetime | None = None) -> Booking:
    """The holder (or an operator, or the enterprise's liaison) cancels before the slot
    starts; the place is freed at once."""
    now = now or timezone.now()
    with transaction.atomic():
        booking = _locked(booking)
        if not rules.may_handle_booking(actor, booking):
            raise PermissionDenied(_("您无权取消此预约。"))
        if booking.status == BookingStatus.BOOKED and booking.slot.start <= now:
            raise BookingError(_("预约时段已开始，不能取消。"), "past")
        transition(
            booking,
            BookingStatus.CANCELLED,
            actor=actor,
            action="cancel",
            details={"reason": reason[:200]} if reason else None,
        )
        _free_place(booking.slot_id)
        notify_sms(
            booking.phone,
            _("您预约的%(office)s %(when)s“%(item)s”已取消（预约码%(code)s）。")
            % _sms_fields(booking),
            dedupe_key=f"booking:{booking.pk}:cancelled",
            about=booking,
        )
    return booking


def _sms_fields(booking: Booking) -> dict:
    return {
        "office": booking.office.name,
        "when": timezone.localtime(booking.slot.start).strftime("%Y-%m-%d %H:%M"),
        "item": booking.item.name,
        "code": booking.code,
    }


def rebook(
    *,
    actor,
    booking: Booking,
    slot: Slot,
    client_token: str,
    at_any_counter: bool = False,
    now: datetime | None = None,
) -> Booking:
    """Cancel `booking` and book `slot` (same item; `at_any_counter` as for `book`) for the
    same person, atomically: if the new slot is refused, the old booking stands."""
    if not client_token or len(client_token) > 64:
        raise ValueError("rebook() needs a client_token of 1 to 64 characters")
    now = now or timezone.now()
    with transaction.atomic():
        existing = Booking.objects.filter(client_token=client_token).first()
        if existing is not None:
            return _same_submit(existing, actor)
        old = _locked(booking)
        if not rules.may_handle_booking(actor, old):
            raise PermissionDenied(_("您无权更改此预约。"))
        _asked, slot, _token = _slots_at_time(slot.pk, client_token, now, at_any_counter)
        if slot.item_id != old.item_id:
            raise BookingError(_("改约只能选择同一事项的时段。"), "wrong_item")
        if slot.pk == old.slot_id:
            raise BookingError(_("请选择与原预约不同的时段。"), "same_slot")
        _check_slot(slot, None, now)
        if old.status == BookingStatus.BOOKED and old.slot.start <= now:
            raise BookingError(_("原预约时段已开始，不能改约。"), "past")
        transition(old, BookingStatus.CANCELLED, actor=actor, action="cancel_for_rebook")
        _free_place(old.slot_id)
        return _book(actor, slot, _person_of(old), client_token, now, rebooked_from=old)


# --- no-shows ----------------------------------------------------------------------------


def _ended(booking: Booking, now: datetime) -> bool:
    grace = timedelta(minutes=settings.BOOKING_CHECKIN_LATE_MINUTES)
    return booking.slot.end + grace <= now


def record_no_show(*, actor, booking: Booking, now: datetime | None = None) -> Booking:
    """The person did not come: by the sweep (`actor=None`) or by office staff, once the
    slot and the late check-in allowance are over."""
    now = now or timezone.now()
    with transaction.atomic():
        booking = _locked(booking)
        if actor is not None and not rules.can_serve(actor, booking.office):
            raise PermissionDenied(_("只有本大厅窗口工作人员可以登记爽约。"))
        if booking.status == BookingStatus.BOOKED and not _ended(booking, now):
            raise BookingError(_("预约时段尚未结束，不能登记爽约。"), "too_early")
        transition(
            booking,
            BookingStatus.NO_SHOW,
            actor=actor,
            action="no_show",
            actor_label="" if actor else "system:release_slots",
        )
        until = restricted_until(
            booking.document_type, booking.document_number, timezone.localdate(now)
        )
        if until is not None:
            notify_sms(
                booking.phone,
                _("您近期多次预约未到场，%(until)s前暂停网上及电话预约。")
                % {"until": until.isoformat()},
                dedupe_key=f"booking:{booking.pk}:restricted",
                about=booking,
            )
    return booking


def sweep_no_shows(now: datetime | None = None) -> int:
    """Record every booking whose slot ended (plus the late allowance) without a check-in."""
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=settings.BOOKING_CHECKIN_LATE_MINUTES)
    count = 0
    ids = Booking.objects.filter(status=BookingStatus.BOOKED, slot__end__lte=cutoff).values_list(
        "pk", flat=True
    )
    for pk in list(ids):
        try:
            record_no_show(actor=None, booking=Booking(pk=pk), now=now)
            count += 1
        except BookingError:
            continue  # checked in or cancelled meanwhile
    return count


# --- closures ---------------------------------------------------------------------------


def add_closure(
    *,
    actor,
    office,
    start: datetime,
    end: datetime,
    reason: str,
    counter=None,
    now: datetime | None = None,
) -> Closure:
    """The office manager closes the office (or one counter) for [start, end): its slots
    close, booked places in them are cancelled and every holder gets an SMS."""
    now = now or timezone.now()
    if not rules.can_manage(actor, office):
        raise PermissionDenied(_("只有本大厅所属部门的监督管理人员可以安排停办。"))
    reason = (reason or "").strip()
    if not reason:
        raise BookingError(_("请填写停办原因。"), "missing_reason")
    if end <= start:
        raise BookingError(_("停办结束时间应晚于开始时间。"), "bad_period")
    if end <= now:
        raise BookingError(_("停办时间已过。"), "past")
    if counter is not None and counter.office_id != office.pk:
        raise BookingError(_("该窗口不属于此大厅。"), "wrong_counter")
    with transaction.atomic():
        closure = Closure.objects.create(
            office=office,
            counter=counter,
            start=start,
            end=end,
            reason=reason[:200],
            created_by=actor,
        )
        slots = Slot.objects.filter(office=office, start__lt=end, end__gt=start)
        if counter is not None:
            slots = slots.filter(counter=counter)
        slot_ids = list(slots.values_list("pk", flat=True))
        Slot.objects.filter(pk__in=slot_ids).update(is_closed=True)
        affected = (
            Booking.objects.select_for_update(of=("self",))
            .select_related("slot", "office", "item")
            .filter(slot_id__in=slot_ids, status=BookingStatus.BOOKED)
            .order_by("pk")
        )
        notified = 0
        for booking in affected:
            transition(
                booking,
                BookingStatus.CLOSED,
                actor=actor,
                action="close",
                details={"closure": closure.pk},
            )
            _free_place(booking.slot_id)
            notify_sms(
                booking.phone,
                _(
                    "因%(reason)s，%(office)s暂停办理。您预约的%(when)s“%(item)s”"
                    "（预约码%(code)s）已取消，请重新预约，给您带来不便敬请谅解。"
                )
                % {"reason": closure.reason, **_sms_fields(booking)},
                dedupe_key=f"booking:{booking.pk}:closed",
                about=booking,
            )
            notified += 1
        audit.record(
            actor=actor,
            action="booking.add_closure",
            target=closure,
            target_repr=f"{office} {closure.pk}",
            details={
                "office": office.code,
                "counter": counter.code if counter else None,
                "start": start.isoformat(),
                "end": end.isoformat(),
                "slots": len(slot_ids),
                "bookings_cancelled": notified,
            },
        )
    return closure


__all__ = [
    "BookingError",
    "add_closure",
    "book",
    "cancel",
    "code_from_qr",
    "qr_payload",
    "rebook",
    "record_no_show",
    "restricted_until",
    "sweep_no_shows",
    "transition",
]
