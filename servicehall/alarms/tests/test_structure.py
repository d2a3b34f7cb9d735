"""Incident and unit statuses change in workflow.py only, SMS-thread statuses in sms.py."""

import ast
import inspect
from pathlib import Path

from servicehall.core.tests.structure import (
    long_modules,
    status_targets,
    status_writers,
    writes_status,
)

ALARMS = Path(__file__).resolve().parents[1]
WRITERS = {"workflow.py", "sms.py"}


def test_only_the_workflow_module_writes_statuses():
    assert status_writers(ALARMS, WRITERS) == {}


def test_the_guard_sees_a_status_write():
    assert writes_status(ast.parse("unit.status = 'available'")) == [1]
    assert writes_status(ast.parse("Unit.objects.filter(pk=1).update(status='x')")) == [1]


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
    assert long_modules(ALARMS) == {}


def test_sms_changes_incidents_only_through_workflow_transition():
    assert status_targets(ALARMS / "sms.py") == {"thread.status"}
