"""Structure checks every app's tests use: state changes only through the app's module of
verbs, and no module past ~800 lines. Helpers, not tests (each app states its own rule)."""

import ast
from pathlib import Path

MAX_LINES = 800
_WRITES = {"update", "create", "update_or_create", "get_or_create"}


def writes_status(tree: ast.AST) -> list[int]:
    """Lines that write a `status`: `x.status = …` / `+=`, or `.update(status=…)` and the
    other query-set writes with a status keyword."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for part in ast.walk(target):
                    if isinstance(part, ast.Attribute) and part.attr == "status":
                        lines.append(node.lineno)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in _WRITES
            and any(keyword.arg == "status" for keyword in node.keywords)
        ):
            lines.append(node.lineno)
    return lines


def status_writers(app: Path, allowed: set[str]) -> dict[str, list[int]]:
    """{module: lines} of the app's modules, other than `allowed` (file names), tests and
    migrations, that write a status."""
    offenders = {}
    for path in app.rglob("*.py"):
        if path.name in allowed or "tests" in path.parts or "migrations" in path.parts:
            continue
        lines = writes_status(ast.parse(path.read_text(encoding="utf-8")))
        if lines:
            offenders[str(path.relative_to(app))] = lines
    return offenders


def status_targets(module: Path) -> set[str]:
    """The `….status` expressions a module assigns to, e.g. {"ticket.status"}."""
    tree = ast.parse(module.read_text(encoding="utf-8"))
    return {
        ast.unparse(target)
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Attribute) and target.attr == "status"
    }


def long_modules(app: Path) -> dict[str, int]:
    """{module: lines} of the app's modules (migrations aside) past MAX_LINES."""
    return {
        str(p.relative_to(app)): n
        for p in app.rglob("*.py")
        if "migrations" not in p.parts
        and (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
