from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from servicehall.accounts.demo import DEMO_TOTP_KEY, ensure_demo_accounts


class Command(BaseCommand):
    help = "Create (or reset) synthetic demo accounts and print their logins. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="run even though SECRET_KEY looks like a production key",
        )

    def handle(self, *args, force=False, **options):
        if not settings.SECRET_KEY.startswith("django-insecure") and not force:
            raise CommandError(
                "SECRET_KEY is set, so this looks like production: demo accounts have "
                "published passwords. Use --force if you really mean it."
            )
        logins = ensure_demo_accounts()
        out = self.stdout
        out.write("Demo accounts (synthetic data; sign in at /accounts/login/):")
        for login in logins:
            roles = f" [{', '.join(login.roles)}]" if login.roles else ""
            out.write(
                f"  {login.kind:<17} {login.login:<13} {login.password:<18} {login.name}{roles}"
            )
        staff = [login for login in logins if login.kind == "staff"]
        if staff:
            out.write("")
            out.write(f"Staff TOTP secret (hex, same for all demo staff): {DEMO_TOTP_KEY}")
            out.write(
                "Add to an authenticator app, or with DEBUG=1: manage.py totp_code <police number>"
            )
            for login in staff:
                out.write(f"  {login.login}: {login.otpauth_uri}")
                out.write(f"    backup codes (one use each): {' '.join(login.backup_codes)}")
