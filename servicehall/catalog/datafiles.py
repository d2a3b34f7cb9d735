"""Reads and validates the catalogue's data files (items/**.yaml) without touching the database.

Every problem is reported as (file, field, reason) so whoever edits a file can fix it at once.
The loader command writes to the database only when the whole catalogue is valid.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml
from jsonschema import Draft202012Validator

SCHEMA_PATH = Path(__file__).with_name("item.schema.json")
DEFAULT_DIR = Path(__file__).with_name("items")


@dataclass(frozen=True)
class Problem:
    file: str
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.field or '(file)'}: {self.reason}"


@dataclass
class Catalogue:
    departments: list[dict]
    life_events: list[dict]
    items: list[dict]
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return not self.problems


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


def _field_path(error) -> str:
    return ".".join(str(part) for part in error.absolute_path) or (
        # A missing property is reported against its parent: name the property itself.
        error.message.split("'")[1] if error.validator == "required" else ""
    )


def _read_yaml(path: Path, root: Path, problems: list[Problem]):
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        problems.append(Problem(str(path.relative_to(root)), "", f"not readable YAML: {exc}"))
        return None


def read_catalogue(root: Path = DEFAULT_DIR) -> Catalogue:
    problems: list[Problem] = []
    departments = _read_yaml(root / "departments.yaml", root, problems) or []
    life_events = _read_yaml(root / "life_events.yaml", root, problems) or []
    dept_by_code = {d["code"]: d for d in departments}
    event_codes = {e["code"] for e in life_events}

    items: list[dict] = []
    seen_codes: dict[str, str] = {}
    for path in sorted(root.glob("*/*.yaml")):
        rel = str(path.relative_to(root))
        data = _read_yaml(path, root, problems)
        if data is None:
            continue
        if not isinstance(data, dict):
            problems.append(Problem(rel, "", "an item file must hold one mapping"))
            continue
        errors = sorted(_validator().iter_errors(data), key=lambda e: list(e.absolute_path))
        for error in errors:
            problems.append(Problem(rel, _field_path(error), error.message))
        if errors:
            continue
        problems.extend(_check_consistency(rel, path, data, dept_by_code, event_codes, seen_codes))
        items.append(data)
    return Catalogue(departments, life_events, items, problems)


def _check_consistency(rel, path, item, dept_by_code, event_codes, seen_codes):
    """Rules JSON Schema cannot say: references, uniqueness, and limits that must agree."""
    code = item["code"]
    if code in seen_codes:
        yield Problem(rel, "code", f"duplicate of {seen_codes[code]}")
    seen_codes.setdefault(code, rel)
    if path.stem != code:
        yield Problem(rel, "code", f"file must be named {code}.yaml")
    dept = dept_by_code.get(item["department"])
    if dept is None:
        yield Problem(rel, "department", f"unknown department {item['department']!r}")
    else:
        if path.parent.name != dept["code"]:
            yield Problem(rel, "department", f"file must live in items/{dept['code']}/")
        if not code.startswith(dept["prefix"] + "-"):
            yield Problem(rel, "code", f"must start with {dept['prefix']}-")
    for i, event in enumerate(item["life_events"]):
        if event not in event_codes:
            yield Problem(rel, f"life_events.{i}", f"unknown life event {event!r}")
    limits = item["time_limit"]
    if limits["promised_days"] > limits["legal_days"]:
        yield Problem(rel, "time_limit.promised_days", "promised limit exceeds the legal limit")
    form_fields = {field["name"] for field in item.get("form", [])}
    if len(form_fields) != len(item.get("form", [])):
        yield Problem(rel, "form", "field names must be unique")
    for r, rule in enumerate(item.get("flow_rules", [])):
        for c, cond in enumerate(rule["when"]):
            if cond["field"] not in form_fields:
                yield Problem(
                    rel, f"flow_rules.{r}.when.{c}.field", f"no form field {cond['field']!r}"
                )


if __name__ == "__main__":  # python -m servicehall.catalog.datafiles: check without Django
    import sys
    from collections import Counter

    catalogue = read_catalogue()
    for problem in catalogue.problems:
        print(problem)
    per_department = Counter(item["department"] for item in catalogue.items)
    print(f"{len(catalogue.items)} valid items; by department: {dict(per_department)}")
    sys.exit(1 if catalogue.problems else 0)
