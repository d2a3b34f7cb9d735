"""The bookings JSON API: availability, book, my bookings, cancel; refusals as Chinese JSON."""

import datetime as dt
import json

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client

from servicehall.accounts.tests.factories import CitizenFactory, StaffFactory, department
from servicehall.bookings.models import Booking, BookingStatus, Slot

from .conftest import NOW, first_slot, token

pytestmark = pytest.mark.usefixtures("travel")
API = "/api/bookings/"
TUESDAY = "2026-09-15"


@pytest.fixture
def travel():
    cache.clear()  # rate-limit counters live in the (process-wide) local-memory cache
    with time_machine.travel(NOW, tick=False):
        yield
    cache.clear()


@pytest.fixture
def slot(city):
    return first_slot(city)


@pytest.fixture
def signed_in(client, citizen):
    client.force_login(citizen)
    return client


def post(client, url, body, **extra):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(url, data, content_type="application/json", **extra)


def book(client, slot, key=None, **headers):
    return post(client, API, {"slot": slot.pk, "client_token": key or token()}, **headers)


def test_availability_offices_days_and_times_with_places_left(client, slot):
    offices = client.get(API + "offices").json()
    city = next(o for o in offices if o["code"] == "crj-city")
    assert city["kind"] == "exit_entry" and city["kind_label"] == "出入境证件"
    assert "CRJ-XK-001" in {i["code"] for i in city["items"]}

    days = client.get(API + "offices/crj-city/items/CRJ-XK-001/days").json()
    tuesday = next(d for d in days if d["date"] == TUESDAY)
    assert tuesday["state"] == "open" and tuesday["free"] > 0

    times = client.get(API + f"offices/crj-city/items/CRJ-XK-001/times?date={TUESDAY}").json()
    first = times[0]
    assert first["slot"] == slot.pk and first["state"] == "open"
    assert first["left"] == sum(
        s.capacity for s in Slot.objects.filter(start=slot.start, item=slot.item)
    )


def test_availability_refuses_unknown_office_and_bad_date_in_chinese(client, slot):
    missing = client.get(API + "offices/nowhere/items/CRJ-XK-001/days")
    assert missing.status_code == 404 and missing.json()["detail"] == "未找到该办证大厅或办理事项。"
    bad = client.get(API + "offices/crj-city/items/CRJ-XK-001/times?date=15/09/2026")
    assert bad.status_code == 422
    assert "YYYY-MM-DD" in bad.json()["errors"]["date"][0]


def test_a_citizen_books_and_sees_it_in_mine_and_a_repeat_is_the_same_booking(
    signed_in, citizen, slot
):
    key = token()
    first = book(signed_in, slot, key)
    assert first.status_code == 201, first.content
    body = first.json()
    assert body["status"] == "booked" and body["office"] == "crj-city"
    assert body["document_number"].count("*") >= 8  # masked
    again = book(signed_in, slot, key)
    assert again.status_code == 200 and again.json()["code"] == body["code"]
    assert Booking.objects.filter(account=citizen).count() == 1
    slot.refresh_from_db()
    assert slot.booked == 1
    mine = signed_in.get(API + "mine").json()
    assert [b["code"] for b in mine] == [body["code"]]


def test_cancel_frees_the_place_and_a_second_cancel_is_a_conflict(signed_in, slot):
    code = book(signed_in, slot).json()["code"]
    done = post(signed_in, API + f"{code}/cancel", {"reason": "行程有变"})
    assert done.status_code == 200 and done.json()["status"] == BookingStatus.CANCELLED
    slot.refresh_from_db()
    assert slot.booked == 0
    again = post(signed_in, API + f"{code}/cancel", {})
    assert again.status_code == 409 and again.json()["code"] == "wrong_state"
    assert "不能进行此操作" in again.json()["detail"]


def test_another_persons_booking_cannot_be_cancelled(signed_in, slot):
    other = Client()
    other.force_login(CitizenFactory())
    code = book(other, slot).json()["code"]
    refused = post(signed_in, API + f"{code}/cancel", {})
    assert refused.status_code == 404 and refused.json()["detail"] == "未找到该预约。"


def test_a_full_slot_refuses_with_409_and_the_reason(signed_in, slot, caplog):
    Slot.objects.filter(start=slot.start, item=slot.item).update(booked=slot.capacity)
    with caplog.at_level("WARNING", logger="django.request"):
        refused = book(signed_in, slot)
    assert refused.status_code == 409
    assert refused.json() == {"detail": "该时段已约满，请选择其他时段。", "code": "full"}
    # An answer, not a fault: no "Conflict" warning per refusal at a release moment.
    assert not [r for r in caplog.records if r.name == "django.request"]


