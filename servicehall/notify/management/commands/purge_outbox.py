from django.core.management.base import BaseCommand, CommandError

from servicehall.notify.conf import setting
from servicehall.notify.delivery import purge


class Command(BaseCommand):
    help = (
        "Delete sent, delivered and failed notifications older than NOTIFY_RETENTION_DAYS "
        "(they hold phone numbers and texts). Idempotent; run daily from a timer."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None)

    def handle(self, *args, days=None, **options):
        days = setting("NOTIFY_RETENTION_DAYS") if days is None else days
        if days < 1:
            raise CommandError("--days must be at least 1")
        deleted = purge(days=days)
        self.stdout.write(f"purge_outbox: deleted {deleted} messages older than {days} days")
