"""Citizen booking pages (mounted at /bookings/), phone-first: office → item → day and time →
confirm → the booking with its check-in QR code; "my bookings" with cancel and rebook.

Only a signed-in citizen with a real-name profile books here, for themself (the verb takes
the ID number from the profile): staff book by phone in views_operator, an enterprise's
liaison books visa slots in views_liaison, a hotel account has no business here (403).
Another person's booking does not exist as far as a citizen can tell (404), nor its QR code.

Refusals of the verbs come back on the form in Chinese with a 4xx status: 400 for input,
403 for a booking restriction, 409 when the slot or the person's bookings refuse it (full,
duplicate, closed, not released, past). The client token in the form makes a double submit
one booking: the second POST finds the first booking and shows it.
"""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from servicehall.catalog.models import ServiceItem
from servicehall.core.permissions import forbidden

from . import pages_citizen as pages
from . import queries, rush, workflow
from .forms_citizen import BookForm, CancelForm, RebookForm, new_token
from .models import LIVE_STATUSES, Booking, BookingStatus, Office, OfficeKind, Slot
from .workflow import BookingError

# Which refusals are the user's input (400) or a restriction on the person (403); the rest
# (full, duplicate, closed, not released, past, wrong state) are conflicts with the state
# of the slot or of the person's bookings (409).
INPUT_REFUSALS = {
    "bad_document",
    "missing_phone",
    "missing_name",
    "wrong_item",
    "wrong_office",
    "same_slot",
}


def refusal_status(error: BookingError) -> int:
    if error.code in INPUT_REFUSALS:
        return 400
    if error.code == "not_found":
        return 404
    return 403 if error.code == "restricted" else 409


def _denied_message(user) -> str:
    if user.is_staff_member:
        return _("工作人员请在工作台使用“电话预约”为来电群众预约。")
    if user.is_enterprise_agent:
        return _("单位经办人请使用“单位预约”为外籍员工预约签证；个人预约请用个人账号登录。")
    if user.is_citizen:
        return _("网上预约需要完成实名认证，请先在个人中心补充身份证号码和手机号码。")
    return _("网上预约仅限个人实名用户使用。")


