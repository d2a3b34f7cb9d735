"""Rush protection on a phone: the waiting page at a release moment, then the page itself;
the Chinese 429 page when a client reads too often."""

import datetime as dt

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone

from servicehall.accounts.tests.factories import CitizenFactory
from servicehall.bookings import rush

PASSWORD = "rush-test-2026"


@pytest.fixture
def citizen_page(phone, catalogue):
    from servicehall.accounts.models import District
    from servicehall.accounts.organisation import sync_districts

    cache.clear()
    sync_districts(District)  # seeded by a migration; a live-server test's flush empties it
    call_command("load_offices", verbosity=0)
    citizen = CitizenFactory(password=PASSWORD)
    page = phone
    page.goto(page.base_url + "/accounts/login/")
    page.get_by_label("账号").fill(citizen.citizen_profile.mobile)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").last.click()
    page.wait_for_load_state()
    yield page
    cache.clear()


def test_the_waiting_page_at_a_release_moment_then_the_page(
    citizen_page, settings, monkeypatch, screenshot
):
    page = citizen_page
    settings.BOOKING_RUSH_THRESHOLD = 1
    settings.BOOKING_RUSH_ADMIT_PER_SECOND = 1
    release = timezone.now() + dt.timedelta(seconds=3)
    monkeypatch.setattr(rush, "release_near", lambda now: release)
    url = page.base_url + "/bookings/office/crj-city/CRJ-XK-001/"
    page.goto(url)
    page.goto(url)  # the second request of the second opens the room
    assert page.get_by_role("heading", name="正在排队，请稍候").is_visible()
    assert page.get_by_role("status").inner_text().startswith("当前预约人数较多")
    screenshot(page, "waiting")
    page.wait_for_url(url, wait_until="load")
    page.get_by_role("heading", name="正在排队，请稍候").wait_for(state="detached", timeout=20_000)
    assert "正在排队" not in page.content()  # the page refreshed itself and let us in


def test_reading_too_often_gives_the_chinese_429_page(citizen_page, settings, screenshot):
    page = citizen_page
    settings.BOOKING_READ_RATE = "1/m"
    url = page.base_url + "/bookings/office/crj-city/CRJ-XK-001/"
    page.goto(url)
    response = page.goto(url)
    assert response.status == 429
    assert page.get_by_role("alert").inner_text().startswith("查询号源过于频繁，请")
    screenshot(page, "too-many")
