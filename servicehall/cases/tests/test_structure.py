"""Case status changes in one module: a guard against a second writer appearing."""

import ast
from pathlib import Path

from servicehall.core.tests.structure import status_writers, writes_status

CASES = Path(__file__).resolve().parents[1]


def test_only_the_workflow_module_writes_case_status():
    assert status_writers(CASES, {"workflow.py"}) == {}


def test_the_guard_sees_a_status_write():
    assert writes_status(ast.parse("case.status = 'approved'")) == [1]
    assert writes_status(ast.parse("Case.objects.filter(pk=1).update(status='x')")) == [1]
