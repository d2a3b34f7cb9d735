from django.core.management.base import BaseCommand, CommandError

from servicehall.core.audit import verify_chain


class Command(BaseCommand):
    help = "Walk the audit hash chain; report the first broken link and exit non-zero."

    def handle(self, *args, **options):
        report = verify_chain()
        if not report.ok:
            raise CommandError(
                f"audit chain broken at {report.broken} ({report.count} entries verified before it)"
            )
        self.stdout.write(f"OK, {report.count} entries")
        # Recording the head outside the database is what catches a wholesale rewrite.
        self.stdout.write(f"head: sequence {report.head_sequence} sha256 {report.head_hash}")
