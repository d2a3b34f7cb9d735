from django.core.management.base import BaseCommand, CommandError

from servicehall.accounts import actions
from servicehall.accounts.models import User
from servicehall.accounts.signin import resolve_username


class Command(BaseCommand):
    help = (
        "Give a user (username or police number) a new TOTP device and backup codes, and "
        "print them once. Replaces the user's previous TOTP device and backup codes."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--backup-codes", type=int, default=10)

    def handle(self, *args, username, backup_codes, **options):
        user = User.objects.filter(username=resolve_username(username)).first()
        if user is None:
            raise CommandError(f"no user {username!r}")
        device = actions.enrol_totp(actor=None, user=user)
        codes = actions.set_backup_codes(actor=None, user=user, count=backup_codes)
        self.stdout.write("Add this to an authenticator app (shown once):")
        self.stdout.write(f"  {device.config_url}")
        self.stdout.write(f"Backup codes, one use each: {' '.join(codes)}")
