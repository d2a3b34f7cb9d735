"""Run on a timer (`make run`, `make worker`): generate slots through one day past the
release horizon, so each day's slots exist before their release moment (they become
bookable exactly at it, see slots.py), and record no-shows for slots that have ended."""

from django.core.management.base import BaseCommand

from servicehall.bookings import slots, workflow


class Command(BaseCommand):
    help = "Generate slots ahead of their release moment and record no-shows (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-sweep", action="store_true", help="generate slots only; record no no-shows"
        )

    def handle(self, *args, no_sweep: bool, **options):
        report = slots.generate_ahead()
        no_shows = 0 if no_sweep else workflow.sweep_no_shows()
        if options["verbosity"]:
            self.stdout.write(f"Slots: {report}; no-shows recorded: {no_shows}")
