from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from servicehall.catalog.datafiles import read_catalogue
from servicehall.catalog.loading import load_catalogue


class Command(BaseCommand):
    help = "Validate the catalogue data files and load them (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--dir", type=Path, default=settings.SERVICEHALL_CATALOG_DIR)
        parser.add_argument("--check", action="store_true", help="validate only, write nothing")

    def handle(self, *args, dir: Path, check: bool, **options):
        catalogue = read_catalogue(dir)
        if catalogue.problems:
            for problem in catalogue.problems:
                self.stderr.write(str(problem))
            raise CommandError(f"{len(catalogue.problems)} problem(s) in {dir}; nothing loaded")
        if check:
            self.stdout.write(f"OK: {len(catalogue.items)} items are valid")
            return
        report = load_catalogue(catalogue)
        if options["verbosity"]:
            self.stdout.write(f"Catalogue: {len(catalogue.items)} items ({report})")
