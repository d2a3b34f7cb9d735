"""Case status changes in one module: a guard against a second writer appearing."""

import ast
from pathlib import Path

CASES = Path(__file__).resolve().parents[1]


def _writes_status(tree: ast.AST) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        # case.status = ...
        if isinstance(node, ast.Assign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for part in ast.walk(target):
                    if isinstance(part, ast.Attribute) and part.attr == "status":
                        lines.append(node.lineno)
        # ....update(status=...) / .create(status=...)
        writes = {"update", "create", "update_or_create", "get_or_create"}
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in writes
            and any(keyword.arg == "status" for keyword in node.keywords)
        ):
            lines.append(node.lineno)
    return lines


def test_only_the_workflow_module_writes_case_status():
    offenders = {}
    for path in CASES.rglob("*.py"):
        if path.name == "workflow.py" or "tests" in path.parts or "migrations" in path.parts:
            continue
        lines = _writes_status(ast.parse(path.read_text(encoding="utf-8")))
        if lines:
            offenders[str(path.relative_to(CASES))] = lines
    assert offenders == {}


def test_the_guard_sees_a_status_write():
    assert _writes_status(ast.parse("case.status = 'approved'")) == [1]
    assert _writes_status(ast.parse("Case.objects.filter(pk=1).update(status='x')")) == [1]
