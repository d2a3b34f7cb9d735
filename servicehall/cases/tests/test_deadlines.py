"""The deadline sweep: yellow one working day before, red after, each raised exactly once."""

import datetime as dt
import threading

import pytest
import time_machine
from django.db import connection

from servicehall.cases import workflow
from servicehall.cases.deadlines import level_on, sweep
from servicehall.cases.models import AccountabilityRecord, DeadlineWarning
from servicehall.notify.models import Message

from .conftest import submitted

D = dt.date.fromisoformat


def accepted_case(citizen, team, on: str):
    with time_machine.travel(f"{on} 09:00 +0800"):
        case = workflow.claim(actor=team["window_clerk"], case=submitted(citizen))
        return workflow.accept(actor=team["window_clerk"], case=case)


@pytest.mark.django_db
def test_levels_follow_working_days(citizen, huzheng_team):
    case = accepted_case(citizen, huzheng_team, "2026-09-30")  # promised 1 day
    assert case.due_date == D("2026-10-08")  # the holiday week is skipped
    assert level_on(case, D("2026-09-30")) == "yellow"  # one working day before
    assert level_on(case, D("2026-10-08")) == "yellow"  # due today
    assert level_on(case, D("2026-10-09")) == "red"


@pytest.mark.django_db
def test_sweep_raises_warnings_once_and_records_accountability(citizen, huzheng_team):
    case = accepted_case(citizen, huzheng_team, "2026-09-30")
    first = sweep(D("2026-10-08"))
    assert first.yellow == [case.number]
    assert sweep(D("2026-10-08")).yellow == []  # idempotent
    overdue = sweep(D("2026-10-09"))
    assert overdue.red == [case.number]
    record = AccountabilityRecord.objects.get(case=case)
    assert record.accountable_staff == huzheng_team["window_clerk"]
    assert record.department.code == "huzheng"
    mails = Message.objects.filter(channel="email")
    to = set(mails.values_list("recipient", flat=True))
    assert {"window_clerk@police.example", "supervisor@police.example"} <= to
    assert "reviewer@police.example" not in to
    assert mails.filter(body__contains="超期").count() == len(to)


@pytest.mark.django_db
def test_completed_and_paused_cases_raise_nothing(citizen, huzheng_team):
    case = accepted_case(citizen, huzheng_team, "2026-09-30")
    workflow.start_review(actor=huzheng_team["reviewer"], case=case)
    with time_machine.travel("2026-10-08 09:00 +0800"):
        workflow.request_correction(actor=huzheng_team["reviewer"], case=case, items=["补充材料"])
    assert sweep(D("2026-10-20")).red == []  # waiting for the applicant: the clock is paused


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_write_each_warning_once(catalogue, citizen, huzheng_team):
    cases = [accepted_case(citizen, huzheng_team, "2026-09-30") for _ in range(5)]
    barrier = threading.Barrier(2)
    reports, errors = [], []

    def run():
        try:
            barrier.wait()
            reports.append(sweep(D("2026-10-09")))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(n for r in reports for n in r.red) == sorted(c.number for c in cases)
    assert DeadlineWarning.objects.filter(level="red").count() == 5
    assert AccountabilityRecord.objects.count() == 5
    per_case = Message.objects.filter(channel="email", body__contains="超期")
    assert per_case.count() == 5 * 2  # handler-clerk and supervisor, once each
