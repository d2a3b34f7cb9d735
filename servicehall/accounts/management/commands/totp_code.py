from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from servicehall.accounts.models import User
from servicehall.accounts.signin import resolve_username


class Command(BaseCommand):
    help = "DEBUG only: print the current TOTP code of a user (username or police number)."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        if not settings.DEBUG:
            raise CommandError("totp_code only works with DEBUG=1 (it defeats the second factor).")
        user = User.objects.filter(username=resolve_username(username)).first()
        if user is None:
            raise CommandError(f"no user {username!r}")
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is None:
            raise CommandError(f"{username!r} has no TOTP device")
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        self.stdout.write(f"{totp.token():0{device.digits}d}")
