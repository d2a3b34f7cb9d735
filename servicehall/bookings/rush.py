"""Rush protection for bookings: per-client rate limits, and a fair waiting room while slots
are being released under heavy load.

Rate limits (django-ratelimit's counters in the default cache — local memory for the
one-process embedded server, Redis in production so every worker shares them):

* booking POSTs (page and API share the quota): settings.BOOKING_RATE per client;
* availability reads (offices, days, slots): settings.BOOKING_READ_RATE per client.

A client is the signed-in account, else the address (core.audit.client_ip). Over the limit,
pages answer 429 with the Chinese message and JSON answers 429 {"detail", "code":
"rate_limited"}, both with Retry-After. An empty rate turns a limit off.

The waiting room (排队等候). At a release moment (the slots' `release_at`, 08:00 by default)
thousands of people press "book" at once; without a queue the fastest connection wins and
the database does the sorting. Instead, within settings.BOOKING_RUSH_WINDOW_MINUTES either
side of a release moment R, once more than settings.BOOKING_RUSH_THRESHOLD booking requests
arrive in a second the room opens for that release (and stays open for the window):

* A client without a pass gets one: a signed cookie (no server state per client) holding R,
  its account and its place.
  - Arriving before R, the place is a lottery draw u in [0, 1) — for a signed-in account a
    keyed hash of (R, account), so clearing cookies never draws again — and a counter of
    early arrivals is raised. Being first at 07:59:59 is no advantage over arriving at 07:55:
    early arrivals are admitted in the order of their draws, at place floor(u × early count).
  - Arriving after R, the place is the next number of a shared counter after every early
    arrival: first come, first served.
* Admission: starting at S = max(R, the moment the room opened), the first
  settings.BOOKING_RUSH_ADMIT_PER_SECOND × (now − S) places are in, plus one second's worth
  at S. A pass, once in, stays in (the pointer only grows), so an admitted client books and
  looks at slots without queueing again.
* Everyone else sees the waiting page (503 with Retry-After; JSON 503 {"code": "queued",
  "position", "ahead", "retry_after"}): how many are ahead and about how long. The page
  refreshes itself with <meta http-equiv="refresh"> (no script: the CSP forbids inline
  ones); refreshing by hand keeps the same place.

Cost per request while the window is open: one cache increment for the load and a cache get
or two; outside the window, one cached look-up of the next release moment. A pass cannot be
forged (signed) or moved to another account; an anonymous pass is accepted after sign-in.
What this does not stop: many accounts queueing for one person — the per-client limits, real
names and one live booking per person per item per day are the limits there.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django_ratelimit.core import get_usage

from servicehall.core.audit import client_ip

from .models import Slot

BOOK_GROUP = "bookings.book"
READ_GROUP = "bookings.read"
QUEUE_COOKIE = "booking_queue"
QUEUE_SALT = "servicehall.bookings.rush"
RELEASE_CACHE_SECONDS = 30


# --- rate limits -----------------------------------------------------------------------------


def _client(group, request) -> str:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return f"ip:{client_ip(request) or 'unknown'}"


def _book_rate(group, request):
    return settings.BOOKING_RATE or None


def _read_rate(group, request):
    return settings.BOOKING_READ_RATE or None


def limited(request, group: str = BOOK_GROUP) -> int:
    """Count one request of `group` for this client; the seconds to wait when over the limit,
    else 0."""
    rate = _book_rate if group == BOOK_GROUP else _read_rate
    usage = get_usage(request, group=group, key=_client, rate=rate, increment=True)
    if usage is None or not usage["should_limit"]:
        return 0
    return max(int(usage["time_left"]), 1)


def too_many_message(wait: int, group: str = BOOK_GROUP) -> str:
    if group == BOOK_GROUP:
        return _("预约提交过于频繁，请%(seconds)d秒后再试。") % {"seconds": wait}
    return _("查询号源过于频繁，请%(seconds)d秒后再试。") % {"seconds": wait}


def json_response(body: dict, status: int, retry_after: int | None = None) -> HttpResponse:
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False),
        status=status,
        content_type="application/json; charset=utf-8",
    )
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


def too_many_json(wait: int, group: str = BOOK_GROUP) -> HttpResponse:
    body = {"detail": too_many_message(wait, group), "code": "rate_limited"}
    return json_response(body, 429, wait)


def too_many_page(request, wait: int, group: str = BOOK_GROUP) -> HttpResponse:
    context = {"message": too_many_message(wait, group), "wait": wait}
    response = render(request, "bookings/rush/too_many.html", context, status=429)
    response["Retry-After"] = str(wait)
    return response


# --- the waiting room ------------------------------------------------------------------------


def _window() -> timedelta:
    return timedelta(minutes=settings.BOOKING_RUSH_WINDOW_MINUTES)


def release_near(now: datetime) -> datetime | None:
    """The release moment within the window of `now` (the nearest one), or None."""
    key = "rush:release"
    cached = cache.get(key)
    if cached is None or not (cached[0] <= now < cached[1]):
        window = _window()
        moments = (
            Slot.objects.filter(release_at__gte=now - window, release_at__lte=now + window)
            .order_by()
            .values_list("release_at", flat=True)
            .distinct()
        )
        nearest = min(moments, key=lambda m: abs(m - now), default=None)
        # Valid until the window could hold another moment; never beyond the cache time.
        cached = (now, now + timedelta(seconds=RELEASE_CACHE_SECONDS), nearest)
        cache.set(key, cached, RELEASE_CACHE_SECONDS)
    return cached[2]


def _key(release: datetime, name: str) -> str:
    return f"rush:{int(release.timestamp())}:{name}"


def _count_arrival(now: datetime) -> int:
    """Booking requests a second: this second's so far, or the whole previous second's."""
    second = int(now.timestamp())
    key = f"rush:load:{second}"
    cache.add(key, 0, 10)
    try:
        current = cache.incr(key)
    except ValueError:  # expired between add and incr
        current = 1
    return max(current, cache.get(f"rush:load:{second - 1}") or 0)


def _opened_at(release: datetime, now: datetime, load: int) -> datetime | None:
    """When the room opened for `release`; opens it now if the load demands it."""
    key = _key(release, "opened")
    opened = cache.get(key)
    if opened is None and load > settings.BOOKING_RUSH_THRESHOLD:
        cache.add(key, now, int(_window().total_seconds() * 2) + 60)
        opened = cache.get(key)
    return opened


def _incr(key: str, timeout: int) -> int:
    cache.add(key, 0, timeout)
    return cache.incr(key)


@dataclass
class Place:
    """A client's place in the queue for one release (what the pass cookie holds)."""

    release: int  # the release moment, epoch seconds
    account: int | None
    draw: float | None = None  # early arrival: lottery draw in [0, 1)
    number: int | None = None  # later arrival: order of arrival after R (1, 2, ...)

    def dumps(self) -> str:
        return signing.dumps(
            {"r": self.release, "a": self.account, "u": self.draw, "n": self.number},
            salt=QUEUE_SALT,
            compress=True,
        )

    @classmethod
    def loads(cls, value: str | None) -> Place | None:
        if not value:
            return None
        try:
            data = signing.loads(value, salt=QUEUE_SALT, max_age=_window().total_seconds() * 3)
        except signing.BadSignature:
            return None
        return cls(release=data["r"], account=data["a"], draw=data["u"], number=data["n"])


