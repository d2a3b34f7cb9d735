"""The response-limit sweep: marks overdue requests and escalates each once."""

import datetime as dt
import threading
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection

from servicehall.core.models import AuditEntry
from servicehall.escorts import workflow
from servicehall.escorts.models import EscortRequest
from servicehall.notify.models import Message

from .conftest import NOW, staff, submit


def overdue_mails(escort):
    return Message.objects.filter(
        channel="email", dedupe_key__startswith=f"escort:{escort.pk}:overdue"
    )


@pytest.mark.usefixtures("travel")
def test_an_unanswered_request_is_escalated_once_to_the_districts_supervisors(
    citizen, duty, supervisor, travel, station
):
    city_supervisor = staff("supervisor")  # the district has its own: not this one
    waiting = submit(citizen)
    answered = submit(citizen)
    workflow.accept(actor=duty, escort=answered)
    travel.shift(dt.timedelta(hours=1, minutes=59))
    assert workflow.sweep_overdue() == []  # not yet
    travel.shift(dt.timedelta(minutes=2))
    assert workflow.sweep_overdue() == [waiting.number]
    waiting.refresh_from_db()
    assert waiting.overdue_at is not None and waiting.status == "requested"
    assert [m.dedupe_key for m in overdue_mails(waiting)] == [
        f"escort:{waiting.pk}:overdue:{supervisor.pk}"
    ]
    assert "未在" in overdue_mails(waiting).get().body
    assert not Message.objects.filter(dedupe_key__endswith=f":{city_supervisor.pk}").exists()
    event = waiting.events.get(action="overdue")
    assert event.actor is None and event.to_status == "requested"
    assert (
        AuditEntry.objects.filter(
            action="escort.overdue", actor_label="system:sweep_escorts"
        ).count()
        == 1
    )

    travel.shift(dt.timedelta(hours=3))
    out = StringIO()
    call_command("sweep_escorts", stdout=out)  # again: nothing new
    assert "0 overdue request(s) escalated" in out.getvalue()
    assert waiting.events.filter(action="overdue").count() == 1
    assert overdue_mails(waiting).count() == 1
    assert not answered.events.filter(action="overdue").exists()
    # A late answer is still possible; the request stays marked overdue.
    workflow.accept(actor=duty, escort=waiting)
    waiting.refresh_from_db()
    assert waiting.status == "accepted" and waiting.overdue_at is not None


@pytest.mark.usefixtures("travel")
def test_without_district_supervisors_the_bureaus_hear(citizen, station, travel):
    city_supervisor = staff("supervisor")
    waiting = submit(citizen)
    travel.shift(dt.timedelta(hours=3))
    workflow.sweep_overdue()
    assert [m.dedupe_key for m in overdue_mails(waiting)] == [
        f"escort:{waiting.pk}:overdue:{city_supervisor.pk}"
    ]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_sweeps_running_at_once_escalate_each_request_once(catalogue):
    from servicehall.accounts.models import District
    from servicehall.accounts.organisation import sync_districts
    from servicehall.accounts.tests.factories import CitizenFactory, StationFactory, district

    sync_districts(District)  # a transactional test's flush empties the seeded table
    StationFactory(code="210102-A01", district=district("210102"))
    supervisor = staff("supervisor", district=district("210102"))
    citizen = CitizenFactory()
    with time_machine.travel(NOW, tick=False):
        escorts = [submit(citizen) for _ in range(5)]
    results, errors = [], []
    barrier = threading.Barrier(4)

    def sweep():
        try:
            barrier.wait()
            results.append(
                workflow.sweep_overdue(now=escorts[0].respond_by + dt.timedelta(hours=1))
            )
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    escalated = [number for result in results for number in result]
    assert sorted(escalated) == sorted(e.number for e in escorts)  # each exactly once
    for escort in escorts:
        assert escort.events.filter(action="overdue").count() == 1
    assert Message.objects.filter(dedupe_key__endswith=f"overdue:{supervisor.pk}").count() == 5
    assert EscortRequest.objects.filter(overdue_at__isnull=True).count() == 0
