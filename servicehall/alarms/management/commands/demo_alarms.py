"""Demo emergency intake: units at stations around Shenyang with positions, a traffic and a
fire dispatcher (900041, 900042; same password and TOTP secret as the other demo staff; the
command-centre dispatcher 900005 of demo_accounts works all three desks), and a few
incidents made through the workflow verbs: a dispute with a patrol car on scene, a fire with
an engine on the way, a closed traffic accident, and a 12110 SMS conversation.

Idempotent: units are found by call sign, staff by police number, incidents by their demo
summary, the SMS by its fixed gateway message id. Runs after demo_accounts.
"""

from datetime import timedelta
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from servicehall.accounts import actions
from servicehall.accounts.demo import DEMO_TOTP_KEY, STAFF_PASSWORD, backup_codes_for
from servicehall.accounts.models import Department, District, Role, Station, User
from servicehall.alarms import sms, workflow
from servicehall.alarms.models import UNIT_KIND_DESK, Incident, Unit, UnitKind

CENTRE_DISPATCHER = "900005"
# call sign, name, kind, district code, base (fire and traffic brigades), lat, lon
UNITS = (
    ("HP-110-01", "和平巡逻1车", UnitKind.PATROL_CAR, "210102", "", "41.789700", "123.405000"),
    ("HP-110-02", "和平巡逻2车", UnitKind.PATROL_CAR, "210102", "", "41.772000", "123.431000"),
    ("SH-110-01", "沈河巡逻1车", UnitKind.PATROL_CAR, "210103", "", "41.796000", "123.458000"),
    ("HG-110-01", "皇姑巡逻1车", UnitKind.PATROL_CAR, "210105", "", "41.824000", "123.405000"),
    ("TX-110-01", "铁西巡逻1车", UnitKind.PATROL_CAR, "210106", "", "41.793000", "123.350000"),
    ("DD-110-01", "大东巡逻1车", UnitKind.PATROL_CAR, "210104", "", "41.805000", "123.480000"),
    (
        "HP-119-01",
        "和平消防1号车",
        UnitKind.FIRE_ENGINE,
        "210102",
        "和平消防救援站",
        "41.785000",
        "123.420000",
    ),
    (
        "SH-119-01",
        "沈河消防1号车",
        UnitKind.FIRE_ENGINE,
        "210103",
        "沈河消防救援站",
        "41.800000",
        "123.465000",
    ),
    (
        "TX-119-01",
        "铁西消防1号车",
        UnitKind.FIRE_ENGINE,
        "210106",
        "铁西消防救援站",
        "41.798000",
        "123.340000",
    ),
    (
        "HP-122-01",
        "和平交警1组",
        UnitKind.TRAFFIC_POLICE,
        "210102",
        "和平交警大队",
        "41.795000",
        "123.415000",
    ),
    (
        "SH-122-01",
        "沈河交警1组",
        UnitKind.TRAFFIC_POLICE,
        "210103",
        "沈河交警大队",
        "41.799000",
        "123.450000",
    ),
)
STAFF = (
    ("900041", "jiaojing", "交警指挥中心接警调度员"),
    ("900042", "xiaofang", "消防指挥中心接警调度员"),
)
DEMO_SMS_PHONE = "13800000041"


