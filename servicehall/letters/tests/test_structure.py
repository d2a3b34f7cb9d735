"""Letter and reply statuses change in workflow.py only; intake creates letters with the
model's default status."""

from pathlib import Path

from servicehall.core.tests.structure import long_modules, status_writers

LETTERS = Path(__file__).resolve().parents[1]


def test_only_the_workflow_module_writes_letter_status():
    assert status_writers(LETTERS, {"workflow.py"}) == {}


def test_modules_stay_readable():
    assert long_modules(LETTERS) == {}