def test_other_refusals_are_still_logged(signed_in, caplog):
    with caplog.at_level("WARNING", logger="django.request"):
        missing = post(signed_in, API, {"slot": 999_999_999, "client_token": token()})
    assert missing.status_code == 404
    assert [r.status_code for r in caplog.records if r.name == "django.request"] == [404]


def test_one_live_booking_per_person_per_item_per_day(signed_in, slot):
    assert book(signed_in, slot).status_code == 201
    later = Slot.objects.filter(date=slot.date, item=slot.item, start__gt=slot.start).first()
    refused = book(signed_in, later)
    assert refused.status_code == 409 and refused.json()["code"] == "duplicate"
    assert "不能重复预约" in refused.json()["detail"]


def test_a_slot_not_yet_released_is_refused(signed_in, city):
    day = dt.date(2026, 9, 21) + dt.timedelta(days=1)  # a week and a day ahead: not released
    refused = book(signed_in, first_slot(city, day=day))
    assert refused.status_code == 409 and refused.json()["code"] == "not_released"


def test_anonymous_is_401_in_chinese_and_nothing_is_booked(client, slot):
    refused = book(client, slot)
    assert refused.status_code == 401 and refused.json()["detail"] == "请先登录后再预约。"
    assert client.get(API + "mine").status_code == 401
    assert not Booking.objects.exists()


def test_wrong_role_is_403(client, slot):
    client.force_login(StaffFactory(roles=["window_clerk"], department=department("churujing")))
    refused = book(client, slot)
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    assert "实名认证的个人用户" in refused.json()["detail"]
    assert not Booking.objects.exists()


def test_a_post_without_the_csrf_token_is_403(citizen, slot):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(citizen)
    refused = book(browser, slot)
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    browser.get("/accounts/login/")  # sets the csrftoken cookie, as any page does
    csrf = browser.cookies["csrftoken"].value
    ok = book(browser, slot, HTTP_X_CSRFTOKEN=csrf)
    assert ok.status_code == 201, ok.content.decode()


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ("{not json", 400, None),
        ("[1, 2]", 400, None),
        ({"client_token": "abc"}, 422, "slot"),
        ({"slot": 1, "client_token": "has spaces"}, 422, "client_token"),
        ({"slot": 1, "client_token": "x" * 65}, 422, "client_token"),
        ({"slot": 1, "client_token": "ok", "phone": "12345"}, 422, "phone"),
    ],
)
def test_bad_input_is_a_4xx_with_a_chinese_message(signed_in, body, status, field):
    refused = post(signed_in, API, body)
    assert refused.status_code == status
    answer = refused.json()
    assert answer["detail"].startswith("请求内容")
    if field:
        assert answer["errors"][field][0]


def test_an_unknown_slot_is_404(signed_in, slot):
    refused = post(signed_in, API, {"slot": 999999999, "client_token": token()})
    assert refused.status_code == 404 and refused.json()["code"] == "not_found"


def test_booking_is_rate_limited_per_account_with_retry_after(signed_in, slot, settings):
    settings.BOOKING_RATE = "2/m"
    assert book(signed_in, slot).status_code == 201
    assert book(signed_in, slot).status_code == 409  # duplicate: still counted
    limited = book(signed_in, slot)
    assert limited.status_code == 429
    assert limited.json()["code"] == "rate_limited"
    assert limited.json()["detail"].startswith("预约提交过于频繁，请")
    assert int(limited["Retry-After"]) >= 1
    other = Client()
    other.force_login(CitizenFactory())
    assert book(other, slot).status_code == 201  # per account, not for everyone


def test_availability_reads_are_rate_limited_per_client(client, slot, settings):
    settings.BOOKING_READ_RATE = "3/m"
    for _ in range(3):
        assert client.get(API + "offices").status_code == 200
    limited = client.get(API + "offices")
    assert limited.status_code == 429 and "查询号源过于频繁" in limited.json()["detail"]
    assert limited["Retry-After"]


def test_openapi_documents_the_endpoints_and_their_refusals(client):
    schema = client.get("/api/openapi.json").json()
    book_op = schema["paths"]["/api/bookings/"]["post"]
    assert {"201", "200", "401", "403", "404", "409", "422", "429", "503"} <= set(
        book_op["responses"]
    )
    assert "client_token" in json.dumps(book_op["requestBody"])
    assert "/api/bookings/offices/{code}/items/{item_code}/times" in schema["paths"]
