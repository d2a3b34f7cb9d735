"""The enterprise liaison's desk (an enterprise agent with an active membership): book
visa-office times for the enterprise's foreign staff (passport number, name, nationality;
channel "enterprise"), and the enterprise's bookings with cancel.

Anyone else gets the 403 page; a booking of another enterprise does not exist here (404).
Passport numbers are shown masked.
"""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from servicehall.accounts.models import Enterprise
from servicehall.core.permissions import forbidden

from . import pages_citizen as pages
from . import workflow
from .forms_citizen import CancelForm, new_token
from .forms_liaison import REFUSAL_FIELDS, EmployeeForm
from .models import Booking, OfficeKind
from .views_citizen import refusal_status
from .views_operator import desk_context, posted_slot, put_refusal
from .workflow import BookingError

PAGE_SIZE = 20


def _enterprises(user):
    return Enterprise.objects.filter(memberships__user=user, memberships__is_active=True).order_by(
        "name", "pk"
    )


def liaison_required(view):
    """Signed in as an enterprise agent acting for at least one enterprise (else 403)."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        user = request.user
        if not (user.is_enterprise_agent and _enterprises(user).exists()):
            return forbidden(request, _("此页面仅供企业授权经办人为本单位外籍员工预约签证使用。"))
        return view(request, *args, **kwargs)

    return wrapped


def _enterprise(request, value) -> Enterprise:
    enterprises = _enterprises(request.user)
    if value:
        enterprise = enterprises.filter(pk=value).first() if str(value).isdigit() else None
        if enterprise is None:
            raise Http404
        return enterprise
    return enterprises.first()


def _render_desk(request, enterprise, form, offer, day=None, *, status=200, error=""):
    bookings = (
        Booking.objects.filter(enterprise=enterprise)
        .select_related("slot", "office", "item")
        .order_by("-slot__start", "-pk")
    )
    page = Paginator(bookings, PAGE_SIZE).get_page(request.GET.get("page"))
    for booking in page:
        booking.masked_document = pages.masked_document(booking)
        booking.may_cancel = booking.status == "booked" and booking.slot.start > timezone.now()
    context = {
        "enterprise": enterprise,
        "enterprises": _enterprises(request.user),
        "form": form,
        "offers": pages.offers(OfficeKind.VISA),
        "error": error,
        "page": page,
        **desk_context(offer, day, enterprise=enterprise.pk),
    }
    return render(request, "bookings/liaison/desk.html", context, status=status)


@liaison_required
@require_GET
def desk(request):
    enterprise = _enterprise(request, request.GET.get("enterprise"))
    offer = pages.find_offer(request.GET.get("offer"), kind=OfficeKind.VISA)
    form = EmployeeForm(initial={"client_token": new_token()})
    return _render_desk(request, enterprise, form, offer, request.GET.get("day"))


@never_cache
@liaison_required
@require_POST
def liaison_book(request):
    """Book the chosen visa-office time for a foreign employee of the enterprise."""
    enterprise = _enterprise(request, request.POST.get("enterprise"))
    form = EmployeeForm(request.POST)
    slot = posted_slot(request)
    offer = pages.Offer(slot.office, slot.item) if slot else None
    day = slot.date.isoformat() if slot else None
    if not form.is_valid() or slot is None:
        if slot is None and "slot" not in form.errors:
            form.add_error("slot", _("请选择预约时段。"))
        return _render_desk(request, enterprise, form, offer, day, status=400)
    try:
        booking = workflow.book(
            actor=request.user,
            slot=slot,
            client_token=form.cleaned_data["client_token"],
            at_any_counter=True,
            enterprise=enterprise,
            **form.book_kwargs(),
        )
    except BookingError as error:
        message = put_refusal(form, error, REFUSAL_FIELDS)
        status = refusal_status(error)
        return _render_desk(request, enterprise, form, offer, day, status=status, error=message)
    except PermissionDenied as error:
        return _render_desk(request, enterprise, form, offer, day, status=403, error=str(error))
    messages.success(
        request,
        _("已预约%(when)s %(office)s，预约码%(code)s，短信已发送。")
        % {
            "when": timezone.localtime(booking.slot.start).strftime("%Y-%m-%d %H:%M"),
            "office": booking.office.name,
            "code": booking.code,
        },
    )
    return redirect(f"{reverse('bookings:liaison')}?enterprise={enterprise.pk}#bookings")


@never_cache
@liaison_required
@require_http_methods(["GET", "POST"])
def cancel(request, code):
    booking = (
        Booking.objects.select_related("slot", "office", "item", "enterprise")
        .filter(code=code, enterprise__in=_enterprises(request.user))
        .first()
    )
    if booking is None:
        raise Http404
    form = CancelForm(request.POST if request.method == "POST" else None)
    back = f"{reverse('bookings:liaison')}?enterprise={booking.enterprise_id}#bookings"
    context = {
        "booking": booking,
        "form": form,
        "masked_document": pages.masked_document(booking),
        "action": reverse("bookings:liaison_cancel", args=[booking.code]),
        "back": back,
    }
    template = "bookings/liaison/cancel.html"
    if request.method == "GET" or not form.is_valid():
        return render(request, template, context, status=400 if form.errors else 200)
    try:
        workflow.cancel(actor=request.user, booking=booking, reason=form.cleaned_data["reason"])
    except BookingError as error:
        return render(
            request, template, {**context, "error": str(error)}, status=refusal_status(error)
        )
    messages.success(request, _("预约已取消，名额已释放。"))
    return redirect(back)
