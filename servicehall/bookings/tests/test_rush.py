"""Rush protection: per-client limits on pages, and the waiting room at a release moment."""

import datetime as dt
from types import SimpleNamespace

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils import timezone

from servicehall.bookings import rush, slots

# Slots of Monday 21 September are released a week ahead, on Monday 14 at 08:00.
RELEASE = "2026-09-14 08:00 +0800"
RELEASED_DAY = dt.date(2026, 9, 21)


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()  # counters and the release look-up live in the process-wide cache
    yield
    cache.clear()


@pytest.fixture
def release(city, settings):
    settings.BOOKING_RUSH_THRESHOLD = 5
    settings.BOOKING_RUSH_ADMIT_PER_SECOND = 2
    settings.BOOKING_RUSH_WINDOW_MINUTES = 10
    slots.generate_slots(city, RELEASED_DAY, RELEASED_DAY)
    return timezone.localtime(dt.datetime.fromisoformat("2026-09-14T08:00:00+08:00"))


def account(pk):
    return SimpleNamespace(pk=pk, is_authenticated=True)


def visit(user, cookie="", path="/bookings/"):
    request = RequestFactory().get(path)
    request.user = user
    if cookie:
        request.COOKIES[rush.QUEUE_COOKIE] = cookie
    return rush.check(request)


def crowd(n, start=1000):
    """n different accounts hitting the booking pages in the same second (opens the room)."""
    return [visit(account(start + i)) for i in range(n)]


def test_the_room_stays_closed_under_the_threshold(release):
    with time_machine.travel("2026-09-14 07:59:00 +0800", tick=False):
        verdicts = crowd(5)
    assert all(v.admitted and not v.new_cookie for v in verdicts)


def test_the_room_stays_closed_far_from_a_release_moment(release):
    with time_machine.travel("2026-09-14 10:00:00 +0800", tick=False):
        verdicts = crowd(20)
    assert all(v.admitted and not v.new_cookie for v in verdicts)


def test_off_when_the_threshold_is_zero(release, settings):
    settings.BOOKING_RUSH_THRESHOLD = 0
    with time_machine.travel("2026-09-14 07:59:59 +0800", tick=False):
        assert all(v.admitted for v in crowd(50))


def test_early_arrivals_wait_for_the_release_then_enter_in_draw_order(release):
    with time_machine.travel("2026-09-14 07:58:00 +0800", tick=False) as clock:
        crowd(6)  # the sixth request of the second opens the room
        early = {}
        for pk in range(1, 11):
            verdict = visit(account(pk))
            assert not verdict.admitted and verdict.new_cookie  # nobody enters before 08:00
            early[pk] = verdict
            clock.shift(dt.timedelta(seconds=5))
        clock.move_to("2026-09-14 08:00:03 +0800")
        late = visit(account(99))  # after the release: behind every early arrival
        assert not late.admitted and late.place.number == 1

        clock.move_to(RELEASE)
        entered_at = {}
        for second in range(12):
            for pk, verdict in [*early.items(), (99, late)]:
                if pk not in entered_at and visit(account(pk), verdict.new_cookie).admitted:
                    entered_at[pk] = second
            clock.shift(dt.timedelta(seconds=1))

    assert set(entered_at) == {*early, 99}
    by_draw = sorted(early, key=lambda pk: early[pk].place.draw)
    seconds = [entered_at[pk] for pk in by_draw]
    assert seconds == sorted(seconds)  # a smaller draw never enters later
    assert seconds[0] == 0 and seconds[-1] > 0  # two a second, not all at once
    assert entered_at[99] >= max(seconds)
    # Arriving first (07:58:00) was no advantage: the order is the draw, not the arrival.
    assert by_draw != sorted(early)


def test_the_waiting_estimate_counts_the_people_ahead(release):
    with time_machine.travel("2026-09-14 08:00:00 +0800", tick=False):
        crowd(6)
        numbers = [visit(account(pk)) for pk in range(1, 8)]
    waiting = [v for v in numbers if not v.admitted]
    assert waiting, "two a second: not all seven enter at once"
    last = waiting[-1]
    assert last.ahead >= 1 and last.wait >= last.ahead // 2
    assert f"前面还有约{last.ahead}人" in rush.queued_message(last)


def test_the_same_account_draws_the_same_place_after_clearing_its_cookie(release):
    with time_machine.travel("2026-09-14 07:59:00 +0800", tick=False):
        crowd(6)
        first = visit(account(7))
        again = visit(account(7))  # no cookie sent: a new pass, the same draw
    assert first.place.draw == again.place.draw


def test_a_forged_or_borrowed_pass_is_not_honoured(release):
    with time_machine.travel("2026-09-14 08:00:00 +0800", tick=False):
        crowd(6)
        mine = visit(account(1))
        tampered = visit(account(1), mine.new_cookie[:-2] + "xx")
        borrowed = visit(account(2), mine.new_cookie)
    assert tampered.new_cookie and tampered.place.number != mine.place.number
    assert borrowed.new_cookie and borrowed.place.account == 2


def test_an_anonymous_pass_is_kept_after_signing_in(release):
    with time_machine.travel("2026-09-14 08:00:00 +0800", tick=False):
        crowd(6)
        anonymous = visit(AnonymousUser())
        signed_in = visit(account(5), anonymous.new_cookie)
    assert not signed_in.new_cookie and signed_in.place.number == anonymous.place.number


def _page(request):
    return HttpResponse("预约页面")


def test_the_waiting_page_refreshes_itself_without_script(release, client, citizen):
    client.force_login(citizen)
    view = rush.limit_booking(_page)
    with time_machine.travel("2026-09-14 07:59:30 +0800", tick=False):
        crowd(6)
        request = RequestFactory().get("/bookings/offices/")
        request.user = citizen
        response = view(request)
    assert response.status_code == 503 and int(response["Retry-After"]) >= 1
    html = response.content.decode()
    assert '<meta http-equiv="refresh"' in html and "正在排队" in html
    assert "<script>" not in html and "onload" not in html
    assert rush.QUEUE_COOKIE in response.cookies
    assert response.cookies[rush.QUEUE_COOKIE]["httponly"]


def test_the_booking_page_limit_answers_429_in_chinese(settings, citizen):
    settings.BOOKING_RATE = "2/m"
    view = rush.limit_booking(_page)
    factory = RequestFactory()
    with time_machine.travel("2026-09-14 10:00:00 +0800", tick=False):
        answers = []
        for _ in range(3):
            request = factory.post("/bookings/book/1/")
            request.user = citizen
            answers.append(view(request))
        other = factory.get("/bookings/book/1/")  # reading the confirm page is not a booking
        other.user = citizen
        assert view(other).status_code == 200
    assert [a.status_code for a in answers] == [200, 200, 429]
    refused = answers[-1]
    assert "预约提交过于频繁，请" in refused.content.decode()
    assert int(refused["Retry-After"]) >= 1


def test_the_citizen_booking_page_is_limited_per_account(settings, city, client, citizen):
    from django.urls import reverse

    from .conftest import NOW, first_slot

    settings.BOOKING_RATE = "1/m"
    client.force_login(citizen)
    with time_machine.travel(NOW, tick=False):
        url = reverse("bookings:book", args=[first_slot(city).pk])
        assert client.post(url, {"client_token": "a" * 32}).status_code == 302
        refused = client.post(url, {"client_token": "b" * 32})
    assert refused.status_code == 429
    assert "预约提交过于频繁，请" in refused.content.decode()
    assert int(refused["Retry-After"]) >= 1
