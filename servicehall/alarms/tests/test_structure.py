"""Incident and unit statuses change in workflow.py only, SMS-thread statuses in sms.py."""

import ast
import inspect
from pathlib import Path

from servicehall.cases.tests.test_structure import _writes_status

ALARMS = Path(__file__).resolve().parents[1]
WRITERS = {"workflow.py", "sms.py"}


def test_only_the_workflow_module_writes_statuses():
    offenders = {}
    for path in ALARMS.rglob("*.py"):
        if path.name in WRITERS or "tests" in path.parts or "migrations" in path.parts:
            continue
        lines = _writes_status(ast.parse(path.read_text(encoding="utf-8")))
        if lines:
            offenders[str(path.relative_to(ALARMS))] = lines
    assert offenders == {}


def test_the_guard_sees_a_status_write():
    assert _writes_status(ast.parse("unit.status = 'available'")) == [1]
    assert _writes_status(ast.parse("Unit.objects.filter(pk=1).update(status='x')")) == [1]


def test_verbs_take_a_keyword_only_actor_and_never_a_request():
    from servicehall.alarms import sms, workflow

    verbs = [
        getattr(module, name)
        for module in (workflow, sms)
        for name in module.__all__
        if inspect.isfunction(getattr(module, name))
    ]
    assert len(verbs) >= 14
    for verb in verbs:
        parameters = inspect.signature(verb).parameters
        assert "request" not in parameters, verb.__name__
        if verb.__name__ != "receive_sms":  # the gateway's: no user acts
            assert parameters["actor"].kind is inspect.Parameter.KEYWORD_ONLY, verb.__name__


def test_modules_stay_readable():
    long = {
        str(p.relative_to(ALARMS)): n
        for p in ALARMS.rglob("*.py")
        if "migrations" not in p.parts
        and (n := len(p.read_text(encoding="utf-8").splitlines())) > 800
    }
    assert long == {}


def test_sms_changes_incidents_only_through_workflow_transition():
    tree = ast.parse((ALARMS / "sms.py").read_text(encoding="utf-8"))
    assigned = {
        ast.unparse(target)
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Attribute) and target.attr == "status"
    }
    assert assigned == {"thread.status"}