def _draw(release: datetime, account: int | None) -> float:
    if account is None:
        return random.random()
    digest = hmac.new(
        settings.SECRET_KEY.encode(), f"{release.isoformat()}:{account}".encode(), hashlib.sha256
    ).digest()
    return int.from_bytes(digest[:6], "big") / 2**48


def new_place(release: datetime, account: int | None, now: datetime) -> Place:
    timeout = int(_window().total_seconds() * 3)
    stamp = int(release.timestamp())
    if now < release:
        _incr(_key(release, "early"), timeout)
        return Place(stamp, account, draw=_draw(release, account))
    return Place(stamp, account, number=_incr(_key(release, "later"), timeout))


def position(place: Place, release: datetime) -> int:
    """0-based place in the queue: early arrivals by their draw, then later ones in order."""
    early = cache.get(_key(release, "early")) or 0
    if place.draw is not None:
        return int(place.draw * max(early, 1))
    return early + place.number - 1


def admitted_count(release: datetime, opened: datetime, now: datetime) -> int:
    start = max(release, opened)
    if now < start:
        return 0
    rate = settings.BOOKING_RUSH_ADMIT_PER_SECOND
    return int(rate * (1 + (now - start).total_seconds()))


@dataclass
class Verdict:
    admitted: bool
    place: Place | None = None
    new_cookie: str = ""  # set when a pass was issued
    ahead: int = 0
    wait: int = 0  # seconds, estimated


