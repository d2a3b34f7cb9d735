"""A few synthetic cases in different states, so the demo workbench and 我的办件 are not empty.

Idempotent: each demo case has a fixed submission key. Runs after demo_accounts.
"""

import uuid

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from servicehall.accounts.models import User
from servicehall.cases import workflow
from servicehall.cases.models import Case
from servicehall.catalog.models import ServiceItem

NAMESPACE = uuid.UUID("5e7b1c1e-0000-4000-8000-000000000042")
# (key, item, form data, steps: (staff police number or "citizen", verb, kwargs))
DEMO_CASES = (
    (
        "submitted",
        "HZ-QR-001",
        {"child_name": "王小宝", "child_gender": "女", "birth_date": "2026-11-18"},
        (),
    ),
    (
        "correction",
        "HZ-QR-002",
        {},
        (
            (
                "900001",
                "request_correction",
                {"items": ["毕业证书复印件不清晰，请重新上传", "缺少就业协议书"]},
            ),
        ),
    ),
    ("under_review", "HZ-QR-009", {}, (("900001", "accept", {}), ("900002", "start_review", {}))),
    (
        "completed",
        "HZ-GG-005",
        {},
        (
            ("900001", "accept", {}),
            ("900002", "start_review", {}),
            ("900003", "approve", {}),
            ("900003", "complete", {}),
        ),
    ),
)


class Command(BaseCommand):
    help = "Create a few demo cases for the demo citizen (idempotent)."

    def handle(self, *args, **options):
        try:
            citizen = User.objects.get(citizen_profile__mobile="13800000001")
            staff = {
                u.username: u
                for u in User.objects.filter(username__in=["900001", "900002", "900003"])
            }
        except User.DoesNotExist as exc:
            raise CommandError("run demo_accounts first") from exc
        created = 0
        for name, code, data, steps in DEMO_CASES:
            key = uuid.uuid5(NAMESPACE, name)
            if Case.objects.filter(submission_key=key).exists():
                continue
            with transaction.atomic():
                item = ServiceItem.active.get(code=code)
                case = workflow.start_application(actor=citizen, item=item, submission_key=key)
                case = workflow.apply(actor=citizen, case=case, data=data)
                case = workflow.submit(actor=citizen, case=case, flow=item.flow)
                for police_number, verb, kwargs in steps:
                    case = getattr(workflow, verb)(actor=staff[police_number], case=case, **kwargs)
            created += 1
        if options["verbosity"]:
            self.stdout.write(f"Demo cases: {created} created")
