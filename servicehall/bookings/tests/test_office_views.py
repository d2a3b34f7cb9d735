"""At the office, through its pages: who may open the desk, the counters, the figures and
closures; check-in by QR payload, code and ID number with clear refusals; calling numbers in
order; the public display (no personal data) reflecting a call; closures notifying holders;
figures equal to the tickets."""

import datetime as dt
import json

import pytest
import time_machine
from django.urls import reverse

from servicehall.accounts.tests.factories import CitizenFactory, district, login_verified_staff
from servicehall.bookings import queue, workflow
from servicehall.bookings.models import Booking, BookingStatus, Closure, Counter, Ticket
from servicehall.core.masking import mask_id_number, mask_name
from servicehall.notify.models import Message

from .conftest import MONDAY, crj_staff, first_slot, token

pytestmark = pytest.mark.django_db

TUESDAY = MONDAY + dt.timedelta(days=1)


def at(hhmm: str, day=TUESDAY):
    return time_machine.travel(f"{day.isoformat()} {hhmm} +0800", tick=False)


@pytest.fixture
def booked(city):
    """Three people, named, booked into Tuesday's first slot (08:30) of the city office."""
    slot = first_slot(city)
    names = ["张伟明", "王秀英", "李娜"]
    with at("08:00"):
        return [
            workflow.book(actor=CitizenFactory(name=name), slot=slot, client_token=token())
            for name in names
        ]


@pytest.fixture
def counter(city):
    return Counter.objects.get(office=city, code="01")


def url(name, *args):
    return reverse(f"bookings_office:{name}", args=args)


def counter_url(counter, name="counter"):
    return url(name, counter.office.code, counter.code)


def text(response):
    return response.content.decode()


def signed_in(client, user):
    login_verified_staff(client, user)
    return client


def scan(client, city, key):
    return client.post(url("checkin", city.code), {"key": key})


# --- who may open what ----------------------------------------------------------------------


PAGES = ["index", "checkin", "counter", "figures", "closures"]


def _path(page, city, counter):
    if page in ("checkin", "closures"):
        return url(page, city.code)
    if page == "counter":
        return counter_url(counter)
    return url(page)


@pytest.mark.parametrize(
    "who, allowed",
    [
        ("citizen", set()),
        ("dispatcher", set()),
        ("other_district_clerk", {"index"}),  # lists its own office, not this one
        ("other_department_supervisor", set()),
        ("clerk", {"index", "checkin", "counter"}),
        ("manager", {"index", "figures", "closures"}),
    ],
)
def test_pages_by_role_and_office(client, city, counter, dispatcher, who, allowed):
    users = {
        "citizen": lambda: CitizenFactory(),
        "dispatcher": lambda: dispatcher,
        "other_district_clerk": lambda: crj_staff("window_clerk", district=district("210102")),
        "other_department_supervisor": lambda: _supervisor_of("zhian"),
        "clerk": lambda: crj_staff("window_clerk"),
        "manager": lambda: crj_staff("supervisor"),
    }
    user = users[who]()
    if who == "citizen":
        client.force_login(user)
    else:
        signed_in(client, user)
    for page in PAGES:
        response = client.get(_path(page, city, counter))
        expected = 200 if page in allowed else 403
        assert response.status_code == expected, (who, page, response.status_code)
        if expected == 403:
            assert "无权访问" in text(response)
    if "index" in allowed:
        listed = text(client.get(url("index")))
        assert (city.name in listed) == (who != "other_district_clerk")


def _supervisor_of(code):
    from servicehall.accounts.tests.factories import StaffFactory, department

    return StaffFactory(roles=["supervisor"], department=department(code))


