"""Reply time limits: yellow within one working day of the due date, escalation after it,
each raised once per letter, level and round however often (and however many at once) the
sweep runs."""

import datetime as dt
import threading
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from servicehall.accounts.tests.factories import department
from servicehall.letters import workflow
from servicehall.letters.deadlines import level_on, sweep
from servicehall.letters.models import LetterWarning
from servicehall.notify.models import Message

from .conftest import letter

D = dt.date.fromisoformat
BEFORE_NATIONAL_DAY = "2026-09-30 16:00 +0800"  # a consultation is due Saturday 10 October


def claimed(citizen, team, **fields):
    mail = letter(citizen, at=BEFORE_NATIONAL_DAY, **fields)
    mail = workflow.assign(actor=team["triage"], letter=mail, department=department("huzheng"))
    return workflow.claim(actor=team["clerk"], letter=mail)


def emails(body_part):
    return Message.objects.filter(channel="email", body__contains=body_part)


@pytest.mark.django_db
def test_levels_follow_working_days_over_national_day(citizen, team):
    mail = claimed(citizen, team)
    assert mail.due_date == D("2026-10-10")  # the swapped working Saturday
    assert level_on(mail, D("2026-09-30")) is None
    assert level_on(mail, D("2026-10-05")) is None  # a holiday: 8, 9, 10 October still ahead
    assert level_on(mail, D("2026-10-08")) is None
    assert level_on(mail, D("2026-10-09")) == "yellow"  # one working day left
    assert level_on(mail, D("2026-10-10")) == "yellow"  # due today
    assert level_on(mail, D("2026-10-11")) == "red"


@pytest.mark.django_db
def test_the_sweep_is_idempotent(citizen, team):
    mail = claimed(citizen, team)
    first = sweep(D("2026-10-09"))
    assert first.yellow == [mail.number] and first.red == []
    again = sweep(D("2026-10-09"))
    assert again.yellow == [] and again.red == []
    assert sweep(D("2026-10-10")).yellow == []  # still yellow: raised already this round
    assert list(emails("答复预警").values_list("recipient", flat=True)) == ["clerk@police.example"]

    overdue = sweep(D("2026-10-12"))
    assert overdue.red == [mail.number]
    assert sweep(D("2026-10-12")).red == [] and sweep(D("2026-10-13")).red == []
    assert LetterWarning.objects.filter(letter=mail).count() == 2
    escalated = set(emails("超期督办").values_list("recipient", flat=True))
    assert escalated == {"clerk@police.example", "supervisor@police.example"}
    assert emails("超期督办").count() == 2  # one each


@pytest.mark.django_db
def test_an_unclaimed_letter_warns_the_departments_supervisors(citizen, team):
    mail = letter(citizen, at=BEFORE_NATIONAL_DAY)
    workflow.assign(actor=team["triage"], letter=mail, department=department("huzheng"))
    sweep(D("2026-10-09"))
    assert list(emails("答复预警").values_list("recipient", flat=True)) == [
        "supervisor@police.example"
    ]


@pytest.mark.django_db
def test_a_letter_still_in_triage_warns_the_letters_office(citizen, team):
    letter(citizen, at=BEFORE_NATIONAL_DAY)
    sweep(D("2026-10-12"))
    assert set(emails("超期督办").values_list("recipient", flat=True)) == {
        "office_supervisor@police.example"
    }


@pytest.mark.django_db
def test_answered_withdrawn_and_merged_letters_raise_nothing(citizen, team):
    answered = claimed(citizen, team)
    workflow.draft_reply(actor=team["clerk"], letter=answered, body="答复")
    workflow.send_reply(actor=team["clerk"], letter=answered)
    withdrawn = claimed(citizen, team)
    workflow.withdraw(actor=citizen, letter=withdrawn)
    duplicate = claimed(citizen, team)
    workflow.merge_duplicate(actor=team["leader"], letter=duplicate, into=answered)
    report = sweep(D("2026-10-20"))
    assert report.yellow == [] and report.red == []


@pytest.mark.django_db
def test_a_transferred_letter_keeps_its_clock_and_its_warnings(citizen, team):
    mail = claimed(citizen, team)
    sweep(D("2026-10-09"))
    mail = workflow.transfer(
        actor=team["clerk"], letter=mail, department=department("zhian"), note="属治安管辖"
    )
    assert mail.due_date == D("2026-10-10")
    assert sweep(D("2026-10-09")).yellow == []  # not a second yellow for the same round
    assert sweep(D("2026-10-12")).red == [mail.number]
    assert "other@police.example" in set(emails("超期督办").values_list("recipient", flat=True))


@pytest.mark.django_db
def test_a_reopened_letter_is_watched_again(citizen, team):
    mail = claimed(citizen, team)
    workflow.draft_reply(actor=team["clerk"], letter=mail, body="答复")
    workflow.send_reply(actor=team["clerk"], letter=mail)
    workflow.rate(actor=citizen, letter=mail, level=1)
    mail = workflow.reopen(actor=citizen, letter=mail)
    overdue_day = mail.due_date + dt.timedelta(days=1)
    assert sweep(overdue_day).red == [mail.number]
    assert LetterWarning.objects.get(letter=mail, level="red").round == 2


@pytest.mark.django_db
def test_the_sweep_command_covers_letters(citizen, team):
    mail = claimed(citizen, team)
    out = StringIO()
    call_command("sweep_deadlines", "--date", "2026-10-12", stdout=out)
    assert "letters: 0 yellow warning(s), 1 overdue letter(s) escalated" in out.getvalue()
    assert LetterWarning.objects.get(letter=mail).level == "red"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_raise_each_warning_once(catalogue, citizen, team):
    letters = [claimed(citizen, team) for _ in range(5)]
    barrier = threading.Barrier(2)
    reports, errors = [], []

    def run():
        try:
            barrier.wait()
            reports.append(sweep(D("2026-10-12")))
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
    assert sorted(n for r in reports for n in r.red) == sorted(m.number for m in letters)
    assert LetterWarning.objects.filter(level="red").count() == 5
    assert emails("超期督办").count() == 5 * 2  # handler and supervisor, once each
