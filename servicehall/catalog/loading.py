"""The one write path of the catalogue: data files → tables, in one transaction.

Idempotent: running it twice changes nothing the second time. An item whose file was removed is
deactivated, never deleted, because cases and bookings keep referring to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction

from servicehall.accounts import organisation
from servicehall.accounts.models import Department
from servicehall.core import audit

from .datafiles import Catalogue
from .models import LifeEvent, ServiceItem


@dataclass
class LoadReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    deactivated: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"{len(self.created)} created, {len(self.updated)} updated, "
            f"{self.unchanged} unchanged, {len(self.deactivated)} deactivated"
        )


def search_text_for(item: dict, department: dict) -> str:
    parts = [
        item["name"],
        item["name_en"],
        *item["keywords"],
        item["summary"],
        item["result"]["name"],
        department["name"],
        department["name_en"],
    ]
    return "\n".join(parts).lower()


def _item_columns(item: dict, department: Department, dept_doc: dict, source: str) -> dict:
    return {
        "name": item["name"],
        "name_en": item["name_en"],
        "department": department,
        "item_type": item["item_type"],
        "in_power_list": item["in_power_list"],
        "flow": item["flow"],
        "online_depth": item["online_depth"],
        "legal_days": item["time_limit"]["legal_days"],
        "legal_unit": item["time_limit"].get("legal_unit", "working_days"),
        "promised_days": item["time_limit"]["promised_days"],
        "free_of_charge": item["fees"]["free"],
        "channels": item["channels"],
        "document": item,
        "search_text": search_text_for(item, dept_doc),
        "source_file": source,
        "is_active": True,
    }


def _sync_life_events(rows: list[dict]) -> dict[str, LifeEvent]:
    by_code = {}
    for position, row in enumerate(rows):
        by_code[row["code"]], _ = LifeEvent.objects.update_or_create(
            code=row["code"],
            defaults={"name": row["name"], "name_en": row["name_en"], "position": position},
        )
    return by_code


@transaction.atomic
def load_catalogue(catalogue: Catalogue, *, actor=None) -> LoadReport:
    if not catalogue.ok:
        raise ValueError("refusing to load a catalogue with problems")
    departments = organisation.sync_departments(Department, catalogue.departments)
    events = _sync_life_events(catalogue.life_events)
    dept_docs = {d["code"]: d for d in catalogue.departments}

    report = LoadReport()
    existing = {item.code: item for item in ServiceItem.objects.prefetch_related("life_events")}
    for doc in catalogue.items:
        code = doc["code"]
        source = f"{doc['department']}/{code}.yaml"
        columns = _item_columns(
            doc, departments[doc["department"]], dept_docs[doc["department"]], source
        )
        wanted_events = sorted(doc["life_events"])
        item = existing.get(code)
        if item is None:
            item = ServiceItem.objects.create(code=code, **columns)
            report.created.append(code)
        elif _differs(item, columns, wanted_events):
            for name, value in columns.items():
                setattr(item, name, value)
            item.save()
            report.updated.append(code)
        else:
            report.unchanged += 1
            continue
        item.life_events.set([events[e] for e in wanted_events])

    loaded = {doc["code"] for doc in catalogue.items}
    gone = [code for code, item in existing.items() if code not in loaded and item.is_active]
    ServiceItem.objects.filter(code__in=gone).update(is_active=False)
    report.deactivated = gone

    if report.created or report.updated or report.deactivated:
        audit.record(
            actor=actor,
            action="catalog.load",
            target_repr="service catalogue",
            details={
                "created": report.created,
                "updated": report.updated,
                "deactivated": report.deactivated,
            },
        )
    return report


def _differs(item: ServiceItem, columns: dict, wanted_events: list[str]) -> bool:
    if sorted(e.code for e in item.life_events.all()) != wanted_events:
        return True
    if item.department_id != columns["department"].pk:
        return True
    return any(
        getattr(item, name) != value for name, value in columns.items() if name != "department"
    )
