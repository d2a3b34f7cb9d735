"""Booking statuses change in workflow.py only; queue ticket statuses in queue.py only."""

from pathlib import Path

from servicehall.core.tests.structure import long_modules, status_targets, status_writers

BOOKINGS = Path(__file__).resolve().parents[1]
WRITERS = {"workflow.py", "queue.py"}


def test_only_the_workflow_and_queue_modules_write_statuses():
    assert status_writers(BOOKINGS, WRITERS) == {}


def test_the_queue_changes_bookings_only_through_workflow_transition():
    assert status_targets(BOOKINGS / "queue.py") == {"ticket.status"}


def test_modules_stay_readable():
    assert long_modules(BOOKINGS) == {}
