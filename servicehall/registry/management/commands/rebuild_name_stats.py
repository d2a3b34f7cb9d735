import time

from django.core.management.base import BaseCommand

from servicehall.registry import names


class Command(BaseCommand):
    help = "Recompute the same-name statistics from the registry (after a bulk import)."

    def handle(self, *args, **options):
        started = time.perf_counter()
        report = names.rebuild()
        if options["verbosity"]:
            self.stdout.write(f"{report} in {time.perf_counter() - started:.1f} s")
