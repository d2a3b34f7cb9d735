"""The demo command: units, dispatchers and incidents; idempotent."""

from io import StringIO

import pytest
from django.core.management import call_command

from servicehall.accounts.models import User
from servicehall.alarms import rules
from servicehall.alarms.models import Incident, SmsMessage, Unit


@pytest.mark.django_db
def test_demo_alarms_are_created_once():
    call_command("demo_accounts", stdout=StringIO())
    out = StringIO()
    call_command("demo_alarms", stdout=out)
    assert "Demo alarms: 11 units, 4 incidents created" in out.getvalue()
    assert set(Incident.objects.values_list("status", flat=True)) == {
        "on_scene",
        "dispatched",
        "closed",
        "answered",
    }
    assert SmsMessage.objects.filter(direction="in").count() == 2
    assert Unit.objects.filter(status="available").count() == 11 - 3
    traffic = User.objects.get(username="900041")
    assert rules.desks_of(traffic) == {"traffic"}
    out = StringIO()
    call_command("demo_alarms", stdout=out)
    assert "Demo alarms: 11 units, 0 incidents created" in out.getvalue()
    assert Incident.objects.count() == 4 and SmsMessage.objects.filter(direction="in").count() == 2
