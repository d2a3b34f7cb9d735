"""Reply time limits: a yellow warning before a letter's due date, escalation after it.

`sweep(day)` is idempotent and safe on several workers at once: each warning is guarded by
a unique constraint (letter, level, round), and only the worker whose insert won sends the
e-mails and writes the audit entry. `manage.py sweep_deadlines` runs it (with the cases'
sweep) on a timer. It never changes a letter's status; besides warnings it only replaces a
provisional due date once its calendar year is confirmed (workflow.confirm_due_date).

- yellow: the clock runs and the due date is today or the next working day → the handler
  (the department's supervisors when nobody has claimed the letter yet);
- red (escalation, 超期督办): the due date has passed → the department's supervisors and
  the handler.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef

from servicehall.core import audit, workdays

from . import flows, notifications, workflow
from .models import Letter, LetterWarning, WarningLevel


@dataclass
class SweepReport:
    yellow: list[str] = field(default_factory=list)
    red: list[str] = field(default_factory=list)
    due_dates_confirmed: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"letters: {len(self.yellow)} yellow warning(s), {len(self.red)} overdue "
            f"letter(s) escalated, {len(self.due_dates_confirmed)} due date(s) confirmed"
        )


def level_on(letter: Letter, day: date) -> str | None:
    """The warning a running clock shows on `day`: red past the due date, yellow within one
    working day of it (the due date itself and the working day before)."""
    if letter.status not in flows.CLOCK_RUNNING:
        return None
    if day > letter.due_date:
        return WarningLevel.RED
    try:
        left = workdays.working_days_between(day, letter.due_date)
    except workdays.CalendarNotConfirmed:
        left = (letter.due_date - day).days  # unconfirmed year: calendar days warn no later
    return WarningLevel.YELLOW if left <= 1 else None


def recipients(letter: Letter, level: str) -> list:
    supervisors = list(
        get_user_model()
        .objects.filter(
            is_active=True,
            staff_profile__department_id=letter.department_id,
            role_assignments__role="supervisor",
        )
        .distinct()
    )
    handler = [letter.handler] if letter.handler is not None and letter.handler.is_active else []
    if level == WarningLevel.YELLOW:
        return handler or supervisors
    people = {user.pk: user for user in supervisors + handler}
    return list(people.values())


def _raise_once(letter: Letter, level: str, day: date) -> bool:
    """True only for the one caller whose insert created the warning."""
    try:
        with transaction.atomic():
            LetterWarning.objects.create(
                letter=letter,
                level=level,
                round=letter.round,
                due_date=letter.due_date,
                raised_on=day,
            )
    except IntegrityError:
        return False
    return True


def _confirm_provisional(report: SweepReport) -> None:
    for letter in Letter.objects.filter(
        due_date_provisional=True, status__in=flows.CLOCK_RUNNING
    ).only("pk"):
        confirmed = workflow.confirm_due_date(letter=letter)
        if confirmed is not None:
            report.due_dates_confirmed.append(confirmed.number)


def sweep(day: date) -> SweepReport:
    report = SweepReport()
    _confirm_provisional(report)
    # Only letters that can show a warning by `day`: due within a few calendar days (a
    # working day before the due date is never more than two weeks before it).
    escalated = LetterWarning.objects.filter(
        letter=OuterRef("pk"), level=WarningLevel.RED, round=OuterRef("round")
    )
    running = (
        Letter.objects.filter(
            status__in=flows.CLOCK_RUNNING, due_date__lte=day + timedelta(days=15)
        )
        .exclude(Exists(escalated))  # long overdue: nothing more to raise this round
        .select_related("department", "handler")
        .order_by("due_date", "id")
    )
    for letter in running:
        level = level_on(letter, day)
        if level is None:
            continue
        with transaction.atomic():
            if not _raise_once(letter, level, day):
                continue
            (report.red if level == WarningLevel.RED else report.yellow).append(letter.number)
            notifications.deadline_warning(letter, level, recipients(letter, level))
            audit.record(
                actor=None,
                actor_label="system:sweep_deadlines",
                action=f"letter.deadline_{level}",
                target=letter,
                details={"due_date": letter.due_date.isoformat(), "round": letter.round},
            )
    return report
