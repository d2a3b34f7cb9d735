"""The demo letters command: letters in several states, idempotent."""

from io import StringIO

import pytest
from django.core.management import call_command

from servicehall.letters.models import Letter
from servicehall.letters.queries import letter_for_code, public_letters


@pytest.mark.django_db
def test_demo_letters_are_created_once(calendar):
    call_command("demo_accounts", stdout=StringIO())
    out = StringIO()
    call_command("demo_letters", stdout=out)
    assert "Demo letters: 10 created" in out.getvalue()
    statuses = set(Letter.objects.values_list("status", flat=True))
    assert statuses == {
        "received",
        "assigned",
        "handling",
        "pending_approval",
        "replied",
        "withdrawn",
        "merged",
    }
    assert public_letters().count() == 1
    code = next(
        line.split(": ")[1]
        for line in out.getvalue().splitlines()
        if "anonymous_misconduct" in line
    )
    assert letter_for_code(code).channel == "misconduct"
    again = StringIO()
    call_command("demo_letters", stdout=again)
    assert "Demo letters: 0 created" in again.getvalue()
    assert Letter.objects.count() == 10
