"""core.rows.insert stores a row exactly as the ORM's save() would: the model's defaults,
auto_now(_add), JSON and datetimes as the field converts them, the key set on the object."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from servicehall.core import rows
from servicehall.notify.models import Message, Status

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 9, 14, 9, 0, tzinfo=dt.UTC)


def message(**fields):
    fields.setdefault("next_attempt_at", timezone.now())  # a pending message is scheduled
    return Message(channel="sms", recipient="13800138000", body="您好", **fields)


def test_a_row_reads_back_as_saved_with_defaults_and_its_key():
    with time_machine.travel(NOW, tick=False):
        row = message(dedupe_key="k-1")
        assert rows.insert(row) is True
    assert row.pk is not None and not row._state.adding
    stored = Message.objects.get(pk=row.pk)
    assert stored.status == Status.PENDING and stored.attempts == 0  # the model's defaults
    assert stored.created_at == NOW and stored.next_attempt_at == NOW  # auto_now_add, aware
    assert (stored.recipient, stored.body, stored.dedupe_key) == ("13800138000", "您好", "k-1")


def test_json_is_stored_as_the_field_stores_it():
    from servicehall.accounts.models import Department
    from servicehall.bookings.models import Office

    hours = {"weekday": [["08:30", "17:00"]], "lunch": None, "note": "二"}
    office = Office(code="t", name="测试大厅", kind="exit_entry", hours=hours)
    office.department = Department.objects.first()
    rows.insert(office)
    assert Office.objects.get(pk=office.pk).hours == hours


def test_a_conflicting_row_is_skipped_only_when_asked():
    from django.db import IntegrityError, transaction

    rows.insert(message(dedupe_key="same"))
    twin = message(dedupe_key="same")
    assert rows.insert(twin, ignore_conflicts=True) is False and twin.pk is None
    with pytest.raises(IntegrityError), transaction.atomic():
        rows.insert(message(dedupe_key="same"))
    assert Message.objects.filter(dedupe_key="same").count() == 1


def test_rows_of_several_models_are_inserted_together_in_one_round_trip():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from servicehall.accounts.models import Department
    from servicehall.bookings.models import Office

    office = Office(code="t2", name="测试大厅", kind="exit_entry", hours={"note": "二"})
    office.department = Department.objects.first()
    first, second = message(dedupe_key="a"), message(dedupe_key="b", subject="主题")
    with CaptureQueriesContext(connection) as queries:
        rows.insert_together([first, office, second])
    assert len(queries) == (1 if connection.vendor == "postgresql" else 3)
    assert all(obj.pk and not obj._state.adding for obj in (first, office, second))
    assert first.pk < second.pk  # rows of one table keep the order they were given in
    assert Message.objects.get(pk=second.pk).subject == "主题"
    assert Office.objects.get(pk=office.pk).hours == {"note": "二"}
    assert Message.objects.get(pk=first.pk).status == Status.PENDING  # the model's default


def test_rows_inserted_together_stand_or_fall_together():
    from django.db import IntegrityError, transaction

    rows.insert(message(dedupe_key="held"))
    with pytest.raises(IntegrityError), transaction.atomic():
        rows.insert_together([message(dedupe_key="new"), message(dedupe_key="held")])
    assert not Message.objects.filter(dedupe_key="new").exists()  # all or nothing


def test_a_row_is_inserted_only_if_its_guard_changed_a_row():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from servicehall.notify.models import Message as M

    held = message(dedupe_key="guard-target")
    rows.insert(held)
    table = M._meta.db_table
    guard = (
        f"UPDATE {table} SET attempts = attempts + 1 WHERE id = %s AND attempts < 1 RETURNING id"  # noqa: S608
    )
    first = message(dedupe_key="guarded-1")
    with CaptureQueriesContext(connection) as queries:
        assert rows.insert_if(first, guard, [held.pk]) is True
    assert len(queries) == (1 if connection.vendor == "postgresql" else 2)
    assert first.pk and M.objects.get(pk=first.pk).dedupe_key == "guarded-1"
    assert M.objects.get(pk=held.pk).attempts == 1
    second = message(dedupe_key="guarded-2")  # the guard no longer matches: nothing written
    assert rows.insert_if(second, guard, [held.pk]) is False and second.pk is None
    assert not M.objects.filter(dedupe_key="guarded-2").exists()


def test_a_guarded_row_that_cannot_be_written_undoes_its_guard():
    from django.db import IntegrityError, transaction

    from servicehall.notify.models import Message as M

    held = message(dedupe_key="guard-held")
    rows.insert(held)
    guard = f"UPDATE {M._meta.db_table} SET attempts = attempts + 1 WHERE id = %s RETURNING id"  # noqa: S608
    with pytest.raises(IntegrityError), transaction.atomic():
        rows.insert_if(message(dedupe_key="guard-held"), guard, [held.pk])
    assert M.objects.get(pk=held.pk).attempts == 0  # the place is not taken without its row


@pytest.mark.postgres  # SQLite does not hold text to a column's length
def test_a_too_long_value_fails_as_it_would_without_a_guard():
    from django.db import DataError, transaction

    from servicehall.notify.models import Message as M

    held = message(dedupe_key="guard-long")
    rows.insert(held)
    guard = f"UPDATE {M._meta.db_table} SET attempts = attempts + 1 WHERE id = %s RETURNING id"  # noqa: S608
    too_long = message(dedupe_key="x" * 300)  # the column holds 200
    with pytest.raises(DataError), transaction.atomic():
        rows.insert_if(too_long, guard, [held.pk])
