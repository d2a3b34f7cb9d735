"""Escort statuses change in workflow.py only."""

import ast
from pathlib import Path

from servicehall.cases.tests.test_structure import _writes_status

ESCORTS = Path(__file__).resolve().parents[1]


def test_only_the_workflow_module_writes_escort_status():
    offenders = {}
    for path in ESCORTS.rglob("*.py"):
        if path.name == "workflow.py" or "tests" in path.parts or "migrations" in path.parts:
            continue
        lines = _writes_status(ast.parse(path.read_text(encoding="utf-8")))
        if lines:
            offenders[str(path.relative_to(ESCORTS))] = lines
    assert offenders == {}


def test_workflow_assigns_status_in_transition_only():
    tree = ast.parse((ESCORTS / "workflow.py").read_text(encoding="utf-8"))
    functions = {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and _writes_status(node)
    }
    assert functions == {"transition"}


def test_modules_stay_readable():
    long = {
        str(p.relative_to(ESCORTS)): n
        for p in ESCORTS.rglob("*.py")
        if "migrations" not in p.parts
        and (n := len(p.read_text(encoding="utf-8").splitlines())) > 800
    }
    assert long == {}
