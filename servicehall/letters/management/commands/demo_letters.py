"""A handful of synthetic letters in different states, so the letters pages are not empty.

Idempotent: each demo letter has a fixed form token (or outside id). Runs after demo_accounts
and adds the letters staff that demo_accounts does not have (same password and TOTP secret
as the other demo staff): 900011 letters-office clerk (triage), 900012 letters-office
supervisor, 900013 police-inspection clerk, 900014 police-inspection leader.
"""

import uuid

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from servicehall.accounts import actions
from servicehall.accounts.demo import DEMO_TOTP_KEY, STAFF_PASSWORD, backup_codes_for
from servicehall.accounts.models import Department, Role, Station, User
from servicehall.letters import intake, workflow
from servicehall.letters.models import Letter, OutsidePlatform

NAMESPACE = uuid.UUID("5e7b1c1e-0000-4000-8000-000000000043")
LETTERS_STAFF = (
    ("900011", Role.WINDOW_CLERK, "xinfang", "信访受理员"),
    ("900012", Role.SUPERVISOR, "xinfang", "信访督办员"),
    ("900013", Role.WINDOW_CLERK, "ducha", "督察民警"),
    ("900014", Role.APPROVER, "ducha", "督察支队负责人"),
)
CITIZEN_MOBILE = "13800000001"
# name: (actor, intake fields, steps (actor, verb, kwargs)). Actors: "citizen", "visitor"
# (not signed in), or a demo police number.
DEMO_LETTERS = {
    "received": (
        "citizen",
        {
            "channel": "mailbox",
            "kind": "consultation",
            "subject": "港澳通行证续签需要多长时间？",
            "body": "演示来信：请问港澳通行证再次签注需要几个工作日？",
        },
        (),
    ),
    "assigned": (
        "citizen",
        {
            "channel": "appeal",
            "kind": "suggestion",
            "subject": "建议户籍窗口周六延时服务",
            "body": "演示来信：上班族工作日难以请假，建议周六也开放户籍窗口。",
        },
        (("900011", "assign", {"department": "huzheng", "station": True}),),
    ),
    "handling": (
        "citizen",
        {
            "channel": "online110",
            "kind": "help",
            "subject": "小区门口路灯损坏夜间不安全",
            "body": "演示来信：小区门口路灯坏了一周，晚上回家很不安全，请协助联系修复。",
            "address": "沈阳市和平区演示路5号",
            "lat": "41.796700",
            "long": "123.429100",
        },
        (
            ("900011", "assign", {"department": "huzheng", "station": True}),
            ("900001", "draft_reply", {"body": "您好，已联系社区和路灯管理部门，正在维修。"}),
        ),
    ),
    "pending_approval": (
        "citizen",
        {
            "channel": "mailbox",
            "kind": "complaint",
            "subject": "户籍窗口排队时间过长",
            "body": "演示来信：周一上午在户籍窗口排队两个多小时。",
        },
        (
            ("900011", "assign", {"department": "huzheng", "station": True}),
            ("900001", "draft_reply", {"body": "您好，已增开窗口并推行网上预约，感谢监督。"}),
            ("900001", "submit_for_approval", {}),
        ),
    ),
    "replied_public": (
        "citizen",
        {
            "channel": "mailbox",
            "kind": "consultation",
            "subject": "毕业生户口如何迁回原籍？",
            "body": "演示来信：我今年大学毕业，户口在学校，想迁回原籍，需要什么材料？",
            "publish_consent": True,
        },
        (
            ("900011", "assign", {"department": "huzheng", "station": True}),
            ("900001", "draft_reply", {"body": "您好，凭毕业证和报到证到原籍派出所办理即可。"}),
            ("900001", "send_reply", {}),
            ("citizen", "rate", {"level": 5, "comment": "答复及时清楚"}),
            (
                "900003",
                "publish",
                {
                    "public_subject": "毕业生户口迁回原籍咨询",
                    "public_reply": "凭毕业证和报到证到原籍派出所办理即可。",
                },
            ),
        ),
    ),
    "anonymous_misconduct": (
        "visitor",
        {
            "channel": "misconduct",
            "kind": "report",
            "anonymous": True,
            "subject": "反映某窗口民警办事推诿",
            "body": "演示来信：某窗口民警以下班为由拒绝办理业务。",
            "subject_officer": "某派出所户籍窗口民警（演示）",
        },
        (("900013", "assign", {"department": "ducha"}),),
    ),
    "hotline": (
        "900005",
        {
            "channel": "hotline",
            "kind": "help",
            "subject": "老人走失求助",
            "body": "演示来电：家中老人外出未归，请求协助查找（非紧急，已报110）。",
            "contact_name": "钱演示",
            "contact_phone": "13800000011",
        },
        (),
    ),
    "withdrawn": (
        "citizen",
        {
            "channel": "mailbox",
            "kind": "consultation",
            "subject": "身份证丢失补办咨询",
            "body": "演示来信：身份证丢了怎么补办？",
        },
        (("citizen", "withdraw", {"reason": "已在办事指南中找到答案"}),),
    ),
    "merged": (
        "visitor",
        {
            "channel": "appeal",
            "kind": "suggestion",
            "subject": "希望户籍窗口周末开放",
            "body": "演示来信：建议周末开放户籍窗口。",
            "contact_name": "孙演示",
            "contact_phone": "13800000012",
        },
        (("900012", "merge_duplicate", {"into": "assigned"}),),
    ),
}


