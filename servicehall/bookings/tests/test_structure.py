"""Booking statuses change in workflow.py only; queue ticket statuses in queue.py only."""

import ast
from pathlib import Path

from servicehall.cases.tests.test_structure import _writes_status

BOOKINGS = Path(__file__).resolve().parents[1]
WRITERS = {"workflow.py", "queue.py"}


def test_only_the_workflow_and_queue_modules_write_statuses():
    offenders = {}
    for path in BOOKINGS.rglob("*.py"):
        if path.name in WRITERS or "tests" in path.parts or "migrations" in path.parts:
            continue
        lines = _writes_status(ast.parse(path.read_text(encoding="utf-8")))
        if lines:
            offenders[str(path.relative_to(BOOKINGS))] = lines
    assert offenders == {}


def test_the_queue_changes_bookings_only_through_workflow_transition():
    tree = ast.parse((BOOKINGS / "queue.py").read_text(encoding="utf-8"))
    assigned = {
        ast.unparse(target)
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Attribute) and target.attr == "status"
    }
    assert assigned == {"ticket.status"}


def test_modules_stay_readable():
    long = {
        str(p.relative_to(BOOKINGS)): n
        for p in BOOKINGS.rglob("*.py")
        if "migrations" not in p.parts
        and (n := len(p.read_text(encoding="utf-8").splitlines())) > 800
    }
    assert long == {}
