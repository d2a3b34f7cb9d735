"""The demo escorts command: staff, history and coming escorts through the verbs; idempotent."""

from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from servicehall.escorts import queries
from servicehall.escorts.models import EscortRequest


@pytest.mark.django_db
def test_demo_escorts_are_created_once(catalogue):
    call_command("demo_accounts", stdout=StringIO())
    with time_machine.travel("2026-09-14 09:00 +0800", tick=False):
        out = StringIO()
        call_command("demo_escorts", stdout=out)
        assert "Demo escorts: 14 created" in out.getvalue()
        statuses = set(EscortRequest.objects.values_list("status", flat=True))
        assert statuses == {"completed", "declined", "cancelled", "requested", "accepted"}
        months = [row.month for row in queries.figures(EscortRequest.objects.all(), 2026).months]
        assert months == [6, 7, 8, 9]
        out = StringIO()
        call_command("demo_escorts", stdout=out)
        assert "Demo escorts: 0 created" in out.getvalue()
    assert EscortRequest.objects.count() == 14