class Command(BaseCommand):
    help = "Create a few demo letters in different states (idempotent; after demo_accounts)."

    def handle(self, *args, **options):
        citizen = User.objects.filter(citizen_profile__mobile=CITIZEN_MOBILE).first()
        if citizen is None:
            raise CommandError("run demo_accounts first")
        staff = self._staff()
        station = Station.objects.filter(code="210102-D01").first()
        created = 0
        codes = {}
        for name, (who, fields, steps) in DEMO_LETTERS.items():
            key = uuid.uuid5(NAMESPACE, name)
            if fields.get("anonymous") or who != "citizen":
                codes[name] = intake.follow_up_code(key)
            if Letter.objects.filter(submission_key=key).exists():
                continue
            actors = {"citizen": citizen, "visitor": None, **staff}
            with transaction.atomic():
                receipt = intake.receive(actor=actors[who], submission_key=key, **fields)
                for actor, verb, kwargs in steps:
                    kwargs = self._resolve(kwargs, station)
                    code = codes.get(name) if actor == "citizen" and who != "citizen" else None
                    extra = {"code": code} if code else {}
                    getattr(workflow, verb)(
                        actor=actors[actor], letter=receipt.letter, **kwargs, **extra
                    )
            created += 1
        created += self._outside()
        if options["verbosity"]:
            self.stdout.write(f"Demo letters: {created} created")
            for name, code in codes.items():
                self.stdout.write(f"  follow-up code of the {name} letter: {code}")

    def _staff(self) -> dict:
        staff = {
            u.username: u for u in User.objects.filter(username__in=["900001", "900003", "900005"])
        }
        for police_number, role, department_code, title in LETTERS_STAFF:
            user = User.objects.filter(username=police_number).first()
            if user is None:
                with transaction.atomic():
                    user = actions.create_staff(
                        actor=None,
                        police_number=police_number,
                        name=f"演示{role.label}",
                        password=STAFF_PASSWORD,
                        department=Department.objects.get(code=department_code),
                        title=title,
                        roles=[role],
                    )
                    actions.enrol_totp(actor=None, user=user, key=DEMO_TOTP_KEY, name="demo")
                    actions.set_backup_codes(
                        actor=None, user=user, codes=backup_codes_for(police_number)
                    )
            staff[police_number] = user
        return staff

    def _resolve(self, kwargs: dict, station) -> dict:
        resolved = dict(kwargs)
        if "department" in resolved:
            resolved["department"] = Department.objects.get(code=resolved["department"])
        if resolved.get("station") is True:
            resolved["station"] = station
        if "into" in resolved:
            resolved["into"] = Letter.objects.get(
                submission_key=uuid.uuid5(NAMESPACE, resolved["into"])
            )
        return resolved

    def _outside(self) -> int:
        platform, _ = OutsidePlatform.objects.get_or_create(
            code="minxin", defaults={"name": "民心网（演示）"}
        )
        receipt = intake.import_outside(
            platform=platform,
            outside_id="MX-DEMO-0001",
            kind="complaint",
            subject="夜间施工噪音扰民",
            body="演示来信（民心网转来）：小区旁工地夜间施工，影响休息。",
            contact_name="周演示",
            contact_phone="13800000013",
        )
        return int(receipt.created)
