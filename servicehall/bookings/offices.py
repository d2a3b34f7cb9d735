"""Offices, counters and hours as data: read and validate data/offices/*.yaml, then load them.

Like the catalogue loader (catalog/datafiles.py), every problem is reported as
(file, field, reason) and nothing is written unless every file is valid. Loading is
idempotent: offices and counters are matched by code and updated in place; a counter's item
list is replaced by the file's (slots already generated keep their length and capacity).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml
from django.db import transaction
from jsonschema import Draft202012Validator

from servicehall.catalog.datafiles import Problem, _field_path

SCHEMA_PATH = Path(__file__).with_name("office.schema.json")
DEFAULT_DIR = Path(__file__).with_name("data") / "offices"


@dataclass
class OfficeFiles:
    offices: list[dict] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def _check_windows(rel: str, name: str, windows: list[list[str]]):
    previous_end = -1
    for i, (start, end) in enumerate(windows):
        if _minutes(start) >= _minutes(end):
            yield Problem(rel, f"hours.{name}.{i}", f"{start}–{end}: the start must be earlier")
        if _minutes(start) < previous_end:
            yield Problem(rel, f"hours.{name}.{i}", "windows must be in order and not overlap")
        previous_end = _minutes(end)


def _check_office(rel: str, path: Path, data: dict, seen: dict[str, str]):
    """Rules JSON Schema cannot say: file name, uniqueness, time order, overlaps."""
    code = data["code"]
    if code in seen:
        yield Problem(rel, "code", f"duplicate of {seen[code]}")
    seen.setdefault(code, rel)
    if path.stem != code:
        yield Problem(rel, "code", f"file must be named {code}.yaml")
    hours = data["hours"]
    yield from _check_windows(rel, "weekday", hours["weekday"])
    if hours.get("weekend"):
        yield from _check_windows(rel, "weekend", hours["weekend"])
    lunch = hours.get("lunch")
    if lunch:
        yield from _check_windows(rel, "lunch", [lunch])
        start, end = _minutes(lunch[0]), _minutes(lunch[1])
        for window in hours["weekday"]:
            if start < _minutes(window[1]) and _minutes(window[0]) < end:
                yield Problem(rel, "hours.lunch", "the lunch hour overlaps the weekday hours")
    counter_codes = set()
    for c, counter in enumerate(data["counters"]):
        if counter["code"] in counter_codes:
            yield Problem(rel, f"counters.{c}.code", f"duplicate counter {counter['code']!r}")
        counter_codes.add(counter["code"])
        item_codes = [entry["item"] for entry in counter["items"]]
        if len(set(item_codes)) != len(item_codes):
            yield Problem(rel, f"counters.{c}.items", "an item is listed twice")


def read_offices(root: Path = DEFAULT_DIR) -> OfficeFiles:
    """Parse and validate every file; touches no database."""
    result = OfficeFiles()
    seen: dict[str, str] = {}
    paths = sorted(root.glob("*.yaml"))
    if not paths:
        result.problems.append(Problem(str(root), "", "no office files (*.yaml)"))
    for path in paths:
        rel = path.name
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            result.problems.append(Problem(rel, "", f"not readable YAML: {exc}"))
            continue
        if not isinstance(data, dict):
            result.problems.append(Problem(rel, "", "an office file must hold one mapping"))
            continue
        errors = sorted(_validator().iter_errors(data), key=lambda e: list(e.absolute_path))
        for error in errors:
            result.problems.append(Problem(rel, _field_path(error), error.message))
        if errors:
            continue
        result.problems.extend(_check_office(rel, path, data, seen))
        data["_file"] = rel
        result.offices.append(data)
    return result


def check_references(files: OfficeFiles) -> list[Problem]:
    """References to the database: departments, districts, catalogue items (active ones)."""
    from servicehall.accounts.models import Department, District
    from servicehall.catalog.models import ServiceItem

    departments = set(Department.objects.values_list("code", flat=True))
    districts = set(District.objects.values_list("code", flat=True))
    items = set(ServiceItem.active.values_list("code", flat=True))
    problems = []
    for data in files.offices:
        rel = data["_file"]
        if data["department"] not in departments:
            problems.append(
                Problem(rel, "department", f"unknown department {data['department']!r}")
            )
        if data.get("district") and data["district"] not in districts:
            problems.append(Problem(rel, "district", f"unknown district {data['district']!r}"))
        for c, counter in enumerate(data["counters"]):
            for i, entry in enumerate(counter["items"]):
                if entry["item"] not in items:
                    problems.append(
                        Problem(
                            rel,
                            f"counters.{c}.items.{i}.item",
                            f"no active catalogue item {entry['item']!r} (run load_catalog?)",
                        )
                    )
    return problems


@dataclass
class LoadReport:
    offices: int = 0
    counters: int = 0
    counter_items: int = 0

    def __str__(self) -> str:
        return (
            f"{self.offices} offices, {self.counters} counters, {self.counter_items} counter items"
        )


@transaction.atomic
def load_offices(files: OfficeFiles) -> LoadReport:
    """Write validated files to the database (call check_references first)."""
    from servicehall.accounts.models import Department, District
    from servicehall.catalog.models import ServiceItem

    from .models import Counter, CounterItem, Office

    departments = {d.code: d for d in Department.objects.all()}
    districts = {d.code: d for d in District.objects.all()}
    items = {i.code: i for i in ServiceItem.objects.all()}
    report = LoadReport()
    for data in files.offices:
        office, _ = Office.objects.update_or_create(
            code=data["code"],
            defaults={
                "name": data["name"],
                "kind": data["kind"],
                "department": departments[data["department"]],
                "district": districts.get(data.get("district") or ""),
                "address": data.get("address", ""),
                "phone": data.get("phone", ""),
                "hours": {
                    "weekday": data["hours"]["weekday"],
                    "lunch": data["hours"].get("lunch"),
                    "weekend": data["hours"].get("weekend"),
                },
                "is_active": data.get("active", True),
            },
        )
        report.offices += 1
        codes = []
        for entry in data["counters"]:
            counter, _ = Counter.objects.update_or_create(
                office=office,
                code=entry["code"],
                defaults={"name": entry["name"], "is_active": entry.get("active", True)},
            )
            codes.append(counter.code)
            report.counters += 1
            wanted = {e["item"]: e for e in entry["items"]}
            CounterItem.objects.filter(counter=counter).exclude(
                item__code__in=list(wanted)
            ).delete()
            for code, e in wanted.items():
                CounterItem.objects.update_or_create(
                    counter=counter,
                    item=items[code],
                    defaults={"slot_minutes": e["slot_minutes"], "capacity": e["capacity"]},
                )
                report.counter_items += 1
        # A counter removed from the file stops serving (its history stays).
        Counter.objects.filter(office=office).exclude(code__in=codes).update(is_active=False)
    return report
