from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from servicehall.accounts.organisation import SHENYANG_DISTRICTS
from servicehall.bookings.models import Counter, CounterItem, Office
from servicehall.bookings.offices import DEFAULT_DIR, read_offices


def test_the_shipped_office_files_are_valid():
    files = read_offices()
    assert files.problems == []
    assert len(files.offices) == 12


def test_the_offices_load_idempotently(offices):
    assert Office.objects.count() == 12
    counts = (Counter.objects.count(), CounterItem.objects.count())
    call_command("load_offices", verbosity=0)
    assert (Office.objects.count(), Counter.objects.count(), CounterItem.objects.count()) == (
        12,
        *counts,
    )
    district_offices = Office.objects.filter(kind="exit_entry", district__isnull=False)
    names = dict(SHENYANG_DISTRICTS)
    assert district_offices.count() == 9
    for office in district_offices.select_related("district"):
        assert names[office.district.code] == office.district.name
        assert office.district.name in office.name
    city = offices["crj-city"]
    assert city.district is None and city.lunch_service and city.weekend_service
    assert offices["visa-city"].kind == "visa"
    assert offices["vehicle-city"].counters.first().items.get().code == "JJ-QR-001"


def _write(tmp_path: Path, name: str, text: str) -> Path:
    (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


GOOD = (DEFAULT_DIR / "crj-heping.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        (("'13:00', '17:00'", "'17:00', '13:00'"), "hours.weekday.1", "start must be earlier"),
        (("lunch: ['12:00', '13:00']", "lunch: ['11:30', '12:30']"), "hours.lunch", "overlaps"),
        (("capacity: 3", "capacity: 0"), "counters.0.items.0.capacity", "minimum"),
        (("kind: exit_entry", "kind: embassy"), "kind", "is not one of"),
        (("code: crj-heping", "code: crj-other"), "code", "file must be named"),
        (("- code: '02'", "- code: '01'"), "counters.1.code", "duplicate counter"),
    ],
)
def test_a_bad_file_is_reported_by_file_and_field(tmp_path, change, field, reason):
    _write(tmp_path, "crj-heping.yaml", GOOD.replace(*change, 1))
    files = read_offices(tmp_path)
    assert any(
        p.file == "crj-heping.yaml" and p.field == field and reason in p.reason
        for p in files.problems
    ), files.problems


def test_unknown_references_load_nothing(catalogue, tmp_path):
    _write(tmp_path, "crj-heping.yaml", GOOD.replace("CRJ-XK-003", "CRJ-XK-999"))
    with pytest.raises(CommandError, match="problem"):
        call_command("load_offices", dir=tmp_path, verbosity=0)
    assert not Office.objects.exists()
