"""The phone operator's desk (96110 / hotline seats and window clerks, rules.OPERATOR_ROLES):
find a free time at any office and book it for a caller (channel "phone"); read the booking
code back; the bookings this operator made; cancel one for a caller.

Staff pages: verified staff holding an operator role (else 403, audited by staff_required).
Personal data is shown masked; the caller's full details were typed in by the operator and
are not shown again. Every booking and cancellation is audited by the verbs.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from servicehall.core.permissions import staff_required

from . import pages_citizen as pages
from . import rules, workflow
from .forms_citizen import CancelForm, new_token
from .forms_operator import REFUSAL_FIELDS, CallerForm
from .models import Booking, Slot
from .views_citizen import refusal_status
from .workflow import BookingError

PAGE_SIZE = 25


def desk_context(offer, requested_day, now=None, **query) -> dict:
    """The strip and the day's times of the chosen office and item (none chosen: empty);
    `query` is kept in the strip's links."""
    if offer is None:
        return {"offer": None}
    now = now or timezone.now()
    strip = pages.day_strip(offer.office, offer.item, now)
    chosen = pages.chosen_day(strip, requested_day)
    return {
        "offer": offer,
        "strip": strip,
        "chosen": chosen,
        "times": pages.times(offer.office, offer.item, chosen.day, now),
        "strip_query": urlencode({**query, "offer": offer.value}) + "&",
    }


def put_refusal(form, error: BookingError, fields=REFUSAL_FIELDS) -> str:
    """A refusal about one field goes on that field; others are shown above the form."""
    field = fields.get(error.code)
    if field and field in form.fields:
        form.add_error(field, str(error))
        return ""
    return str(error)


def _render_desk(request, form, offer, day=None, *, status=200, error=""):
    context = {
        "form": form,
        "offers": pages.offers(),
        "error": error,
        "recent": Booking.objects.filter(booked_by=request.user).select_related(
            "slot", "office", "item"
        )[:5],
        **desk_context(offer, day),
    }
    return render(request, "bookings/operator/desk.html", context, status=status)


def posted_slot(request) -> Slot | None:
    value = request.POST.get("slot", "")
    if not value.isdigit():
        return None
    return (
        Slot.objects.select_related("office", "item")
        .filter(pk=int(value), office__is_active=True)
        .first()
    )


@staff_required(*rules.OPERATOR_ROLES)
@require_GET
def desk(request):
    offer = pages.find_offer(request.GET.get("offer"))
    form = CallerForm(initial={"client_token": new_token()})
    return _render_desk(request, form, offer, request.GET.get("day"))


@never_cache
@staff_required(*rules.OPERATOR_ROLES)
@require_POST
def operator_book(request):
    """Book the chosen time for the caller; the same form token again is the same booking."""
    form = CallerForm(request.POST)
    slot = posted_slot(request)
    offer = pages.Offer(slot.office, slot.item) if slot else None
    day = slot.date.isoformat() if slot else None
    if not form.is_valid() or slot is None:
        if slot is None and "slot" not in form.errors:
            form.add_error("slot", _("请选择预约时段。"))
        return _render_desk(request, form, offer, day, status=400)
    try:
        booking = workflow.book(
            actor=request.user,
            slot=slot,
            client_token=form.cleaned_data["client_token"],
            at_any_counter=True,
            **form.book_kwargs(),
        )
    except BookingError as error:
        message = put_refusal(form, error)
        return _render_desk(request, form, offer, day, status=refusal_status(error), error=message)
    except PermissionDenied as error:
        return _render_desk(request, form, offer, day, status=403, error=str(error))
    messages.success(request, _("预约成功，请向来电人复述预约码。"))
    return redirect("bookings:operator_booking", code=booking.code)


@staff_required(*rules.OPERATOR_ROLES)
@require_GET
def made(request):
    """The bookings this operator made, newest first (masked)."""
    bookings = Booking.objects.filter(booked_by=request.user).select_related(
        "slot", "office", "item"
    )
    page = Paginator(bookings, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "bookings/operator/made.html", {"page": page})


def _booking(code) -> Booking:
    return get_object_or_404(Booking.objects.select_related("slot", "office", "item"), code=code)


@never_cache
@staff_required(*rules.OPERATOR_ROLES)
@require_GET
def booking(request, code):
    """One booking, by its code (a caller reads it out): what to read back, masked."""
    booking = _booking(code)
    return render(
        request,
        "bookings/operator/booking.html",
        {
            "booking": booking,
            "form": CancelForm(),
            "may_cancel": _may_cancel(booking),
            "masked_document": pages.masked_document(booking),
        },
    )


def _may_cancel(booking) -> bool:
    return booking.status == "booked" and booking.slot.start > timezone.now()


@never_cache
@staff_required(*rules.OPERATOR_ROLES)
@require_http_methods(["POST"])
def cancel(request, code):
    booking = _booking(code)
    form = CancelForm(request.POST)
    context = {
        "booking": booking,
        "form": form,
        "may_cancel": _may_cancel(booking),
        "masked_document": pages.masked_document(booking),
    }
    if not form.is_valid():
        return render(request, "bookings/operator/booking.html", context, status=400)
    try:
        workflow.cancel(actor=request.user, booking=booking, reason=form.cleaned_data["reason"])
    except BookingError as error:
        context["error"] = str(error)
        return render(
            request, "bookings/operator/booking.html", context, status=refusal_status(error)
        )
    messages.success(request, _("预约已取消，已短信通知来电人。"))
    return redirect("bookings:operator_booking", code=booking.code)
