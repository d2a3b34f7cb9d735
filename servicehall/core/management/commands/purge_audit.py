from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from servicehall.core.audit import PurgeRefused, purge


class Command(BaseCommand):
    help = (
        "Delete audit entries older than AUDIT_RETENTION_DAYS (at least six months), keeping "
        "the remaining chain verifiable and recording the purge. Run it from a timer."
    )

    def handle(self, *args, **options):
        try:
            count = purge()
        except PurgeRefused as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"purged {count} entries older than {settings.AUDIT_RETENTION_DAYS} days")
