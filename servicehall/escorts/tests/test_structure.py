"""Escort statuses change in workflow.py only."""

import ast
from pathlib import Path

from servicehall.core.tests.structure import long_modules, status_writers, writes_status

ESCORTS = Path(__file__).resolve().parents[1]


def test_only_the_workflow_module_writes_escort_status():
    assert status_writers(ESCORTS, {"workflow.py"}) == {}


def test_workflow_assigns_status_in_transition_only():
    tree = ast.parse((ESCORTS / "workflow.py").read_text(encoding="utf-8"))
    functions = {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and writes_status(node)
    }
    assert functions == {"transition"}


def test_modules_stay_readable():
    assert long_modules(ESCORTS) == {}
