"""Demo cash escorts: a duty dispatcher at 和平区演示派出所 (900031) and a supervisor of the
和平区 branch (900032), same password and TOTP secret as the other demo staff; three months
of synthetic escorts for the demo citizen and the demo enterprise agent (completed, declined,
cancelled), and two coming ones (one awaiting an answer, one accepted), all made through the
workflow verbs at the times they would have happened.

Idempotent: every demo request has a fixed client token. Runs after demo_accounts.
"""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

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
from servicehall.accounts.models import Department, District, Enterprise, Role, Station, User
from servicehall.escorts import workflow
from servicehall.escorts.models import EscortRequest

STATION_CODE = "210102-D01"
ROUTES = (
    ("中国工商银行沈阳和平支行", "和平区南京北街100号", "和平区太原街50号演示商场财务室"),
    ("中国建设银行沈阳三好街支行", "和平区三好街8号", "和平区文化路3号演示公司"),
    ("演示超市有限公司", "和平区中华路66号", "和平区北三经街20号演示银行网点"),
)


def _months_back(day, months):
    """The first day of the month `months` before `day`'s month."""
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def _at(day, hour, minute=0):
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


class Command(BaseCommand):
    help = "Make a duty dispatcher, a supervisor and a few months of synthetic escorts."

    def handle(self, *args, **options):
        station = Station.objects.filter(code=STATION_CODE).first()
        citizen = User.objects.filter(citizen_profile__mobile=CITIZEN["mobile"]).first()
        agent = User.objects.filter(citizen_profile__mobile=AGENT["mobile"]).first()
        if station is None or citizen is None or agent is None:
            raise CommandError("run demo_accounts first")
        dispatcher, _supervisor = self._staff(station)
        enterprise = Enterprise.objects.filter(memberships__user=agent).first()
        today = timezone.localdate()
        made = 0
        for n, (months_ago, outcome) in enumerate(
            (m, o) for m in (3, 2, 1) for o in ("completed", "completed", "declined", "cancelled")
        ):
            day = _months_back(today, months_ago).replace(day=5 + 4 * (n % 4))
            made += self._one(
                f"demo-escort-{months_ago}-{n % 4}",
                agent if n % 2 else citizen,
                enterprise if n % 2 else None,
                day,
                outcome,
                dispatcher,
                amount=Decimal(300000 + 150000 * n),
            )
        made += self._one(
            "demo-escort-next-1",
            citizen,
            None,
            today + timedelta(days=3),
            "requested",
            dispatcher,
            amount=Decimal("800000"),
            now=timezone.now(),
        )
        made += self._one(
            "demo-escort-next-2",
            agent,
            enterprise,
            today + timedelta(days=5),
            "accepted",
            dispatcher,
            amount=Decimal("1200000"),
            now=timezone.now(),
        )
        if options["verbosity"]:
            self.stdout.write(f"Demo escorts: {made} created")

    def _one(self, token, actor, enterprise, day, outcome, dispatcher, *, amount, now=None):
        if EscortRequest.objects.filter(client_token=token).exists():
            return 0
        asked = now or _at(day - timedelta(days=2), 9, 30)
        organisation, pickup, destination = ROUTES[len(token) % len(ROUTES)]
        escort = workflow.request_escort(
            actor=actor,
            client_token=token,
            date=day,
            start_time=time(10, 0),
            end_time=time(11, 30),
            district=District.objects.get(code="210102"),
            pickup_address=pickup,
            destination_address=destination,
            amount=amount,
            contact_phone=actor.citizen_profile.mobile,
            organisation=enterprise.name if enterprise else organisation,
            enterprise=enterprise,
            now=asked,
        ).escort
        later = asked + timedelta(minutes=40)
        if outcome == "requested":
            return 1
        if outcome == "declined":
            workflow.decline(
                actor=dispatcher,
                escort=escort,
                reason="该时段警力已全部安排，请改约其他时间。",
                now=asked + timedelta(hours=3),  # answered late: the figures show it
            )
            return 1
        workflow.accept(actor=dispatcher, escort=escort, now=later)
        if outcome == "accepted":
            return 1
        if outcome == "cancelled":
            workflow.cancel(actor=actor, escort=escort, reason="取款计划变更", now=later)
            return 1
        workflow.dispatch(
            actor=dispatcher,
            escort=escort,
            officers="演示民警甲、演示民警乙",
            vehicle="辽A·演示01警",
            now=_at(day - timedelta(days=1), 16),
        )
        workflow.start(actor=dispatcher, escort=escort, now=_at(day, 9, 50))
        workflow.complete(
            actor=dispatcher,
            escort=escort,
            actual_start=_at(day, 10, 0),
            actual_end=_at(day, 10, 45),
            handed_over_amount=amount,
            confirmed=True,
            notes="按预定路线护送，款项当面清点交接无误。",
            now=_at(day, 11, 0),
        )
        return 1

    def _staff(self, station):
        department = Department.objects.filter(code="zhian").first()  # public order
        people = []
        for police_number, role, title, placement in (
            (
                "900031",
                Role.DISPATCHER,
                "派出所值班民警",
                {"station": station, "district": station.district},
            ),
            ("900032", Role.SUPERVISOR, "分局督导员", {"district": station.district}),
        ):
            user = User.objects.filter(username=police_number).first()
            if user is None:
                with transaction.atomic():
                    user = actions.create_staff(
                        actor=None,
                        police_number=police_number,
                        name=f"演示{role.label}",
                        password=STAFF_PASSWORD,
                        department=department,
                        title=title,
                        roles=[role],
                        **placement,
                    )
                    actions.enrol_totp(actor=None, user=user, key=DEMO_TOTP_KEY, name="demo")
                    actions.set_backup_codes(
                        actor=None, user=user, codes=backup_codes_for(police_number)
                    )
            people.append(user)
        return people