def citizen_required(view):
    """Signed in (else the login page) as a citizen with a real-name profile (else 403)."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        user = request.user
        if not (user.is_citizen and user.citizen_profile_or_none is not None):
            return forbidden(request, _denied_message(user))
        return view(request, *args, **kwargs)

    return wrapped


def _office(code) -> Office:
    return get_object_or_404(Office.objects.select_related("district"), code=code, is_active=True)


def _item_of(office, item_code) -> ServiceItem:
    item = pages.items_of(office).filter(code=item_code).first()
    if item is None:
        raise Http404
    return item


def _own_booking(request, code) -> Booking:
    booking = (
        queries.bookings_of(request.user).select_related("slot__counter").filter(code=code).first()
    )
    if booking is None:
        raise Http404  # another person's booking does not exist, as far as this user can tell
    return booking


# --- choosing: office, item, day and time ----------------------------------------------------


@citizen_required
@require_GET
def index(request):
    """Step 1: the office. From a catalogue item (?item=CODE) only offices serving it."""
    item = ServiceItem.active.filter(code=request.GET.get("item", "")).first()
    groups = []
    for kind in OfficeKind:
        found = pages.offices(kind, item=item)
        if found:
            groups.append((kind, found))
    return render(request, "bookings/citizen/index.html", {"groups": groups, "item": item})


@citizen_required
@require_GET
def office(request, code):
    """Step 2: the item (only those the office's counters serve)."""
    office = _office(code)
    items = list(pages.items_of(office))
    return render(request, "bookings/citizen/office.html", {"office": office, "items": items})


@citizen_required
@rush.limit_reads  # the waiting room at a release moment; per-account read limit (429)
@require_GET
def day(request, code, item_code):
    """Step 3: a day of the 7-day strip, and its times with the places left."""
    office = _office(code)
    item = _item_of(office, item_code)
    now = timezone.now()
    strip = pages.day_strip(office, item, now)
    chosen = pages.chosen_day(strip, request.GET.get("day"))
    return render(
        request,
        "bookings/citizen/day.html",
        {
            "office": office,
            "item": item,
            "strip": strip,
            "chosen": chosen,
            "times": pages.times(office, item, chosen.day, now),
        },
    )


# --- booking ---------------------------------------------------------------------------------


def _slot(pk) -> Slot:
    return get_object_or_404(
        Slot.objects.select_related("office", "item", "counter"), pk=pk, office__is_active=True
    )


@never_cache
@citizen_required
@rush.limit_booking  # the waiting room at a release moment; per-account POST limit (429)
@require_http_methods(["GET", "POST"])
def book(request, slot_pk):
    """Step 4: confirm (GET) and book (POST) — the one view that books online."""
    slot = _slot(slot_pk)
    profile = request.user.citizen_profile
    posted = request.method == "POST"
    form = BookForm(request.POST if posted else None, initial={"client_token": new_token()})
    context = {"slot": slot, "form": form, "profile": profile, "now": timezone.now()}
    template = "bookings/citizen/book.html"
    if not posted:
        return render(request, template, context)
    if not form.is_valid():
        return render(request, template, context, status=400)
    try:
        booking = workflow.book(
            actor=request.user,
            slot=slot,
            client_token=form.cleaned_data["client_token"],
            at_any_counter=True,
            phone=form.cleaned_data["phone"] or None,
        )
    except BookingError as error:
        context["error"] = error
        return render(request, template, context, status=refusal_status(error))
    except PermissionDenied as error:
        return render(request, template, {**context, "error": str(error)}, status=403)
    messages.success(request, _("预约成功！确认短信已发送，请按时到场签到。"))
    return redirect("bookings:detail", code=booking.code)


# --- my bookings --------------------------------------------------------------------------------


@citizen_required
@require_GET
def mine(request):
    bookings = list(queries.bookings_of(request.user).order_by("-slot__start", "-pk"))
    now = timezone.now()
    live = [b for b in bookings if b.status in LIVE_STATUSES and b.slot.end > now]
    return render(
        request,
        "bookings/citizen/mine.html",
        {"live": live, "past": [b for b in bookings if b not in live]},
    )


def _may_change(booking) -> bool:
    return booking.status == BookingStatus.BOOKED and booking.slot.start > timezone.now()


@never_cache
@citizen_required
@require_GET
def detail(request, code):
    """The booking: code, office and address, time, the check-in QR code, the SMS sent."""
    booking = _own_booking(request, code)
    return render(
        request,
        "bookings/citizen/detail.html",
        {
            "booking": booking,
            "may_change": _may_change(booking),
            "late_minutes": settings.BOOKING_CHECKIN_LATE_MINUTES,
        },
    )


@never_cache
@citizen_required
@require_GET
def qr(request, code):
    """The check-in QR code (PNG) of the holder's own booking, while it can be used."""
    booking = _own_booking(request, code)
    if booking.status != BookingStatus.BOOKED:
        raise Http404
    return HttpResponse(queries.booking_qr(booking, "png"), content_type="image/png")


@never_cache
@citizen_required
@require_http_methods(["GET", "POST"])
def cancel(request, code):
    """Cancel with a confirmation step (GET shows it, POST cancels); the place is freed."""
    booking = _own_booking(request, code)
    form = CancelForm(request.POST if request.method == "POST" else None)
    context = {"booking": booking, "form": form}
    if request.method == "GET" or not form.is_valid():
        return render(
            request, "bookings/citizen/cancel.html", context, status=400 if form.errors else 200
        )
    try:
        workflow.cancel(actor=request.user, booking=booking, reason=form.cleaned_data["reason"])
    except BookingError as error:
        context["error"] = error
        return render(
            request, "bookings/citizen/cancel.html", context, status=refusal_status(error)
        )
    messages.success(request, _("预约已取消，名额已释放。"))
    return redirect("bookings:mine")


@never_cache
@citizen_required
@require_http_methods(["GET", "POST"])
def rebook(request, code):
    """Pick another time of the same item (same office); the old booking stands until the
    new one is made."""
    booking = _own_booking(request, code)
    posted = request.method == "POST"
    # A POST goes to the verb even then: the same token again must find the new booking.
    if not posted and not _may_change(booking):
        messages.error(request, _("该预约已不能改约。"))
        return redirect("bookings:detail", code=booking.code)
    now = timezone.now()
    form = RebookForm(request.POST if posted else None, initial={"client_token": new_token()})
    strip = pages.day_strip(booking.office, booking.item, now)
    chosen = pages.chosen_day(strip, request.GET.get("day"))
    context = {
        "booking": booking,
        "form": form,
        "strip": strip,
        "chosen": chosen,
        "times": pages.times(booking.office, booking.item, chosen.day, now, exclude=booking.slot),
    }
    template = "bookings/citizen/rebook.html"
    if not posted:
        return render(request, template, context)
    if not form.is_valid():
        return render(request, template, context, status=400)
    slot = Slot.objects.filter(pk=form.cleaned_data["slot"], office=booking.office).first()
    if slot is None:
        form.add_error("slot", _("请选择新的预约时段。"))
        return render(request, template, context, status=400)
    try:
        new = workflow.rebook(
            actor=request.user,
            booking=booking,
            slot=slot,
            client_token=form.cleaned_data["client_token"],
            at_any_counter=True,
        )
    except BookingError as error:
        context["error"] = error
        return render(request, template, context, status=refusal_status(error))
    messages.success(request, _("已改约，原预约已取消。确认短信已发送。"))
    return redirect("bookings:detail", code=new.code)