def check(request, now: datetime | None = None) -> Verdict:
    """Is this client let through now? Counts the arrival; issues a pass when needed."""
    if settings.BOOKING_RUSH_THRESHOLD <= 0:
        return Verdict(admitted=True)
    now = now or timezone.now()
    release = release_near(now)
    if release is None:
        return Verdict(admitted=True)
    load = _count_arrival(now)
    opened = _opened_at(release, now, load)
    if opened is None:
        return Verdict(admitted=True)
    user = getattr(request, "user", None)
    account = user.pk if user is not None and user.is_authenticated else None
    place = Place.loads(request.COOKIES.get(QUEUE_COOKIE))
    new_cookie = ""
    stamp = int(release.timestamp())
    if place is None or place.release != stamp or place.account not in (None, account):
        place = new_place(release, account, now)
        new_cookie = place.dumps()
    where = position(place, release)
    inside = admitted_count(release, opened, now)
    if where < inside:
        return Verdict(admitted=True, place=place, new_cookie=new_cookie)
    # Until S nobody is in; then ADMIT_PER_SECOND places a second.
    start = max(release, opened)
    before = max((start - now).total_seconds(), 0)
    wait = math.ceil(before + (where - inside) / settings.BOOKING_RUSH_ADMIT_PER_SECOND)
    return Verdict(False, place, new_cookie, ahead=where - inside, wait=max(wait, 1))


def set_pass(response: HttpResponse, verdict: Verdict) -> HttpResponse:
    if verdict.new_cookie and isinstance(response, HttpResponse):
        response.set_cookie(
            QUEUE_COOKIE,
            verdict.new_cookie,
            max_age=int(_window().total_seconds() * 3),
            httponly=True,
            samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE,
        )
    return response


def queued_message(verdict: Verdict) -> str:
    if verdict.ahead <= 0:
        return _("当前预约人数较多，您已进入排队，即将轮到您，预计%(seconds)d秒后进入。") % {
            "seconds": verdict.wait
        }
    return _(
        "当前预约人数较多，您已进入排队，前面还有约%(ahead)d人，预计%(seconds)d秒后轮到您。"
    ) % {"ahead": verdict.ahead, "seconds": verdict.wait}


def waiting_json(verdict: Verdict) -> HttpResponse:
    body = {
        "detail": queued_message(verdict),
        "code": "queued",
        "position": verdict.ahead + 1,
        "ahead": verdict.ahead,
        "retry_after": verdict.wait,
    }
    return set_pass(json_response(body, 503, verdict.wait), verdict)


def waiting_page(request, verdict: Verdict) -> HttpResponse:
    refresh = min(max(verdict.wait, 2), 10)
    context = {"verdict": verdict, "message": queued_message(verdict), "refresh": refresh}
    response = render(request, "bookings/rush/waiting.html", context, status=503)
    response["Retry-After"] = str(refresh)
    return set_pass(response, verdict)


# --- for views ---------------------------------------------------------------------------------


def guard(group: str = BOOK_GROUP, *, api: bool = False, methods=("POST",)):
    """Decorate a booking view: the waiting room (when open), then the per-client limit of
    `group` on requests of `methods` (booking: POST; availability: GET). `api=True` answers
    in JSON. Pages and the API share the counters."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            verdict = check(request)
            if not verdict.admitted:
                return waiting_json(verdict) if api else waiting_page(request, verdict)
            if request.method in methods:
                wait = limited(request, group)
                if wait:
                    if api:
                        return too_many_json(wait, group)
                    return too_many_page(request, wait, group)
            return set_pass(view(request, *args, **kwargs), verdict)

        return wrapped

    return decorator


limit_booking = guard(BOOK_GROUP)
limit_reads = guard(READ_GROUP, methods=("GET", "HEAD"))
