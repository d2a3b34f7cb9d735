"""Register an outside platform (民心网, an Open311 client) and print a new API key for it.

    manage.py issue_platform_key minxin --name 民心网

The key is printed once and stored only as its hash; running the command again replaces
the key (the old one stops working). --deactivate turns a platform off instead.
"""

from django.core.management.base import BaseCommand

from servicehall.letters import platforms
from servicehall.letters.models import OutsidePlatform


class Command(BaseCommand):
    help = "Create or update an outside platform and print a new API key (shown once)."

    def add_arguments(self, parser):
        parser.add_argument("code", help="the platform's code, e.g. minxin")
        parser.add_argument("--name", help="its name (required for a new platform)")
        parser.add_argument("--deactivate", action="store_true", help="turn the platform off")

    def handle(self, *args, code, name=None, deactivate=False, **options):
        platform = OutsidePlatform.objects.filter(code=code).first()
        if deactivate:
            if platform is not None:
                OutsidePlatform.objects.filter(pk=platform.pk).update(active=False)
            self.stdout.write(f"{code}: deactivated")
            return
        if platform is None:
            platform = OutsidePlatform.objects.create(code=code, name=name or code)
        elif name or not platform.active:
            platform.name = name or platform.name
            platform.active = True
            platform.save(update_fields=["name", "active"])
        key = platforms.issue_key(actor=None, platform=platform)
        self.stdout.write(f"{platform.code} ({platform.name}) API key, shown once: {key}")
