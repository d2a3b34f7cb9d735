"""Reference data of the police organisation: Shenyang's districts and the bureau's
departments (read from the catalogue's departments.yaml, which is the one list of them).

The functions take the model classes so that migrations can pass their historical models.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from django.conf import settings

# Districts, county-level cities and counties of Shenyang with their GB/T 2260 codes.
SHENYANG_DISTRICTS: tuple[tuple[str, str], ...] = (
    ("210102", "和平区"),
    ("210103", "沈河区"),
    ("210104", "大东区"),
    ("210105", "皇姑区"),
    ("210106", "铁西区"),
    ("210111", "苏家屯区"),
    ("210112", "浑南区"),
    ("210113", "沈北新区"),
    ("210114", "于洪区"),
    ("210115", "辽中区"),
    ("210123", "康平县"),
    ("210124", "法库县"),
    ("210181", "新民市"),
)


def departments_file() -> Path:
    return Path(settings.SERVICEHALL_CATALOG_DIR) / "departments.yaml"


def read_departments(path: Path | None = None) -> list[dict]:
    path = path or departments_file()
    with open(path, encoding="utf-8") as fh:
        rows = yaml.safe_load(fh) or []
    return [row for row in rows if isinstance(row, dict) and row.get("code")]


def sync_districts(District) -> int:
    for code, name in SHENYANG_DISTRICTS:
        District.objects.update_or_create(code=code, defaults={"name": name})
    return len(SHENYANG_DISTRICTS)


def sync_departments(Department, rows: list[dict] | None = None) -> dict[str, object]:
    """Create or update a Department per entry of departments.yaml (or the given rows), in
    file order; returns them by code."""
    rows = read_departments() if rows is None else rows
    by_code = {}
    for position, row in enumerate(rows):
        by_code[row["code"]], _ = Department.objects.update_or_create(
            code=row["code"],
            defaults={
                "prefix": row["prefix"],
                "name": row.get("name", row["code"]),
                "name_en": row.get("name_en", ""),
                "approval_powers": bool(row.get("approval_powers", False)),
                "position": position,
            },
        )
    return by_code
