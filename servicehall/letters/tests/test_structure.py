"""Letter and reply statuses change in workflow.py only; intake creates letters with the
model's default status."""

import ast
from pathlib import Path

from servicehall.cases.tests.test_structure import _writes_status

LETTERS = Path(__file__).resolve().parents[1]


def test_only_the_workflow_module_writes_letter_status():
    offenders = {}
    for path in LETTERS.rglob("*.py"):
        if path.name == "workflow.py" or "tests" in path.parts or "migrations" in path.parts:
            continue
        lines = _writes_status(ast.parse(path.read_text(encoding="utf-8")))
        if lines:
            offenders[str(path.relative_to(LETTERS))] = lines
    assert offenders == {}


def test_modules_stay_readable():
    long = {
        str(p.relative_to(LETTERS)): n
        for p in LETTERS.rglob("*.py")
        if "migrations" not in p.parts
        and (n := len(p.read_text(encoding="utf-8").splitlines())) > 800
    }
    assert long == {}
