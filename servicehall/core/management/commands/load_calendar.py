from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from servicehall.core.calendar_files import (
    CalendarConflict,
    CalendarFileError,
    default_files,
    load_year,
    read_year_file,
)


class Command(BaseCommand):
    help = (
        "Load holiday arrangements (core/calendar/cn-*.yaml, or the files given) as confirmed "
        "years. Idempotent; a year that differs from its file is only overwritten with --replace."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="*", type=Path, help="default: core/calendar/cn-*.yaml")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="overwrite years whose days in the database differ from the file",
        )

    def handle(self, *args, files, replace, **options):
        paths = files or default_files()
        if not paths:
            raise CommandError("no calendar files found")
        # Read everything first: a typo in one file should not leave the others half loaded.
        try:
            parsed = [read_year_file(path) for path in paths]
        except CalendarFileError as exc:
            raise CommandError(str(exc)) from exc
        conflicts = []
        for year_file in parsed:
            try:
                outcome = load_year(year_file, replace=replace)
            except CalendarConflict as exc:
                conflicts.append(exc)
                self.stderr.write(f"{exc.year}: differs from the database, not loaded:")
                for line in exc.differences:
                    self.stderr.write(f"  {line}")
                continue
            self.stdout.write(f"{year_file.year} ({year_file.source}): {outcome}")
        if conflicts:
            years = ", ".join(str(c.year) for c in conflicts)
            raise CommandError(f"not loaded: {years} (use --replace to overwrite)")
