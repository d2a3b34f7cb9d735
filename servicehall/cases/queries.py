"""The read side of cases for staff: the queue, one case, supervisor figures.

Scope: a staff member sees the cases now handled by their department (`case.department`),
limited to their jurisdiction for cases bound to a station (cases without a station are
the whole department's). This is the queryset form of `workflow.can_handle(user, case)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import BooleanField, Count, F, QuerySet, Value, When
from django.db.models import Case as CaseWhen
from django.db.models.functions import TruncDate
from django.utils.translation import gettext as _

from servicehall.accounts import rules as account_rules
from servicehall.core import masking
from servicehall.core.workdays import add_working_days

from . import flows
from .deadlines import level_on
from .flows import Status
from .models import AccountabilityRecord, Case, FollowUpTask

DUE_OVERDUE = "overdue"
DUE_SOON = "soon"
STATUS_ALL = "all"


def _department_id(user) -> int | None:
    if not account_rules.is_staff_member(user):
        return None
    profile = user.staff_profile_or_none
    return profile.department_id if profile else None


def _within_jurisdiction(user, qs: QuerySet, station_field: str) -> QuerySet:
    """Rows without a station stay; station-bound rows only inside the user's jurisdiction."""
    bound = account_rules.jurisdiction_filter(
        user, qs.filter(**{f"{station_field}__isnull": False}), station_field=station_field
    )
    return qs.filter(**{f"{station_field}__isnull": True}) | bound


def staff_cases(user) -> QuerySet:
    """Every non-draft case the user's department handles now, within their jurisdiction."""
    department_id = _department_id(user)
    if department_id is None:
        return Case.objects.none()
    qs = Case.objects.filter(department_id=department_id).exclude(status=Status.DRAFT)
    return _within_jurisdiction(user, qs, "station")


def due_soon_limit(today: date) -> date:
    """First due date that is *not* yet 'due within one working day' (see deadlines.level_on)."""
    return add_working_days(today, 2)


def queue(
    user, *, today: date, status: str = "", due: str = "", mine: bool = False, number: str = ""
) -> QuerySet:
    """The staff queue: green channel first, then the earliest due date, then the oldest.

    `status` "" means the open cases, STATUS_ALL every case, else that one status.
    """
    qs = staff_cases(user).select_related("item", "handler")
    if status == STATUS_ALL:
        pass
    elif status:
        qs = qs.filter(status=status)
    else:  # the default: cases still open (finished ones only when asked for)
        qs = qs.exclude(status__in=flows.FINAL)
    if due == DUE_OVERDUE:
        qs = qs.filter(status__in=flows.CLOCK_RUNNING, due_date__lt=today)
    elif due == DUE_SOON:
        qs = qs.filter(
            status__in=flows.CLOCK_RUNNING, due_date__gte=today, due_date__lt=due_soon_limit(today)
        )
    if mine:
        qs = qs.filter(handler=user)
    if number:
        qs = qs.filter(number__icontains=number.strip())
    green = CaseWhen(
        When(green_channel="", then=Value(False)),
        default=Value(True),
        output_field=BooleanField(),
    )
    return qs.annotate(green_first=green).order_by(
        F("green_first").desc(),
        F("due_date").asc(nulls_last=True),
        F("submitted_at").asc(nulls_last=True),
        "pk",
    )


def case_for(user, pk: int) -> Case:
    """One case the user may see (Case.DoesNotExist otherwise, for a 404)."""
    return (
        staff_cases(user)
        .select_related(
            "item",
            "department",
            "home_department",
            "station",
            "handler",
            "accountable_staff",
            "enterprise",
        )
        .get(pk=pk)
    )


# --- supervision -------------------------------------------------------------------------


@dataclass
class Supervision:
    overdue: list
    near_due: list
    accountability: list
    follow_ups: list
    open_by_status: list  # [(label, count)]
    completed_this_month: int
    on_time_completed: int
    completed_with_limit: int

    @property
    def on_time_rate(self) -> float | None:
        if not self.completed_with_limit:
            return None
        return round(100 * self.on_time_completed / self.completed_with_limit, 1)


def supervision(user, *, today: date) -> Supervision:
    cases = staff_cases(user)
    department_id = _department_id(user)
    at_risk = (
        cases.filter(status__in=flows.CLOCK_RUNNING, due_date__lt=due_soon_limit(today))
        .select_related("item", "handler", "accountable_staff")
        .order_by("due_date", "pk")
    )
    overdue, near_due = [], []
    for case in at_risk:
        level = level_on(case, today)
        case.warning = level
        if level == "red":
            overdue.append(case)
        elif level == "yellow":
            near_due.append(case)

    records = _within_jurisdiction(
        user,
        AccountabilityRecord.objects.filter(
            department_id=department_id, state=AccountabilityRecord.State.OPEN
        ),
        "case__station",
    ).select_related("case", "case__item", "accountable_staff", "handler")
    tasks = _within_jurisdiction(
        user,
        FollowUpTask.objects.filter(department_id=department_id, state=FollowUpTask.State.OPEN),
        "rating__case__station",
    ).select_related("rating", "rating__case", "rating__case__item")

    open_counts = dict(
        cases.exclude(status__in=flows.FINAL)
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    open_by_status = [
        (choice.label, open_counts[choice.value])
        for choice in Status
        if open_counts.get(choice.value)
    ]

    month_start = today.replace(day=1)
    completed = cases.filter(status__in=flows.RATEABLE, completed_at__isnull=False).annotate(
        done_on=TruncDate("completed_at")
    )
    this_month = completed.filter(done_on__gte=month_start, done_on__lte=today)
    with_limit = this_month.filter(due_date__isnull=False)
    return Supervision(
        overdue=overdue,
        near_due=near_due,
        accountability=list(records.order_by("detected_on", "pk")),
        follow_ups=list(tasks.order_by("due_date", "pk")),
        open_by_status=open_by_status,
        completed_this_month=this_month.count(),
        on_time_completed=with_limit.filter(done_on__lte=F("due_date")).count(),
        completed_with_limit=with_limit.count(),
    )


def open_follow_up(user, pk: int) -> FollowUpTask:
    """A follow-up task of the user's department (FollowUpTask.DoesNotExist otherwise)."""
    return FollowUpTask.objects.select_related("rating__case").get(
        pk=pk, department_id=_department_id(user)
    )


# --- one case ------------------------------------------------------------------------------

# Form field types holding personal data: masked unless revealed (and the reveal audited).
PERSONAL_FIELD_TYPES = {"id_number": masking.mask_id_number, "phone": masking.mask_phone}


@dataclass
class FormRow:
    name: str
    label: str
    value: str
    personal: bool = False


def _display(value, field_type: str) -> str:
    if value is None or value == "":
        return "—"
    if field_type == "bool" or isinstance(value, bool):
        return str(_("是") if value else _("否"))
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return str(value)


def form_rows(case: Case, *, reveal: bool = False) -> list[FormRow]:
    """The application's answers labelled by the item's `form` spec, personal ones masked."""
    data = dict(case.form_data or {})
    rows = []
    for spec in case.item.document.get("form") or ():
        name, field_type = spec["name"], spec.get("type", "text")
        value = data.pop(name, None)
        mask = PERSONAL_FIELD_TYPES.get(field_type)
        shown = _display(value, field_type)
        if mask and value and not reveal:
            shown = mask(value)
        rows.append(FormRow(name, spec.get("label", name), shown, personal=bool(mask)))
    # Answers to fields the item no longer asks for are still part of the record.
    rows.extend(FormRow(name, name, _display(value, "")) for name, value in data.items())
    return rows
