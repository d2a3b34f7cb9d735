from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from servicehall.bookings.offices import DEFAULT_DIR, check_references, load_offices, read_offices


class Command(BaseCommand):
    help = (
        "Validate the booking offices' data files and load them (idempotent; after load_catalog)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dir", type=Path, default=DEFAULT_DIR)
        parser.add_argument("--check", action="store_true", help="validate only, write nothing")

    def handle(self, *args, dir: Path, check: bool, **options):
        files = read_offices(dir)
        problems = files.problems or check_references(files)
        if problems:
            for problem in problems:
                self.stderr.write(str(problem))
            raise CommandError(f"{len(problems)} problem(s) in {dir}; nothing loaded")
        if check:
            self.stdout.write(f"OK: {len(files.offices)} offices are valid")
            return
        report = load_offices(files)
        if options["verbosity"]:
            self.stdout.write(f"Offices: {report}")
