"""The read side: requesters' lists, the station queue, the timeline and the monthly figures.

Figures (护送情况统计) are SQL aggregates over EscortRequest rows, nothing stored; each month
is the month of the escort's date. Definitions (the page says the same in Chinese):

- requested: requests for an escort on a day of that month, whatever became of them;
- accepted / declined: requests the station accepted / declined (an accepted request later
  cancelled by its requester stays accepted);
- completed: escorts completed with a record; amount escorted = the sum of the amounts
  confirmed at handover of the completed escorts; average = that sum / completed;
- answered within the limit: accepted or declined no later than the response limit, out of
  the requests that were due an answer — those answered, and those still unanswered (or
  cancelled unanswered) after their limit had passed (marked overdue by the sweep, or past
  it now). A request cancelled before its limit without an answer is not judged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import ExtractMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from servicehall.accounts.rules import is_staff_member, jurisdiction_filter

from . import rules
from .models import OPEN_STATUSES, EscortRequest, Status

ACTION_LABELS = {
    "request": _("提交申请"),
    "accept": _("派出所已受理"),
    "decline": _("不予护送"),
    "cancel": _("申请人取消"),
    "dispatch": _("已派警"),
    "start": _("护送开始"),
    "complete": _("护送完成"),
    "overdue": _("超过答复时限，已提请督办"),
}


def visible_escorts(user) -> QuerySet:
    """Staff of a reading role: the requests of their jurisdiction; nobody else any."""
    if not (is_staff_member(user) and user.has_role(*rules.READER_ROLES)):
        return EscortRequest.objects.none()
    return jurisdiction_filter(
        user, EscortRequest.objects.all(), station_field="station", district_field="district"
    )


def requests_of(user) -> QuerySet:
    return EscortRequest.objects.filter(requester=user).select_related("station")


def request_of(user, number: str) -> EscortRequest | None:
    return requests_of(user).filter(number=number).first()


def queue(user, *, status: str = "", now: datetime | None = None) -> QuerySet:
    """Open requests by default: those awaiting an answer first (soonest limit first), then
    the accepted and dispatched ones by their window."""
    escorts = visible_escorts(user).select_related("station", "district", "requester")
    escorts = escorts.filter(status=status) if status else escorts.filter(status__in=OPEN_STATUSES)
    return escorts.order_by(
        # requested (0) before the rest (1)
        F("accepted_at").asc(nulls_first=True),
        "respond_by" if status in ("", Status.REQUESTED) else "window_start",
        "window_start",
        "pk",
    )


def timeline(escort) -> list:
    events = list(escort.events.select_related("actor"))
    for event in events:
        event.label = ACTION_LABELS.get(event.action, event.action)
    return events


# --- figures --------------------------------------------------------------------------------


def _answered() -> Q:
    return Q(accepted_at__isnull=False) | Q(declined_at__isnull=False)


def _in_time() -> Q:
    return Q(accepted_at__lte=F("respond_by")) | Q(declined_at__lte=F("respond_by"))


def _judged(now: datetime) -> Q:
    unanswered = Q(accepted_at__isnull=True, declined_at__isnull=True)
    late = Q(overdue_at__isnull=False) | Q(status=Status.REQUESTED, respond_by__lt=now)
    return _answered() | (unanswered & late)


@dataclass
class MonthRow:
    month: int
    requested: int = 0
    accepted: int = 0
    declined: int = 0
    completed: int = 0
    amount: Decimal = Decimal("0")
    judged: int = 0
    in_time: int = 0

    @property
    def average(self) -> Decimal | None:
        if not self.completed:
            return None
        return (self.amount / self.completed).quantize(Decimal("0.01"), ROUND_HALF_UP)

    @property
    def in_time_share(self) -> Decimal | None:
        """Percent, one decimal; None when nothing could be judged yet."""
        if not self.judged:
            return None
        return (Decimal(100) * self.in_time / self.judged).quantize(Decimal("0.1"), ROUND_HALF_UP)

    def as_dict(self) -> dict:
        return {
            "month": self.month,
            "requested": self.requested,
            "accepted": self.accepted,
            "declined": self.declined,
            "completed": self.completed,
            "amount_escorted": str(self.amount.quantize(Decimal("0.01"))),
            "average_amount": None if self.average is None else str(self.average),
            "answer_due": self.judged,
            "answered_within_limit": self.in_time,
            "within_limit_percent": None if self.in_time_share is None else str(self.in_time_share),
        }


@dataclass
class Figures:
    year: int
    months: list[MonthRow]
    total: MonthRow


def figures(escorts: QuerySet, year: int, now: datetime | None = None) -> Figures:
    """One row per month of `year` (by escort date) over `escorts`, and the year's total."""
    now = now or timezone.now()
    rows = (
        escorts.filter(date__gte=date(year, 1, 1), date__lte=date(year, 12, 31))
        .annotate(month=ExtractMonth("date"))
        .order_by()
        .values("month")
        .annotate(
            requested=Count("pk"),
            accepted=Count("pk", filter=Q(accepted_at__isnull=False)),
            declined=Count("pk", filter=Q(declined_at__isnull=False)),
            completed=Count("pk", filter=Q(status=Status.COMPLETED)),
            amount=Sum("handed_over_amount", filter=Q(status=Status.COMPLETED)),
            judged=Count("pk", filter=_judged(now)),
            in_time=Count("pk", filter=_in_time()),
        )
    )
    by_month = {row["month"]: row for row in rows}
    months, total = [], MonthRow(month=0)
    for month in range(1, 13):
        data = by_month.get(month)
        if data is None:
            continue
        row = MonthRow(
            month=month,
            requested=data["requested"],
            accepted=data["accepted"],
            declined=data["declined"],
            completed=data["completed"],
            amount=data["amount"] or Decimal("0"),
            judged=data["judged"],
            in_time=data["in_time"],
        )
        months.append(row)
        for name in ("requested", "accepted", "declined", "completed", "amount", "judged"):
            setattr(total, name, getattr(total, name) + getattr(row, name))
        total.in_time += row.in_time
    return Figures(year=year, months=months, total=total)


def years_with_escorts(escorts: QuerySet) -> list[int]:
    return sorted({d.year for d in escorts.dates("date", "year")}, reverse=True)
