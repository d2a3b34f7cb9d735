"""The letters' reply figures (来信办理情况统计, "the 100 % figure"), computed from the letters.

    figures = letters_figures(period=Period.year_of(today), group="department")
    figures.rows, figures.total  # one Row per department, and the totals row

Every number is an SQL aggregate over Letter rows (with their first-round LetterReply for
the reply date and the due date it was sent against); nothing is stored or precomputed, so a
supervisor can recount any figure from the letters themselves. No letter leaves the books:
withdrawn letters and merged duplicates are counted in `received` and shown in their own
columns, never dropped.

Definitions (the page's 统计口径 says the same in Chinese):

- The period selects letters by the local day they were received (`received_at`, Asia/Shanghai),
  both ends included. Groups: the month received, the department holding the letter now
  (after triage and any transfer), the channel, the kind.
- received: every letter received in the period, whatever became of it.
- withdrawn, merged: letters now withdrawn by their writer, or merged into another letter as
  duplicates (their writers hear the reply to that letter).
- counted (应答复): received − withdrawn − merged; the letters the bureau owes a reply.
- replied: counted letters whose first-round reply was sent. A reopened letter stays
  replied (its first reply was sent) and is also open again until its second reply.
- reply rate = replied / counted.
- replied on time: the first-round reply was sent on or before the due date it was sent
  against (LetterReply.due_date; a transfer keeps the due date). The second round after a
  reopening does not change it.
- due (已到期): replied letters plus counted letters still without a first reply whose due
  date has passed — the letters that could already be judged on time or late.
  on-time rate = replied on time / due: an unanswered letter past its due date counts as
  late, one not yet due is not judged yet.
- average days to reply: over replied letters, from the day received to the day the first
  reply was sent, in working days (servicehall.core.workdays: days after receipt up to and
  including the reply day; 0 when replied the same day) and in calendar days. Letters whose
  dates fall in a year whose holidays are not confirmed are left out of the working-day
  average only (never guessed).
- satisfaction: the writer's latest rating of the letter (the second round's rating once
  given, otherwise the first — a dissatisfied rating stays counted while the letter is being
  handled again), for every received letter that has one, whatever became of it afterwards.
  rated = letters with a rating; satisfied = rated 满意 (4) or 非常满意 (5);
  satisfaction rate = satisfied / rated; average rating on the 1–5 scale.
- open, overdue: as of `today`, letters whose clock is running (not yet replied, or reopened
  and awaiting the second reply), and those of them past their current due date.
- reopened: letters reopened by their writer after a dissatisfied rating.

Misconduct reports (12389) are letters and are counted like every other letter (they are held
by police inspection, so they appear under that department). The figures carry counts only —
no number, subject, writer or officer — so the public page and API show them in aggregate;
lists of letters (the supervision page) go through queries.visible_letters.

queries.reply_figures is the older, ungrouped form over any queryset; its received, withdrawn,
merged, replied and replied-on-time counts agree with these (tests hold them together).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Count, DateField, Exists, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from servicehall.accounts.models import Department
from servicehall.core import workdays

from . import flows
from .flows import Channel, Kind, Status
from .models import Letter, LetterReply, ReplyStatus

GROUPS = ("month", "department", "channel", "kind")
# Ratings at or above this level count as satisfied (满意, 非常满意).
SATISFIED_LEVEL = 4
# The longest period one request may cover.
MAX_PERIOD_DAYS = 3660


class BadParameter(ValueError):
    """A figures request the user must correct; the message is for the user."""

    @property
    def message(self) -> str:
        return str(self.args[0])


# --- the request -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # included

    @classmethod
    def year_of(cls, day: date) -> Period:
        return cls(date(day.year, 1, 1), date(day.year, 12, 31))

    @property
    def is_calendar_year(self) -> bool:
        return (self.start.month, self.start.day, self.end.month, self.end.day) == (
            1,
            1,
            12,
            31,
        ) and self.start.year == self.end.year

    def bounds(self) -> tuple[datetime, datetime]:
        """[start, end) as aware datetimes in the current time zone."""
        tz = timezone.get_current_timezone()
        return (
            datetime.combine(self.start, time.min, tzinfo=tz),
            datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=tz),
        )


def _parse_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadParameter(
            _("日期“%(value)s”格式不正确，请按“年-月-日”填写，例如2026-01-01。")
            % {"value": value[:20]}
        ) from None


def period_from(params: Mapping[str, str], *, today: date) -> Period:
    """The period of a request: the current year unless `year` (YYYY) names another; `from` and
    `to` (YYYY-MM-DD) override either end. Raises BadParameter."""
    year_text = (params.get("year") or "").strip()
    if year_text:
        if not (year_text.isascii() and year_text.isdigit() and len(year_text) == 4):
            raise BadParameter(_("年份格式不正确，请填写四位数字年份，例如2026。"))
        year = int(year_text)
        if year < 2000:
            raise BadParameter(_("年份不能早于2000年。"))
        period = Period.year_of(date(year, 1, 1))
    else:
        period = Period.year_of(today)
    start_text = (params.get("from") or "").strip()
    end_text = (params.get("to") or "").strip()
    start = _parse_date(start_text) if start_text else period.start
    end = _parse_date(end_text) if end_text else period.end
    if start > end:
        raise BadParameter(_("开始日期不能晚于结束日期。"))
    if (end - start).days >= MAX_PERIOD_DAYS:
        raise BadParameter(_("统计期间不能超过10年，请缩短起止日期。"))
    return Period(start, end)


def group_from(params: Mapping[str, str], *, default: str = "month", allow_all=False) -> str:
    """`group`: month, department, channel or kind (and "" for every grouping, where the page
    allows it). Raises BadParameter."""
    value = (params.get("group") or "").strip()
    if not value:
        return "" if allow_all else default
    if value not in GROUPS:
        raise BadParameter(
            _(
                "分组方式不正确，只能是 month（按月份）、department（按承办部门）、"
                "channel（按来信渠道）或 kind（按来信类别）。"
            )
        )
    return value


def group_label(group: str) -> str:
    return {
        "month": _("按月份"),
        "department": _("按承办部门"),
        "channel": _("按来信渠道"),
        "kind": _("按来信类别"),
    }[group]


# --- the figures -------------------------------------------------------------------------------


def _ratio(part: int | float, whole: int | float) -> float | None:
    return part / whole if whole else None


@dataclass
class Row:
    key: str
    label: str
    received: int = 0
    withdrawn: int = 0
    merged: int = 0
    replied: int = 0
    replied_on_time: int = 0
    unanswered_overdue: int = 0
    open: int = 0
    overdue: int = 0
    reopened: int = 0
    rated: int = 0
    satisfied: int = 0
    rating_sum: int = 0
    calendar_days_sum: int = 0
    working_days_sum: int = 0
    working_days_measured: int = 0

    @property
    def counted(self) -> int:
        return self.received - self.withdrawn - self.merged

    @property
    def due(self) -> int:
        return self.replied + self.unanswered_overdue

    @property
    def reply_rate(self) -> float | None:
        return _ratio(self.replied, self.counted)

    @property
    def on_time_rate(self) -> float | None:
        return _ratio(self.replied_on_time, self.due)

    @property
    def average_calendar_days(self) -> float | None:
        return _ratio(self.calendar_days_sum, self.replied)

    @property
    def average_working_days(self) -> float | None:
        return _ratio(self.working_days_sum, self.working_days_measured)

    @property
    def satisfaction_rate(self) -> float | None:
        return _ratio(self.satisfied, self.rated)

    @property
    def average_rating(self) -> float | None:
        return _ratio(self.rating_sum, self.rated)

    def add(self, other: Row) -> None:
        for name in _SUMMED:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict:
        """The row as the API and the page's chart data give it (rates 0–1, 4 decimals;
        averages 2 decimals)."""

        def rounded(value, digits):
            return None if value is None else round(value, digits)

        return {
            "key": self.key,
            "label": self.label,
            "received": self.received,
            "withdrawn": self.withdrawn,
            "merged": self.merged,
            "counted": self.counted,
            "replied": self.replied,
            "reply_rate": rounded(self.reply_rate, 4),
            "replied_on_time": self.replied_on_time,
            "due": self.due,
            "on_time_rate": rounded(self.on_time_rate, 4),
            "average_working_days": rounded(self.average_working_days, 2),
            "average_calendar_days": rounded(self.average_calendar_days, 2),
            "rated": self.rated,
            "satisfied": self.satisfied,
            "satisfaction_rate": rounded(self.satisfaction_rate, 4),
            "average_rating": rounded(self.average_rating, 2),
            "open": self.open,
            "overdue": self.overdue,
            "reopened": self.reopened,
        }


_SUMMED = (
    "received",
    "withdrawn",
    "merged",
    "replied",
    "replied_on_time",
    "unanswered_overdue",
    "open",
    "overdue",
    "reopened",
    "rated",
    "satisfied",
    "rating_sum",
    "calendar_days_sum",
    "working_days_sum",
    "working_days_measured",
)


@dataclass
class Figures:
    group: str
    period: Period
    today: date
    rows: list[Row]
    total: Row = field(init=False)

    def __post_init__(self):
        self.total = Row(key="total", label=_("合计"))
        for row in self.rows:
            self.total.add(row)

    def as_dict(self) -> dict:
        return {
            "group": self.group,
            "from": self.period.start.isoformat(),
            "to": self.period.end.isoformat(),
            "as_of": self.today.isoformat(),
            "rows": [row.as_dict() for row in self.rows],
            "total": self.total.as_dict(),
        }


def letters_in(period: Period) -> QuerySet:
    """Every letter received in `period` (local days), in every status."""
    start, end = period.bounds()
    return Letter.objects.filter(received_at__gte=start, received_at__lt=end)


def _first_reply() -> QuerySet:
    return LetterReply.objects.filter(letter=OuterRef("pk"), round=1, status=ReplyStatus.SENT)


def _group_key(group: str):
    tz = timezone.get_current_timezone()
    if group == "month":
        return TruncMonth("received_at", tzinfo=tz, output_field=DateField())
    return F({"department": "department_id", "channel": "channel", "kind": "kind"}[group])


def _annotated(letters: QuerySet) -> QuerySet:
    tz = timezone.get_current_timezone()
    first = _first_reply()
    on_time = first.annotate(sent_on=TruncDate("sent_at", tzinfo=tz)).filter(
        sent_on__lte=F("due_date")
    )
    latest_rating = (
        LetterReply.objects.filter(
            letter=OuterRef("pk"), status=ReplyStatus.SENT, rating_level__isnull=False
        )
        .order_by("-round")
        .values("rating_level")[:1]
    )
    return letters.annotate(
        first_replied=Exists(first),
        first_on_time=Exists(on_time),
        latest_rating=Subquery(latest_rating),
    )


def _aggregates(today: date) -> dict:
    counted = ~Q(status__in=flows.FINAL)
    running = Q(status__in=flows.CLOCK_RUNNING)
    return {
        "received": Count("pk"),
        "withdrawn": Count("pk", filter=Q(status=Status.WITHDRAWN)),
        "merged": Count("pk", filter=Q(status=Status.MERGED)),
        "replied": Count("pk", filter=counted & Q(first_replied=True)),
        "replied_on_time": Count("pk", filter=counted & Q(first_on_time=True)),
        "unanswered_overdue": Count(
            "pk", filter=counted & Q(first_replied=False, due_date__lt=today)
        ),
        "open": Count("pk", filter=running),
        "overdue": Count("pk", filter=running & Q(due_date__lt=today)),
        "reopened": Count("pk", filter=Q(reopened_count__gte=1)),
        "rated": Count("pk", filter=Q(latest_rating__isnull=False)),
        "satisfied": Count("pk", filter=Q(latest_rating__gte=SATISFIED_LEVEL)),
        "rating_sum": Sum("latest_rating"),
    }


def _reply_times(letters: QuerySet, key) -> dict:
    """{group key: (calendar days sum, working days sum, letters measured in working days)}
    over replied letters. SQL counts letters per (group, day received, day replied); the
    working-day calendar is applied once per distinct pair of days."""
    tz = timezone.get_current_timezone()
    sent_on = _first_reply().annotate(day=TruncDate("sent_at", tzinfo=tz)).values("day")[:1]
    pairs = (
        letters.filter(~Q(status__in=flows.FINAL), Exists(_first_reply()))
        .annotate(
            group_key=key,
            received_on=TruncDate("received_at", tzinfo=tz),
            replied_on=Subquery(sent_on, output_field=DateField()),
        )
        .order_by()
        .values_list("group_key", "received_on", "replied_on")
        .annotate(n=Count("pk"))
    )
    working: dict[tuple[date, date], int | None] = {}
    times: dict = {}
    for group_key, received_on, replied_on, n in pairs:
        span = (received_on, replied_on)
        if span not in working:
            try:
                working[span] = workdays.working_days_between(received_on, replied_on)
            except workdays.CalendarNotConfirmed:
                working[span] = None
        calendar_sum, working_sum, measured = times.get(group_key, (0, 0, 0))
        calendar_sum += (replied_on - received_on).days * n
        if working[span] is not None:
            working_sum += working[span] * n
            measured += n
        times[group_key] = (calendar_sum, working_sum, measured)
    return times


def _months(period: Period, today: date, seen) -> list[date]:
    """First days of the period's months up to today's (letters are not received in the
    future), plus any month that has letters."""
    months = set(seen)
    day = period.start.replace(day=1)
    last = min(period.end, today)
    while day <= last:
        months.add(day)
        day = (day + timedelta(days=32)).replace(day=1)
    return sorted(months)


def _labelled_keys(group: str, period: Period, today: date, seen) -> list[tuple[object, str, str]]:
    """(group key as SQL returns it, key for the API, label) in display order."""
    if group == "month":
        return [
            (m, m.strftime("%Y-%m"), formats.date_format(m, "YEAR_MONTH_FORMAT"))
            for m in _months(period, today, seen)
        ]
    if group == "department":
        departments = Department.objects.filter(pk__in=list(seen)).order_by("position", "pk")
        return [(d.pk, d.code, d.display_name) for d in departments]
    choices = Channel if group == "channel" else Kind
    return [(c.value, c.value, str(c.label)) for c in choices]


def letters_figures(
    *, period: Period, group: str, today: date | None = None, letters: QuerySet | None = None
) -> Figures:
    """The figures of the letters received in `period`, one row per `group` (see the module
    docstring for every definition). `letters` narrows the letters further (default: all)."""
    if group not in GROUPS:
        raise ValueError(f"unknown group {group!r}")
    today = today or timezone.localdate()
    base = letters_in(period) if letters is None else letters & letters_in(period)
    key = _group_key(group)
    counts = {
        entry.pop("group_key"): entry
        for entry in _annotated(base)
        .annotate(group_key=key)
        .order_by()
        .values("group_key")
        .annotate(**_aggregates(today))
    }
    times = _reply_times(base, key)
    rows = []
    for sql_key, api_key, label in _labelled_keys(group, period, today, counts):
        row = Row(key=api_key, label=label)
        for name, value in counts.get(sql_key, {}).items():
            setattr(row, name, value or 0)
        row.calendar_days_sum, row.working_days_sum, row.working_days_measured = times.get(
            sql_key, (0, 0, 0)
        )
        rows.append(row)
    return Figures(group=group, period=period, today=today, rows=rows)


# --- supervision -------------------------------------------------------------------------------


def overdue_letters(letters: QuerySet, *, period: Period, today: date) -> QuerySet:
    """Letters in `letters` (e.g. queries.visible_letters(user)) received in `period` whose
    clock runs past the due date today, the longest overdue first."""
    return (
        (letters & letters_in(period))
        .filter(status__in=flows.CLOCK_RUNNING, due_date__lt=today)
        .select_related("department")
        .only(
            "number",
            "channel",
            "kind",
            "status",
            "round",
            "received_at",
            "due_date",
            "department__name",
            "department__name_en",
        )
        .order_by("due_date", "received_at", "id")
    )


def working_days_late(due: date, today: date) -> int | None:
    try:
        return workdays.working_days_between(due, today)
    except workdays.CalendarNotConfirmed:
        return None