class Command(BaseCommand):
    help = "Make demo units, a traffic and a fire dispatcher, and a few incidents."

    def handle(self, *args, **options):
        centre = User.objects.filter(username=CENTRE_DISPATCHER).first()
        if centre is None or not District.objects.exists():
            raise CommandError("run demo_accounts first")
        units = self._units()
        self._staff()
        made = 0
        now = timezone.now()
        made += self._dispute(centre, units, now)
        made += self._fire(centre, units, now)
        made += self._accident(centre, units, now)
        made += self._sms(centre, now)
        self.stdout.write(f"Demo alarms: {len(units)} units, {made} incidents created")

    def _units(self) -> dict[str, Unit]:
        districts = {d.code: d for d in District.objects.all()}
        stations = {s.district.code: s for s in Station.objects.filter(code__endswith="-D01")}
        units = {}
        for code, name, kind, district, base, lat, lon in UNITS:
            police = kind == UnitKind.PATROL_CAR
            units[code], _created = Unit.objects.get_or_create(
                code=code,
                defaults={
                    "name": name,
                    "kind": kind,
                    "desk": UNIT_KIND_DESK[kind],
                    "district": districts[district],
                    "station": stations.get(district) if police else None,
                    "base": base,
                    "lat": Decimal(lat),
                    "lon": Decimal(lon),
                    "position_at": timezone.now(),
                },
            )
        return units

    def _staff(self) -> None:
        for police_number, department_code, title in STAFF:
            if User.objects.filter(username=police_number).exists():
                continue
            with transaction.atomic():
                user = actions.create_staff(
                    actor=None,
                    police_number=police_number,
                    name=f"演示{title[:2]}调度员",
                    password=STAFF_PASSWORD,
                    department=Department.objects.filter(code=department_code).first(),
                    title=title,
                    roles=[Role.DISPATCHER],
                )
                actions.enrol_totp(actor=None, user=user, key=DEMO_TOTP_KEY, name="demo")
                actions.set_backup_codes(
                    actor=None, user=user, codes=backup_codes_for(police_number)
                )

    @staticmethod
    def _exists(summary: str) -> bool:
        return Incident.objects.filter(summary=summary).exists()

    def _dispute(self, centre, units, now) -> int:
        summary = "（演示）饭店内两名男子发生口角并推搡，无人受伤。"
        if self._exists(summary):
            return 0
        start = now - timedelta(minutes=25)
        incident = workflow.create_from_call(
            actor=centre,
            line="110",
            caller_number="13800000042",
            caller_name="演示报警人",
            summary=summary,
            address="和平区太原北街演示饭店",
            lat="41.796000",
            lon="123.408000",
            district=District.objects.get(code="210102"),
            incident_type="dispute",
            received_at=start,
            now=start + timedelta(seconds=9),
        )
        car = units["HP-110-01"]
        if car.status == "available":
            workflow.assign_unit(
                actor=centre, incident=incident, unit=car, now=start + timedelta(seconds=70)
            )
            workflow.unit_status(
                actor=centre, unit=car, status="on_scene", now=start + timedelta(minutes=7)
            )
        return 1

    def _fire(self, centre, units, now) -> int:
        summary = "（演示）居民楼三楼厨房起火，有浓烟，楼内人员正在疏散。"
        if self._exists(summary):
            return 0
        start = now - timedelta(minutes=4)
        incident = workflow.create_from_call(
            actor=centre,
            line="119",
            caller_number="02400000041",
            summary=summary,
            address="沈河区演示小区5号楼",
            lat="41.801500",
            lon="123.461000",
            district=District.objects.get(code="210103"),
            incident_type="fire",
            priority=1,
            received_at=start,
            now=start + timedelta(seconds=6),
        )
        workflow.classify(
            actor=centre,
            incident=incident,
            desks=["fire", "police"],
            now=start + timedelta(seconds=40),
        )
        for code in ("SH-119-01", "SH-110-01"):
            if units[code].status == "available":
                workflow.assign_unit(
                    actor=centre,
                    incident=incident,
                    unit=units[code],
                    now=start + timedelta(seconds=55),
                )
        return 1

    def _accident(self, centre, units, now) -> int:
        summary = "（演示）两车追尾，无人受伤，车辆已挪至路边。"
        if self._exists(summary):
            return 0
        start = now - timedelta(hours=2)
        incident = workflow.create_from_call(
            actor=centre,
            line="122",
            caller_number="13800000043",
            summary=summary,
            address="和平区青年大街与十一纬路交叉口",
            lat="41.777000",
            lon="123.437000",
            district=District.objects.get(code="210102"),
            incident_type="accident",
            received_at=start,
            now=start + timedelta(seconds=12),
        )
        team = units["HP-122-01"]
        if team.status != "available":
            return 1
        workflow.assign_unit(
            actor=centre, incident=incident, unit=team, now=start + timedelta(minutes=1)
        )
        workflow.unit_status(
            actor=centre, unit=team, status="on_scene", now=start + timedelta(minutes=12)
        )
        workflow.unit_status(
            actor=centre, unit=team, status="returning", now=start + timedelta(minutes=40)
        )
        workflow.close(
            actor=centre, incident=incident, outcome="handled", now=start + timedelta(minutes=41)
        )
        workflow.unit_status(
            actor=centre, unit=team, status="available", now=start + timedelta(minutes=55)
        )
        return 1

    def _sms(self, centre, now) -> int:
        start = now - timedelta(minutes=3)
        first = sms.receive_sms(
            gateway="demo",
            message_id="demo-12110-1",
            phone=DEMO_SMS_PHONE,
            text="（演示）我是聋人，有人在楼道里砸我家的门，我很害怕。",
            received_at=start,
            now=start + timedelta(seconds=1),
        )
        if getattr(first, "repeated", False):
            return 0
        sms.ask_location(actor=centre, thread=first.thread, now=start + timedelta(seconds=50))
        sms.receive_sms(
            gateway="demo",
            message_id="demo-12110-2",
            phone=DEMO_SMS_PHONE,
            text="（演示）皇姑区演示街道8号2单元601",
            received_at=start + timedelta(seconds=90),
            now=start + timedelta(seconds=91),
        )
        return 1
