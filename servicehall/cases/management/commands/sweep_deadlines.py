from datetime import date

from django.core.management.base import BaseCommand

from servicehall.cases.deadlines import sweep
from servicehall.cases.workflow import today


class Command(BaseCommand):
    help = "Raise time-limit warnings and accountability records (idempotent; run on a timer)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--date", type=date.fromisoformat, help="sweep as of this day (default: today)"
        )

    def handle(self, *args, date=None, **options):
        report = sweep(date or today())
        if options["verbosity"]:
            self.stdout.write(str(report))
