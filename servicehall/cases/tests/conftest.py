import uuid

import pytest

from servicehall.accounts.models import Department
from servicehall.accounts.tests.factories import CitizenFactory, StaffFactory
from servicehall.cases import workflow
from servicehall.catalog.models import ServiceItem


def staff(department_code: str, *roles: str, **extra):
    return StaffFactory(
        roles=list(roles), department=Department.objects.get(code=department_code), **extra
    )


@pytest.fixture
def huzheng_team(catalogue):
    """A clerk, reviewer, approver and supervisor of household registration."""
    return {
        role: staff("huzheng", role, email=f"{role}@police.example")
        for role in ("window_clerk", "reviewer", "approver", "supervisor")
    }


@pytest.fixture
def citizen(db):
    return CitizenFactory()


def draft(citizen, code="HZ-QR-001", data=None):
    item = ServiceItem.objects.get(code=code)
    case = workflow.start_application(actor=citizen, item=item, submission_key=uuid.uuid4())
    return workflow.save_draft(actor=citizen, case=case, data=data or {"child_name": "王小明"})


def submitted(citizen, code="HZ-QR-001", flow=None, data=None):
    case = draft(citizen, code, data)
    return workflow.submit(actor=citizen, case=case, flow=flow or case.item.flow)
