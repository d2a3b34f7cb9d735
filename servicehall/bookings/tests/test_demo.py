"""The demo bookings command: offices, a week of slots, a few bookings; idempotent."""

from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from servicehall.bookings.models import Booking, Office, Slot


@pytest.mark.django_db
def test_demo_bookings_are_created_once(catalogue):
    call_command("demo_accounts", stdout=StringIO())
    with time_machine.travel("2026-09-14 09:00 +0800", tick=False):
        out = StringIO()
        call_command("demo_bookings", stdout=out)
        assert "Demo bookings: 3 created" in out.getvalue()
        assert Office.objects.count() == 12 and Slot.objects.exists()
        assert set(Booking.objects.values_list("channel", flat=True)) == {
            "online",
            "phone",
            "enterprise",
        }
        out = StringIO()
        call_command("demo_bookings", stdout=out)
        assert "Demo bookings: 0 created" in out.getvalue()
    assert Booking.objects.count() == 3
