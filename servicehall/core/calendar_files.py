"""Reading the holiday-arrangement files (core/calendar/cn-YYYY.yaml) into the calendar tables.

A file is the transcription of one State Council notice; loading it makes the year
confirmed, with the notice number as its source. Loading is idempotent: a year already in
the database with the same days is left alone, and one that differs (an administrator
edited it, or the file was corrected) is only overwritten with `replace=True`, so a
routine `make demo-data` can never silently undo an administrator's work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import yaml
from django.db import transaction
from django.utils import timezone

from . import audit, workdays
from .models import CalendarDay, CalendarYear

CALENDAR_DIR = Path(__file__).resolve().parent / "calendar"

HOLIDAY = CalendarDay.Kind.HOLIDAY
WORKDAY = CalendarDay.Kind.WORKDAY


class CalendarFileError(ValueError):
    pass


@dataclass
class YearFile:
    year: int
    source: str
    title: str
    path: Path | None = None
    # date -> (kind, name)
    days: dict[date, tuple[str, str]] = field(default_factory=dict)


def default_files() -> list[Path]:
    return sorted(CALENDAR_DIR.glob("cn-*.yaml"))


def read_year_file(path: Path) -> YearFile:
    """Parse and check one file; raise CalendarFileError naming the file and the problem."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CalendarFileError(f"{path}: {exc}") from exc

    def fail(message):
        raise CalendarFileError(f"{path}: {message}")

    if not isinstance(data, dict) or not isinstance(data.get("year"), int):
        fail("expected a mapping with an integer `year`")
    if not str(data.get("source") or "").strip():
        fail("`source` (the notice number) is required")
    result = YearFile(
        year=data["year"], source=str(data["source"]).strip(), title=str(data.get("title") or "")
    )
    result.path = Path(path)

    def add(day, kind, name):
        if not isinstance(day, date):
            fail(f"{name}: {day!r} is not a date (write YYYY-MM-DD)")
        if day.year != result.year:
            fail(f"{name}: {day} is not in {result.year}")
        if day in result.days:
            fail(f"{day} appears twice")
        if kind == WORKDAY and day.weekday() < 5:
            fail(f"{name}: swapped working day {day} is not a Saturday or Sunday")
        result.days[day] = (kind, name)

    for entry in data.get("holidays") or []:
        name = str(entry.get("name") or "").strip()
        if not name:
            fail("every holiday needs a `name`")
        start, end = entry.get("start"), entry.get("end", entry.get("start"))
        if not isinstance(start, date) or not isinstance(end, date) or end < start:
            fail(f"{name}: `start`/`end` must be dates with start <= end")
        day = start
        while day <= end:
            add(day, HOLIDAY, name)
            day += timedelta(days=1)
        for work in entry.get("workdays") or []:
            add(work, WORKDAY, name)
    return result


def _days_in_db(calendar_year: CalendarYear) -> dict[date, tuple[str, str]]:
    return {d.date: (d.kind, d.name) for d in calendar_year.days.all()}


def describe_difference(db: dict, file: dict) -> list[str]:
    lines = []
    for day in sorted(set(db) | set(file)):
        if db.get(day) != file.get(day):
            lines.append(f"{day}: database {db.get(day) or '-'}, file {file.get(day) or '-'}")
    return lines


class CalendarConflict(Exception):
    def __init__(self, year: int, differences: list[str]):
        self.year, self.differences = year, differences
        super().__init__(f"{year} differs from the database: " + "; ".join(differences[:5]))


def load_year(year_file: YearFile, *, replace: bool = False, actor=None) -> str:
    """Load one parsed file as a confirmed year; return "created", "unchanged" or "replaced"."""
    with transaction.atomic():
        existing = CalendarYear.objects.select_for_update().filter(year=year_file.year).first()
        if existing is not None:
            differences = describe_difference(_days_in_db(existing), year_file.days)
            if existing.source != year_file.source:
                differences.insert(
                    0, f"source: database {existing.source!r}, file {year_file.source!r}"
                )
            if not existing.confirmed:
                differences.insert(0, "the year is not confirmed in the database")
            if not differences:
                return "unchanged"
            if not replace:
                raise CalendarConflict(year_file.year, differences)
            existing.days.all().delete()
            calendar_year, outcome = existing, "replaced"
        else:
            calendar_year, outcome = CalendarYear(year=year_file.year), "created"
        calendar_year.source = year_file.source
        calendar_year.confirmed = True
        calendar_year.confirmed_by = actor if getattr(actor, "is_authenticated", False) else None
        calendar_year.confirmed_at = timezone.now()
        calendar_year.save()
        CalendarDay.objects.bulk_create(
            CalendarDay(calendar_year=calendar_year, date=day, kind=kind, name=name)
            for day, (kind, name) in sorted(year_file.days.items())
        )
        # bulk_create sends no signals; the year's save above did, but say it plainly.
        workdays.invalidate_cache()
        audit.record(
            actor=actor,
            actor_label="system:load_calendar",
            action="calendar.load",
            target=calendar_year,
            purpose=year_file.source,
            details={
                "outcome": outcome,
                "file": year_file.path.name if year_file.path else "",
                "holidays": sum(1 for k, _ in year_file.days.values() if k == HOLIDAY),
                "workdays": sum(1 for k, _ in year_file.days.values() if k == WORKDAY),
            },
        )
    return outcome
