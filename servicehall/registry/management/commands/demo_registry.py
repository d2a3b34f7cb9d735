"""A small synthetic city in the registry for the demo (`make demo-data`), with the demo
citizen's own household, imported through the registry importer like any card file."""

import csv
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand

from servicehall.accounts import demo
from servicehall.registry import synthetic
from servicehall.registry.importer import HEADER, import_file
from servicehall.registry.models import Person

DEMO_HOUSEHOLD = "210102DEMO0001"


def demo_citizen_rows() -> list[dict]:
    """王演示 (the demo citizen) heading a household, so /my/registry/ has a record to show."""
    common = {
        "ethnicity": "汉族",
        "household_number": DEMO_HOUSEHOLD,
        "household_kind": "family",
        "address": "沈阳市和平区演示路1号1单元101",
        "district_code": "210102",
        "station_code": "",
        "station_name": "",
        "status": "registered",
        "former_names": "",
    }
    citizen = demo.CITIZEN
    return [
        {
            **common,
            "id_number": citizen["id_number"],
            "name": citizen["name"],
            "gender": "男",
            "birth_date": "1990-01-01",
            "relation": "户主",
            "phone": citizen["mobile"],
        }
    ]


class Command(BaseCommand):
    help = "Load a small synthetic city into the registry (skipped when it holds cards already)."

    def add_arguments(self, parser):
        parser.add_argument("--people", type=int, default=20_000)
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args, people, seed, **options):
        if Person.objects.exists():
            self.stdout.write(f"Demo registry: {Person.objects.count():,} cards already")
            return
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "demo-city.csv"
            synthetic.write_city(path, people, seed)
            with path.open("a", encoding="utf-8", newline="") as f:
                writer = csv.DictWriter(f, fieldnames=HEADER)
                writer.writerows(demo_citizen_rows())
            import_file(path, stdout=self.stdout)
        self.stdout.write(f"Demo registry: {Person.objects.count():,} cards")
