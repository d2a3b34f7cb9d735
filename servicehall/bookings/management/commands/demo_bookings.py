"""Demo bookings: offices loaded, the coming week's slots generated and released, a few
bookings (the demo citizen online, a phone booking by the demo dispatcher, a visa booking by
the demo enterprise agent) and a window clerk at the city exit-entry office (900021, same
password and TOTP secret as the other demo staff) and its supervisor (900022).

Idempotent: every demo booking has a fixed client token. Runs after demo_accounts.
"""

from datetime import timedelta

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from servicehall.accounts import actions
from servicehall.accounts.demo import (
    AGENT,
    CITIZEN,
    DEMO_TOTP_KEY,
    STAFF_PASSWORD,
    backup_codes_for,
)
from servicehall.accounts.models import Department, Enterprise, Role, User
from servicehall.bookings import slots, workflow
from servicehall.bookings.models import Booking, Office
from servicehall.core.idnumbers import make_id_number

BOOKINGS_STAFF = (
    ("900021", Role.WINDOW_CLERK, "出入境窗口民警"),
    ("900022", Role.SUPERVISOR, "出入境大厅负责人"),
)


class Command(BaseCommand):
    help = "Load offices, generate a week of released slots and make a few demo bookings."

    def handle(self, *args, **options):
        call_command("load_offices", verbosity=0)
        today = timezone.localdate()
        for office in Office.objects.filter(is_active=True):
            slots.generate_slots(office, today, today + timedelta(days=8))
        self._staff()
        citizen = User.objects.filter(citizen_profile__mobile=CITIZEN["mobile"]).first()
        agent = User.objects.filter(citizen_profile__mobile=AGENT["mobile"]).first()
        dispatcher = User.objects.filter(username="900005").first()
        if citizen is None or agent is None or dispatcher is None:
            raise CommandError("run demo_accounts first")
        enterprise = Enterprise.objects.filter(memberships__user=agent).first()
        made = 0
        plans = [
            ("demo-booking-online", citizen, "crj-city", "CRJ-XK-001", {}),
            (
                "demo-booking-phone",
                dispatcher,
                "crj-heping",
                "CRJ-XK-002",
                {
                    "person_name": "李来电",
                    "id_number": make_id_number("210102", today.replace(year=1970), 991),
                    "phone": "13800000009",
                },
            ),
        ]
        if enterprise is not None:
            plans.append(
                (
                    "demo-booking-visa",
                    agent,
                    "visa-city",
                    "CRJ-XK-006",
                    {
                        "enterprise": enterprise,
                        "person_name": "John Demo",
                        "passport_number": "E12345678",
                        "nationality": "GBR",
                    },
                )
            )
        for token, actor, office_code, item_code, extra in plans:
            if Booking.objects.filter(client_token=token).exists():
                continue
            slot = (
                slots.bookable(Office.objects.get(code=office_code).slots.all())
                .filter(item__code=item_code)
                .order_by("start")
                .first()
            )
            if slot is None:
                continue  # the coming week has no open slot (holidays): nothing to show
            try:
                workflow.book(actor=actor, slot=slot, client_token=token, **extra)
                made += 1
            except workflow.BookingError as exc:
                self.stderr.write(f"{token}: {exc}")
        if options["verbosity"]:
            self.stdout.write(f"Demo bookings: {made} created")

    def _staff(self) -> None:
        department = Department.objects.get(code="churujing")
        for police_number, role, title in BOOKINGS_STAFF:
            if User.objects.filter(username=police_number).exists():
                continue
            with transaction.atomic():
                user = actions.create_staff(
                    actor=None,
                    police_number=police_number,
                    name=f"演示{role.label}",
                    password=STAFF_PASSWORD,
                    department=department,
                    title=title,
                    roles=[role],
                )
                actions.enrol_totp(actor=None, user=user, key=DEMO_TOTP_KEY, name="demo")
                actions.set_backup_codes(
                    actor=None, user=user, codes=backup_codes_for(police_number)
                )
