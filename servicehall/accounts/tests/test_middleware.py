"""Staff sessions end after STAFF_IDLE_TIMEOUT of inactivity; citizens' do not."""

import datetime as dt

import pytest
from django.urls import reverse

from servicehall.core.models import AuditEntry

from .factories import CitizenFactory, StaffFactory, login_verified_staff

pytestmark = pytest.mark.django_db

STAFF_HOME = reverse("accounts:staff_home")
START = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(START, tick=False)
    return time_machine


def test_idle_staff_session_is_signed_out(client, clock, settings):
    settings.STAFF_IDLE_TIMEOUT = dt.timedelta(minutes=15)
    staff = StaffFactory()
    login_verified_staff(client, staff)
    assert client.get(STAFF_HOME).status_code == 200
    clock.move_to(START + dt.timedelta(minutes=16), tick=False)
    response = client.get(STAFF_HOME)
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login") + "?timeout=1")
    assert "_auth_user_id" not in client.session
    assert "长时间未操作" in client.get(response.url).content.decode()
    entry = AuditEntry.objects.get(action="auth.session_timeout")
    assert entry.actor_id == staff.pk
    assert entry.details["idle_seconds"] >= 15 * 60


def test_activity_keeps_the_staff_session(client, clock, settings):
    settings.STAFF_IDLE_TIMEOUT = dt.timedelta(minutes=15)
    login_verified_staff(client, StaffFactory())
    for minutes in (10, 20, 30, 40):
        clock.move_to(START + dt.timedelta(minutes=minutes), tick=False)
        assert client.get(STAFF_HOME).status_code == 200


def test_htmx_request_gets_hx_redirect(client, clock, settings):
    settings.STAFF_IDLE_TIMEOUT = dt.timedelta(minutes=15)
    login_verified_staff(client, StaffFactory())
    clock.move_to(START + dt.timedelta(hours=1), tick=False)
    response = client.get(STAFF_HOME, headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith(reverse("accounts:login"))


def test_citizen_sessions_have_no_idle_timeout(client, clock):
    client.force_login(CitizenFactory())
    clock.move_to(START + dt.timedelta(hours=5), tick=False)
    response = client.get(reverse("accounts:profile"))
    assert response.status_code == 200
