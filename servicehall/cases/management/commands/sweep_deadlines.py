from datetime import date

from django.core.management.base import BaseCommand

from servicehall.cases.deadlines import sweep
from servicehall.cases.workflow import today
from servicehall.letters.deadlines import sweep as sweep_letters


class Command(BaseCommand):
    help = (
        "Raise time-limit warnings and accountability records for cases, reply warnings and "
        "escalations for letters (idempotent; run on a timer)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--date", type=date.fromisoformat, help="sweep as of this day (default: today)"
        )

    def handle(self, *args, date=None, **options):
        day = date or today()
        report = sweep(day)
        letters_report = sweep_letters(day)
        if options["verbosity"]:
            self.stdout.write(str(report))
            self.stdout.write(str(letters_report))
