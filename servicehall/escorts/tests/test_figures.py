"""Monthly figures: equal to an independent count over the rows; page and JSON for
supervisors of the jurisdiction only."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from servicehall.accounts.tests.factories import login_verified_staff
from servicehall.escorts import queries, workflow
from servicehall.escorts.models import EscortRequest

from .conftest import staff, submit

pytestmark = pytest.mark.usefixtures("travel")


def at(text):
    return timezone.make_aware(dt.datetime.fromisoformat(text))


def make(travel, citizen, duty, *, asked, day, outcome, answer_after=30, amount="300000"):
    travel.move_to(at(asked))
    escort = submit(citizen, date=dt.date.fromisoformat(day), amount=Decimal(amount))
    answered = at(asked) + dt.timedelta(minutes=answer_after)
    if outcome == "unanswered":
        return escort
    if outcome == "overdue":
        workflow.sweep_overdue(now=at(asked) + dt.timedelta(hours=3))
        return escort
    if outcome == "cancelled_early":
        workflow.cancel(actor=citizen, escort=escort, now=at(asked) + dt.timedelta(minutes=10))
        return escort
    if outcome == "declined":
        workflow.decline(actor=duty, escort=escort, reason="警力不足", now=answered)
        return escort
    workflow.accept(actor=duty, escort=escort, now=answered)
    if outcome == "cancelled_after_accept":
        workflow.cancel(actor=citizen, escort=escort, now=answered)
        return escort
    if outcome == "accepted":
        return escort
    d = dt.date.fromisoformat(day)
    workflow.dispatch(actor=duty, escort=escort, officers="张警官", now=answered)
    workflow.start(actor=duty, escort=escort, now=at(f"{d} 09:55"))
    handed = Decimal(amount) - Decimal("0.50")  # the record, not the request, counts
    workflow.complete(
        actor=duty,
        escort=escort,
        actual_start=at(f"{d} 10:00"),
        actual_end=at(f"{d} 11:00"),
        handed_over_amount=handed,
        confirmed=True,
        now=at(f"{d} 11:10"),
    )
    return escort


@pytest.fixture
def history(travel, citizen, duty, station):
    plans = [
        ("2026-03-02 09:00", "2026-03-04", "completed", 30, "250000.10"),
        ("2026-03-09 09:00", "2026-03-11", "completed", 150, "1000000"),  # answered late
        ("2026-03-16 09:00", "2026-03-18", "declined", 60, "80000"),
        ("2026-03-20 09:00", "2026-03-23", "cancelled_early", 0, "90000"),
        ("2026-04-01 09:00", "2026-04-03", "cancelled_after_accept", 20, "120000"),
        ("2026-04-06 09:00", "2026-04-08", "overdue", 0, "130000"),
        ("2026-04-13 09:00", "2026-04-15", "declined", 200, "140000"),
        ("2026-04-20 09:00", "2026-04-22", "completed", 100, "333333.33"),
        ("2026-09-14 09:00", "2026-09-16", "unanswered", 0, "150000"),  # not yet due
        ("2026-09-14 09:00", "2026-09-17", "accepted", 10, "160000"),
        ("2025-12-29 09:00", "2026-01-05", "completed", 10, "170000"),  # asked in 2025
        ("2025-11-03 09:00", "2025-11-05", "completed", 10, "180000"),  # last year
    ]
    for asked, day, outcome, after, amount in plans:
        make(
            travel,
            citizen,
            duty,
            asked=asked,
            day=day,
            outcome=outcome,
            answer_after=after,
            amount=amount,
        )
    travel.move_to(at("2026-09-14 10:00"))
    return EscortRequest.objects.all()


def independent(rows, year, now):
    """The definitions of queries.py, computed in Python over the rows."""
    table = {}
    for e in rows:
        if e.date.year != year:
            continue
        m = table.setdefault(
            e.date.month,
            {
                "requested": 0,
                "accepted": 0,
                "declined": 0,
                "completed": 0,
                "amount": Decimal(0),
                "judged": 0,
                "in_time": 0,
            },
        )
        m["requested"] += 1
        m["accepted"] += e.accepted_at is not None
        m["declined"] += e.declined_at is not None
        if e.status == "completed":
            m["completed"] += 1
            m["amount"] += e.handed_over_amount
        answered = e.accepted_at or e.declined_at
        late_unanswered = answered is None and (
            e.overdue_at is not None or (e.status == "requested" and e.respond_by < now)
        )
        m["judged"] += bool(answered) or late_unanswered
        m["in_time"] += bool(answered and answered <= e.respond_by)
    return table


def test_the_figures_equal_an_independent_count_over_the_rows(history):
    now = timezone.now()
    result = queries.figures(history, 2026, now=now)
    expected = independent(list(history), 2026, now)
    got = {
        row.month: {
            "requested": row.requested,
            "accepted": row.accepted,
            "declined": row.declined,
            "completed": row.completed,
            "amount": row.amount,
            "judged": row.judged,
            "in_time": row.in_time,
        }
        for row in result.months
    }
    assert got == expected
    assert sorted(got) == [1, 3, 4, 9]
    # spelled out for March: 2 completed (one answered late), 1 declined, 1 cancelled early
    march = next(row for row in result.months if row.month == 3)
    assert (march.requested, march.accepted, march.declined, march.completed) == (4, 2, 1, 2)
    assert march.amount == Decimal("1250000.10") - Decimal("1.00")
    assert march.average == Decimal("624999.55")
    assert (march.in_time, march.judged) == (2, 3) and march.in_time_share == Decimal("66.7")
    april = next(row for row in result.months if row.month == 4)
    assert (april.in_time, april.judged) == (2, 4)  # the overdue one counts as late
    total = result.total
    assert total.completed == sum(m["completed"] for m in expected.values()) == 4
    assert total.amount == sum(m["amount"] for m in expected.values())


def test_supervisors_see_the_page_and_json_of_their_jurisdiction(client, history, supervisor):
    login_verified_staff(client, supervisor)
    page = client.get(reverse("escorts:figures"), {"year": 2026})
    assert page.status_code == 200
    text = page.content.decode()
    assert "3月" in text and "2/3（66.7%）" in text and "全年合计" in text
    assert "1,249,999.10" in text and "624,999.55" in text  # grouped: large sums read right
    data = client.get(reverse("escorts:figures_json"), {"year": 2026}).json()
    assert data["year"] == 2026
    march = next(m for m in data["months"] if m["month"] == 3)
    assert march["completed"] == 2 and march["amount_escorted"] == "1249999.10"
    assert march["average_amount"] == "624999.55" and march["within_limit_percent"] == "66.7"
    assert data["total"]["completed"] == 4
    assert client.get(reverse("escorts:figures_json"), {"year": "x"}).status_code == 400


def test_another_districts_supervisor_counts_nothing_of_ours(client, history, other_station):
    login_verified_staff(client, staff("supervisor", district=other_station.district))
    data = client.get(reverse("escorts:figures_json"), {"year": 2026}).json()
    assert data["months"] == [] and data["total"]["requested"] == 0


def test_the_figures_are_for_supervisors(client, history, duty, citizen):
    login_verified_staff(client, duty)
    assert client.get(reverse("escorts:figures")).status_code == 403
    assert client.get(reverse("escorts:figures_json")).status_code == 403
    client.force_login(citizen)
    assert client.get(reverse("escorts:figures")).status_code == 403
