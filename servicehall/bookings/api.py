"""The bookings JSON API (mounted at /api/bookings/): the same actions as the citizen pages.

Reads — offices and their items, a 7-day strip of days, a day's times with the places left —
are public (no personal data) and limited per client (rush.READ_GROUP). Booking, one's own
bookings and cancelling need the hall's signed-in session (the `sessionid` cookie a browser
or an app gets from /accounts/login/), as a citizen with a real-name profile; unsafe methods
need Django's CSRF token as well (the `csrftoken` cookie echoed in an X-CSRFToken header),
like every form of the hall — a session cookie alone must not be enough to book from another
site. No second credential scheme: the API acts for the same person as the pages.

Answers: 201 a new booking; 200 the booking this client token already made (a double submit
is one booking); 400 a body that is not JSON; 401 not signed in; 403 wrong role, a CSRF
failure or a restriction; 404 an unknown slot or booking (another person's included); 409
the slot or the person's bookings refuse (full, duplicate, closed, not released, past);
422 a field is wrong; 429 too many requests (rate_limited); 503 the waiting room (queued).
Every refusal is {"detail": Chinese message, "code": ...} — the codes of
workflow.BookingError for the booking rules.

Booking is workflow.book (capacity by its guarded UPDATE; a time's slot is moved to a
sibling counter's slot with a place). A refusal for a full time costs 3 statements with the
session's; tests/test_round_trips.py holds the bounds of both.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router
from ninja.errors import HttpError
from ninja.security import SessionAuth
from ninja.utils import check_csrf

from servicehall.catalog.models import ServiceItem
from servicehall.core.masking import mask_id_number, mask_phone

from . import pages_citizen as pages
from . import queries, rush, workflow
from .models import Booking, BookingStatus, Office, Slot
from .schemas import (
    BadInput,
    BookIn,
    BookingOut,
    CancelIn,
    DayOut,
    ErrorOut,
    OfficeOut,
    QueuedOut,
    TimeOut,
    book_input,
    cancel_input,
)
from .views_citizen import refusal_status
from .workflow import BookingError

router = Router(tags=["bookings"])


class CitizenSession(SessionAuth):
    """The hall's session cookie: 401 when not signed in, then 403 when an unsafe method
    lacks the CSRF token (messages in Chinese, unlike ninja's own)."""

    def __call__(self, request):
        if not request.user.is_authenticated:
            raise HttpError(401, _("请先登录后再预约。"))
        if request.method not in ("GET", "HEAD", "OPTIONS") and check_csrf(request):
            raise HttpError(403, _("安全校验失败（CSRF令牌缺失或错误），请刷新页面后重试。"))
        return request.user


SESSION = CitizenSession()
REFUSALS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
LIMITS = {429: ErrorOut, 503: QueuedOut}


def _error(status: int, detail: str, code: str, **extra) -> HttpResponse:
    response = rush.json_response({"detail": str(detail), "code": code, **extra}, status)
    if status == 409:
        # A full slot or a duplicate is the answer, not a fault: at a release moment Django's
        # "Conflict" warning would be written a thousand times a minute (the access log
        # has the status). Other 4xx stay logged.
        response._has_been_logged = True
    return response


def _ok(body, status: int = 200) -> HttpResponse:
    return rush.json_response(body, status)


def _citizen_refusal(user) -> HttpResponse | None:
    if user.is_citizen and user.citizen_profile_or_none is not None:
        return None
    return _error(403, _("只有完成实名认证的个人用户可以网上预约。"), "forbidden")


def booking_out(booking: Booking) -> dict:
    slot = booking.slot
    # The verbs load the slot with its office and item, bookings_of the booking's own: use
    # whichever is there rather than query again.
    fields = Booking._meta
    office = booking.office if fields.get_field("office").is_cached(booking) else slot.office
    item = booking.item if fields.get_field("item").is_cached(booking) else slot.item
    return BookingOut(
        code=booking.code,
        status=booking.status,
        status_label=str(BookingStatus(booking.status).label),
        office=office.code,
        office_name=office.name,
        item=item.code,
        item_name=item.name,
        date=booking.date,
        start=slot.start,
        end=slot.end,
        person_name=booking.person_name,
        document_number=mask_id_number(booking.document_number),
        phone=mask_phone(booking.phone),
        qr=workflow.qr_payload(booking),
        created_at=booking.created_at,
    ).model_dump(mode="json")


def _office(code: str) -> Office | None:
    return Office.objects.filter(code=code, is_active=True).select_related("district").first()


# --- availability (public, limited per client) ----------------------------------------------

read_guard = rush.guard(rush.READ_GROUP, api=True, methods=("GET", "HEAD"))


@router.get(
    "/offices",
    response={200: list[OfficeOut], **LIMITS},
    summary="Offices and the items they book (办证大厅)",
    description="Active offices, exit-entry first; `kind` (exit_entry, visa, vehicle) and "
    "`item` (a catalogue code) filter them.",
)
@read_guard
def offices(request, kind: str = "", item: str = ""):
    item_obj = ServiceItem.active.filter(code=item).first() if item else None
    if item and item_obj is None:
        return _ok([])
    found = pages.offices(kind or None, item=item_obj)
    return _ok(
        [
            OfficeOut(
                code=o.code,
                name=o.name,
                kind=o.kind,
                kind_label=str(o.get_kind_display()),
                district=o.district.name if o.district else None,
                address=o.address,
                phone=o.phone,
                lunch_service=o.lunch_service,
                weekend_service=o.weekend_service,
                items=[{"code": i.code, "name": i.name} for i in pages.items_of(o)],
            ).model_dump(mode="json")
            for o in found
        ]
    )


def _office_item(code: str, item_code: str):
    office = _office(code)
    item = pages.items_of(office).filter(code=item_code).first() if office else None
    return office, item


@router.get(
    "/offices/{code}/items/{item_code}/days",
    response={200: list[DayOut], 404: ErrorOut, **LIMITS},
    summary="Seven days of an item at an office, with the places left",
)
@read_guard
def days(request, code: str, item_code: str):
    office, item = _office_item(code, item_code)
    if item is None:
        return _error(404, _("未找到该办证大厅或办理事项。"), "not_found")
    strip = pages.day_strip(office, item, timezone.now())
    return _ok(
        [
            DayOut(
                date=d.day,
                state=d.state,
                state_label=str(d.label),
                free=d.free,
                release_at=d.release_at,
            ).model_dump(mode="json")
            for d in strip
        ]
    )


@router.get(
    "/offices/{code}/items/{item_code}/times",
    response={200: list[TimeOut], 404: ErrorOut, 422: ErrorOut, **LIMITS},
    summary="A day's times with the places left, and the slot to book for each",
    description="`date` as YYYY-MM-DD; without it, the first day with a place.",
)
@read_guard
def times(request, code: str, item_code: str, date: str = ""):
    office, item = _office_item(code, item_code)
    if item is None:
        return _error(404, _("未找到该办证大厅或办理事项。"), "not_found")
    now = timezone.now()
    if date:
        try:
            day = _parse_date(date)
        except ValueError:
            message = _("日期格式应为YYYY-MM-DD，例如2026-09-15。")
            return _error(422, message, "invalid", errors={"date": [message]})
    else:
        day = pages.chosen_day(pages.day_strip(office, item, now), None).day
    return _ok(
        [
            TimeOut(
                slot=t.slot_id,
                start=t.start,
                end=t.end,
                session=t.session,
                session_label=str(t.session_label),
                left=t.free,
                state=t.state,
            ).model_dump(mode="json")
            for t in pages.times(office, item, day, now)
        ]
    )


def _parse_date(text: str):
    return date.fromisoformat(text)


# --- booking (signed-in citizen) ---------------------------------------------------------------

_BOOK_BODY = {
    "required": True,
    "content": {"application/json": {"schema": BookIn.model_json_schema()}},
}
_CANCEL_BODY = {
    "required": False,
    "content": {"application/json": {"schema": CancelIn.model_json_schema()}},
}


@router.post(
    "/",
    auth=SESSION,
    response={200: BookingOut, 201: BookingOut, 401: ErrorOut, **REFUSALS, **LIMITS},
    summary="Book a slot (预约)",
    description=(
        "Body: {slot, client_token, phone?}. 201: booked (an SMS with the code follows); 200: "
        "this client_token booked before — the same booking, nothing changes. Refusals: 409 "
        "full, duplicate (one live booking per person per item per day), closed, "
        "not_released, past, token_reused; 403 restricted (repeated no-shows) or not a "
        "citizen; 404 unknown slot; 422 a bad field. Needs the session cookie and the "
        "X-CSRFToken header."
    ),
    openapi_extra={"requestBody": _BOOK_BODY},
)
@rush.guard(rush.BOOK_GROUP, api=True)
def book(request):
    refused = _citizen_refusal(request.user)
    if refused:
        return refused
    try:
        data = book_input(request.body)
    except BadInput as bad:
        return rush.json_response(bad.body(), bad.http_status)
    try:
        booking = workflow.book(
            actor=request.user,
            slot=Slot(pk=data["slot"]),
            client_token=data["client_token"],
            at_any_counter=True,
            phone=data["phone"],
        )
    except BookingError as error:
        return _error(refusal_status(error), error, error.code)
    except PermissionDenied as error:
        return _error(403, error, "forbidden")
    return _ok(booking_out(booking), 200 if getattr(booking, "repeated", False) else 201)


@router.get(
    "/mine",
    auth=SESSION,
    response={200: list[BookingOut], 401: ErrorOut, 403: ErrorOut},
    summary="My bookings, newest first",
)
def mine(request):
    refused = _citizen_refusal(request.user)
    if refused:
        return refused
    bookings = queries.bookings_of(request.user).order_by("-slot__start", "-pk")
    return _ok([booking_out(b) for b in bookings])


@router.post(
    "/{code}/cancel",
    auth=SESSION,
    response={200: BookingOut, 401: ErrorOut, **REFUSALS, **LIMITS},
    summary="Cancel one of my bookings (取消预约)",
    description="Body (optional): {reason}. The place is freed at once; an SMS confirms. "
    "409 wrong_state (already cancelled, checked in, ...) or past (the slot has started).",
    openapi_extra={"requestBody": _CANCEL_BODY},
)
@rush.guard(rush.BOOK_GROUP, api=True)
def cancel(request, code: str):
    refused = _citizen_refusal(request.user)
    if refused:
        return refused
    try:
        data = cancel_input(request.body)
    except BadInput as bad:
        return rush.json_response(bad.body(), bad.http_status)
    booking = queries.bookings_of(request.user).filter(code=code).first()
    if booking is None:
        return _error(404, _("未找到该预约。"), "not_found")
    try:
        booking = workflow.cancel(actor=request.user, booking=booking, reason=data["reason"])
    except BookingError as error:
        return _error(refusal_status(error), error, error.code)
    except PermissionDenied as error:
        return _error(403, error, "forbidden")
    return _ok(booking_out(booking))


# --- benchmark only ----------------------------------------------------------------------------

if settings.SERVICEHALL_BENCH_ENDPOINTS:  # `make bench-booking`: the floor of this stack

    @router.post("/bench-floor", auth=SESSION, include_in_schema=False)
    def bench_floor(request):
        """What booking costs without booking: the full middleware chain, the session and
        CSRF checks of POST /api/bookings/, and a constant JSON answer."""
        return rush.json_response({"code": "FLOOR", "status": "booked"}, 201)
