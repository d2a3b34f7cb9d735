import uuid

import pytest
import time_machine

from servicehall.accounts.tests.factories import CitizenFactory, StaffFactory, department
from servicehall.letters import intake

# A Thursday; every letter below is received then unless a test says otherwise.
NOW = "2026-11-26 10:00 +0800"


def staff(department_code: str, *roles: str, **extra):
    return StaffFactory(roles=list(roles), department=department(department_code), **extra)


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    """Attachments go to a per-test directory, not var/media."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def calendar(catalogue):
    """The confirmed 2025/2026 working-day calendar (loaded with the catalogue)."""
    return catalogue


@pytest.fixture
def team(calendar):
    """Staff of the letters office, household registration, public order, the command centre
    and police inspection, each with an e-mail address."""

    def member(name, code, *roles, **extra):
        return staff(code, *roles, email=f"{name}@police.example", **extra)

    return {
        "triage": member("triage", "xinfang", "window_clerk"),
        "office_supervisor": member("office_supervisor", "xinfang", "supervisor"),
        "office_reviewer": member("office_reviewer", "xinfang", "reviewer"),
        "clerk": member("clerk", "huzheng", "window_clerk"),
        "reviewer": member("reviewer", "huzheng", "reviewer"),
        "leader": member("leader", "huzheng", "approver"),
        "supervisor": member("supervisor", "huzheng", "supervisor"),
        "other": member("other", "zhian", "window_clerk", "approver", "supervisor"),
        "operator": member("operator", "zhihui", "dispatcher"),
        "inspector": member("inspector", "ducha", "window_clerk"),
        "inspection_leader": member("inspection_leader", "ducha", "approver"),
        "inspection_supervisor": member("inspection_supervisor", "ducha", "supervisor"),
    }


@pytest.fixture
def citizen(db):
    return CitizenFactory(email="writer@example.com")


def receive(actor, *, at: str = NOW, **fields):
    """intake.receive with sensible defaults; returns the Receipt."""
    values = {
        "submission_key": uuid.uuid4(),
        "channel": "mailbox",
        "kind": "consultation",
        "subject": "户口迁移咨询",
        "body": "请问大学毕业后户口如何迁回原籍？",
    } | fields
    with time_machine.travel(at):
        return intake.receive(actor=actor, **values)


def letter(actor, **fields):
    return receive(actor, **fields).letter