def test_anonymous_staff_pages_ask_for_sign_in_and_posts_change_nothing(client, city, counter):
    for path in (url("checkin", city.code), counter_url(counter), url("figures")):
        response = client.get(path)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    response = client.post(counter_url(counter, "call_next"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_district_clerk_works_its_own_office_only(client, offices, booked):
    heping = offices["crj-heping"]
    signed_in(client, crj_staff("window_clerk", district=district("210102")))
    assert client.get(url("checkin", heping.code)).status_code == 200
    with at("08:20"):
        response = scan(client, offices["crj-city"], booked[0].code)
    assert response.status_code == 403
    assert not Ticket.objects.exists()


def test_an_unknown_office_or_counter_is_404(client, city, clerk):
    signed_in(client, clerk)
    assert client.get(url("checkin", "nowhere")).status_code == 404
    assert client.get(url("counter", city.code, "99")).status_code == 404
    assert client.get(url("display", "nowhere")).status_code == 404


# --- the check-in desk ----------------------------------------------------------------------


def test_check_in_by_qr_payload_by_code_and_by_id_number(client, city, clerk, booked):
    first, second, third = booked
    signed_in(client, clerk)
    with at("08:20"):
        by_qr = scan(client, city, workflow.qr_payload(second))
        by_code = scan(client, city, f" {first.code.lower()} ")
        by_id = scan(client, city, third.document_number.lower())
        again = scan(client, city, workflow.qr_payload(second))
    numbers = []
    for response, booking in ((by_qr, second), (by_code, first), (by_id, third)):
        assert response.status_code == 200
        page = text(response)
        numbers.append(page.split('id="ticket-number">')[1].split("<")[0])
        assert mask_name(booking.person_name) in page
        assert mask_id_number(booking.document_number) in page
        assert booking.document_number not in page and booking.person_name not in page
    assert numbers == ["001", "002", "003"]
    assert 'id="ticket-number">001<' in text(again)  # a second scan shows the same number
    assert Ticket.objects.count() == 3
    statuses = set(Booking.objects.values_list("status", flat=True))
    assert statuses == {BookingStatus.CHECKED_IN}


@pytest.mark.parametrize(
    "case, status, message",
    [
        ("blank", 400, "请扫描预约二维码，或输入预约码、证件号码。"),
        ("unknown_code", 404, "未找到预约，请核对后重试。"),
        ("forged_qr", 400, "二维码无效"),
        ("tomorrow", 400, "该预约不是今天的预约。"),
        ("too_early", 400, "签到时间未到，请于07:30后签到。"),
        ("too_late", 400, "已超过预约时段"),
        ("other_office", 400, "该预约的办理地点是沈阳市公安局出入境管理局办证大厅"),
        ("cancelled", 409, "预约当前状态为“已取消”"),
    ],
)
def test_check_in_refusals_are_4xx_with_a_message(
    client, offices, city, clerk, booked, case, status, message
):
    office, key, when = city, booked[0].code, "08:20"
    if case == "blank":
        key = ""
    elif case == "unknown_code":
        key = "ZZZZ2345"
    elif case == "forged_qr":
        key = "eyJhIjoiYiJ9:1abc:forged"
    elif case == "tomorrow":
        with at("08:00"):
            later = workflow.book(
                actor=CitizenFactory(),
                slot=first_slot(city, day=TUESDAY + dt.timedelta(days=1)),
                client_token=token(),
            )
        key = later.code
    elif case == "too_early":
        when = "07:00"
    elif case == "too_late":
        when = "09:30"
    elif case == "other_office":
        office = offices["crj-dadong"]
    elif case == "cancelled":
        with at("08:00"):
            workflow.cancel(actor=booked[0].account, booking=booked[0])
    signed_in(client, clerk)
    with at(when):
        response = scan(client, office, key)
    assert response.status_code == status
    assert message in text(response)
    assert 'role="alert"' in text(response) or "errorlist" in text(response)
    assert not Ticket.objects.exists()


# --- the counter screen ---------------------------------------------------------------------


def _checked_in(clerk, city, booked, hhmm="08:20"):
    with at(hhmm):
        return [queue.check_in(actor=clerk, office=city, booking=b) for b in booked]


def test_call_next_gives_numbers_in_order_and_a_double_click_is_one_call(
    client, city, clerk, counter, booked
):
    tickets = _checked_in(clerk, city, booked)
    signed_in(client, clerk)
    with at("08:30"):
        page = text(client.get(counter_url(counter)))
        assert "等候中（3人）" in page and mask_name("张伟明") in page and "张伟明" not in page
        first = client.post(counter_url(counter, "call_next"), follow=True)
        assert "已叫号：请001号到1号窗口办理。" in text(first)
        assert 'id="serving-number">001<' in text(first)
        twice = client.post(counter_url(counter, "call_next"), follow=True)
        assert "本窗口正在办理001号，请先办结或过号。" in text(twice)
        assert Ticket.objects.filter(status="called").count() == 1

        done = reverse(
            "bookings_office:finish", args=[city.code, counter.code, tickets[0].pk, "complete"]
        )
        assert "001号已办结。" in text(client.post(done, follow=True))
        assert client.post(done).status_code == 302  # the second click changes nothing
        second = client.post(counter_url(counter, "call_next"), follow=True)
        assert 'id="serving-number">002<' in text(second)
        skip = reverse(
            "bookings_office:finish", args=[city.code, counter.code, tickets[1].pk, "skip"]
        )
        assert "002号已过号。" in text(client.post(skip, follow=True))
        third = client.post(counter_url(counter, "call_next"), follow=True)
        assert 'id="serving-number">003<' in text(third)
        # 003 is still being served: it cannot be skipped from another counter's screen.
        other = Counter.objects.get(office=city, code="02")
        wrong = reverse(
            "bookings_office:finish", args=[city.code, other.code, tickets[2].pk, "skip"]
        )
        assert client.post(wrong).status_code == 404
    booked[0].refresh_from_db()
    assert booked[0].status == BookingStatus.COMPLETED
    assert [t.status for t in Ticket.objects.order_by("number")] == [
        "completed",
        "skipped",
        "called",
    ]


def test_call_next_when_nobody_waits_says_so(client, city, clerk, counter):
    signed_in(client, clerk)
    with at("08:30"):
        response = client.post(counter_url(counter, "call_next"), follow=True)
    assert "当前没有等候的排队号。" in text(response)


def test_finishing_a_number_not_called_is_409_with_a_message(client, city, clerk, counter, booked):
    tickets = _checked_in(clerk, city, booked)
    signed_in(client, clerk)
    with at("08:30"):
        client.post(counter_url(counter, "call_next"))
        client.post(
            reverse("bookings_office:finish", args=[city.code, counter.code, tickets[0].pk, "skip"])
        )
        # Skipped, then 办结 on a stale page: refused, with the number's state.
        response = client.post(
            reverse(
                "bookings_office:finish",
                args=[city.code, counter.code, tickets[0].pk, "complete"],
            )
        )
    assert response.status_code == 409
    assert "排队号001当前状态为“过号”，不能进行此操作。" in text(response)


def test_a_clerk_of_another_office_cannot_call(client, offices, counter, booked):
    signed_in(client, crj_staff("window_clerk", district=district("210102")))
    with at("08:30"):
        assert client.post(counter_url(counter, "call_next")).status_code == 403


# --- the public display ---------------------------------------------------------------------


def test_the_display_is_public_reflects_a_call_and_shows_no_personal_data(
    client, city, clerk, counter, booked
):
    tickets = _checked_in(clerk, city, booked)
    with at("08:40"):
        before = client.get(url("display_calls", city.code)).json()
        assert before["calls"] == [] and before["waiting"] == 3
        queue.call_next(actor=clerk, counter=counter)
        page = client.get(url("display", city.code))
        data = client.get(url("display_calls", city.code))
    assert page.status_code == 200 and data.status_code == 200
    assert "no-cache" in data["Cache-Control"]
    calls = data.json()["calls"]
    assert [(c["number"], c["counter"], c["at"]) for c in calls] == [("001", "1号窗口", "08:40")]
    assert data.json()["waiting"] == 2
    assert 'id="latest-number">001<' in text(page)
    everything = text(page) + json.dumps(data.json(), ensure_ascii=False)
    for booking in booked:
        for secret in (
            booking.person_name,
            mask_name(booking.person_name),
            booking.document_number,
            mask_id_number(booking.document_number),
            booking.phone,
            booking.code,
        ):
            assert secret not in everything
    assert tickets[0].number == 1
    # The page polls with a static script only: nothing inline under the strict CSP.
    assert "<script>" not in text(page) and "office-display.js" in text(page)
    assert "style=" not in text(page)


# --- closures -------------------------------------------------------------------------------


def test_a_manager_adds_a_closure_and_holders_get_an_sms(client, city, manager, booked):
    signed_in(client, manager)
    with at("07:00"):
        response = client.post(
            url("closures", city.code),
            {
                "counter": "",
                "start": "2026-09-15T08:00",
                "end": "2026-09-15T12:00",
                "reason": "系统升级",
            },
            follow=True,
        )
        again = client.post(
            url("closures", city.code),
            {
                "counter": "",
                "start": "2026-09-15T08:00",
                "end": "2026-09-15T12:00",
                "reason": "系统升级",
            },
        )
    page = text(response)
    assert "停办安排已添加：3个预约已取消，并已短信通知预约人。" in page
    assert "系统升级" in page and "3 个（已短信通知）" in page
    assert again.status_code == 302 and Closure.objects.count() == 1  # sent twice: one
    for booking in booked:
        booking.refresh_from_db()
        assert booking.status == BookingStatus.CLOSED
        sms = Message.objects.get(dedupe_key=f"booking:{booking.pk}:closed")
        assert sms.recipient == booking.phone
        assert "系统升级" in sms.body and booking.code in sms.body


def test_closure_input_errors_and_roles(client, city, clerk, manager, booked):
    signed_in(client, manager)
    with at("07:00"):
        backwards = client.post(
            url("closures", city.code),
            {"start": "2026-09-15T12:00", "end": "2026-09-15T08:00", "reason": "检修"},
        )
        past = client.post(
            url("closures", city.code),
            {"start": "2026-09-13T08:00", "end": "2026-09-13T12:00", "reason": "检修"},
        )
        blank = client.post(url("closures", city.code), {})
        one_counter = client.post(
            url("closures", city.code),
            {
                "counter": Counter.objects.get(office=city, code="02").pk,
                "start": "2026-09-15T08:00",
                "end": "2026-09-15T12:00",
                "reason": "设备检修",
            },
            follow=True,
        )
    assert backwards.status_code == 400 and "停办结束时间应晚于开始时间。" in text(backwards)
    assert past.status_code == 400 and "停办时间已过。" in text(past)
    assert blank.status_code == 400 and "请填写停办原因。" in text(blank)
    assert "0个预约已取消" in text(one_counter)  # all three booked the first counter's slot
    assert Closure.objects.count() == 1
    signed_in(client, clerk)
    with at("07:00"):
        denied = client.post(
            url("closures", city.code),
            {"start": "2026-09-15T08:00", "end": "2026-09-15T12:00", "reason": "检修"},
        )
    assert denied.status_code == 403 and Closure.objects.count() == 1


# --- waiting figures ------------------------------------------------------------------------


def test_figures_equal_the_tickets(client, city, clerk, manager, counter, booked):
    first, second, third = _checked_in(clerk, city, booked, "08:20")
    with at("08:30"):
        queue.complete(actor=clerk, ticket=queue.call_next(actor=clerk, counter=counter))
    with at("08:40"):
        queue.skip(actor=clerk, ticket=queue.call_next(actor=clerk, counter=counter))
    with at("09:20"):
        queue.call_next(actor=clerk, counter=counter)
    signed_in(client, manager)
    with at("10:00"):
        response = client.get(url("figures"), {"day": TUESDAY.isoformat()})
        today = client.get(url("figures"))
        other_day = client.get(url("figures"), {"day": MONDAY.isoformat()})
        bad = client.get(url("figures"), {"day": "2026-13-45"})
    row = text(response).split(f'<th scope="row">{city.name}</th>')[1].split("</tr>")[0]
    cells = [cell.split(">")[1].split("<")[0] for cell in row.split("<td")[1:]]
    # issued, waiting, called, completed, skipped, average, p90, longest (minutes)
    assert cells == ["3", "0", "3", "1", "1", "30.0", "60.0", "60.0"]
    assert text(today).count('<th scope="row">') == text(response).count('<th scope="row">')
    assert city.name in text(today) and "30.0" in text(today)  # today is Tuesday
    other_row = text(other_day).split(f'<th scope="row">{city.name}</th>')[1].split("</tr>")[0]
    assert ">0<" in other_row and "—" in other_row
    assert bad.status_code == 400 and "请输入有效日期" in text(bad)
    # A bureau-level manager sees every exit-entry office, and no other department's.
    assert "沈阳市公安局和平区分局出入境办证大厅" in text(response)
    assert "车辆" not in text(response)


def test_the_90th_percentile_is_the_nearest_rank():
    from servicehall.bookings.queries import nearest_rank

    assert nearest_rank([], 0.9) is None
    assert nearest_rank([7], 0.9) == 7
    assert nearest_rank(list(range(1, 11)), 0.9) == 9  # nine of ten waited at most 9
    assert nearest_rank(list(range(1, 12)), 0.9) == 10  # ceil(9.9) = the 10th of 11
