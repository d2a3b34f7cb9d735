"""Time limits: warnings before a case's promised date, accountability when it passes.

`sweep()` is idempotent and safe on several workers at once: each warning and each
accountability record is guarded by a unique constraint, and only the worker whose insert
won sends the notifications. Run it as `manage.py sweep_deadlines` on a timer (e.g. hourly).
It never changes a case's status; it only records what the clock says.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from servicehall.core import audit, workdays

from . import flows, notifications
from .models import AccountabilityRecord, Case, DeadlineWarning, WarningLevel


@dataclass
class SweepReport:
    yellow: list[str] = field(default_factory=list)
    red: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"{len(self.yellow)} yellow warning(s), {len(self.red)} overdue case(s) newly recorded"
        )


def level_on(case: Case, day: date) -> str | None:
    """The warning a running clock shows on `day`: red past the due date, yellow within one
    working day of it (the due date itself and the working day before)."""
    if case.due_date is None or case.status not in flows.CLOCK_RUNNING:
        return None
    if day > case.due_date:
        return WarningLevel.RED
    try:
        left = workdays.working_days_between(day, case.due_date)
    except workdays.CalendarNotConfirmed:
        left = (case.due_date - day).days  # unconfirmed year: calendar days warn no later
    if left <= 1:
        return WarningLevel.YELLOW
    return None


def _recipients(case: Case):
    """The handler, the accountable person and the department's supervisors."""
    User = get_user_model()
    supervisors = User.objects.filter(
        is_active=True,
        staff_profile__department=case.department,
        role_assignments__role="supervisor",
    )
    people = {u.pk: u for u in supervisors}
    for user in (case.handler, case.accountable_staff):
        if user is not None:
            people[user.pk] = user
    return list(people.values())


def _raise_once(case: Case, level: str) -> bool:
    """True only for the one caller whose insert created the warning."""
    try:
        with transaction.atomic():
            DeadlineWarning.objects.create(case=case, level=level, due_date=case.due_date)
    except IntegrityError:
        return False
    return True


def sweep(day: date) -> SweepReport:
    report = SweepReport()
    running = (
        Case.objects.filter(status__in=flows.CLOCK_RUNNING, due_date__isnull=False)
        .select_related("item", "department", "handler", "accountable_staff")
        .order_by("due_date")
    )
    for case in running:
        level = level_on(case, day)
        if level is None:
            continue
        with transaction.atomic():
            if not _raise_once(case, level):
                continue
            if level == WarningLevel.RED:
                AccountabilityRecord.objects.create(
                    case=case,
                    due_date=case.due_date,
                    detected_on=day,
                    department=case.department,
                    accountable_staff=case.accountable_staff,
                    handler=case.handler,
                )
                report.red.append(case.number)
            else:
                report.yellow.append(case.number)
            notifications.deadline_warning(case, level, _recipients(case))
            audit.record(
                actor=None,
                actor_label="system:sweep_deadlines",
                action=f"case.deadline_{level}",
                target=case,
                details={"due_date": case.due_date.isoformat()},
            )
    return report
