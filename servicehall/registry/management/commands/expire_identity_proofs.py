from django.core.management.base import BaseCommand

from servicehall.registry.proofs import expire_due


class Command(BaseCommand):
    help = "Mark identity proofs past their validity as expired (idempotent; run on a timer)."

    def handle(self, *args, **options):
        count = expire_due()
        if options["verbosity"]:
            self.stdout.write(f"{count} identity proof(s) expired")
