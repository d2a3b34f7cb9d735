"""The intake centre's figures page: who may read it, the period's bad input, and the
figures it shows equal the incidents' timestamps (desk rows only for the reader's desks)."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from servicehall.accounts.tests.factories import CitizenFactory, StaffFactory, department
from servicehall.alarms import sms, workflow

from .conftest import T0, at
from .test_console_views import client_of

pytestmark = pytest.mark.django_db
URL = reverse("alarms_console:figures")
DAY = T0.date().isoformat()


def calls(actor, line: str, answer_after: list[int]):
    for seconds in answer_after:
        incident = workflow.create_from_call(
            actor=actor, line=line, received_at=at(0), answered=False, now=at(0)
        )
        workflow.answer(actor=actor, incident=incident, now=at(seconds))


def test_a_supervisor_reads_answer_times_against_the_target(centre):
    calls(centre, "110", [5, 10, 14, 15, 30])  # 4 of 5 within 15 s: 80 %, target missed
    calls(centre, "119", [3, 4])
    inbound = sms.receive_sms(
        gateway="console",
        message_id="m1",
        phone="13900000001",
        text="我家着火了",
        received_at=at(0),
        now=at(0),
    )
    sms.reply_sms(actor=centre, thread=inbound.thread, text="消防车已出发。", now=at(90))
    page = client_of(centre).get(URL, {"start": DAY, "end": DAY})
    assert page.status_code == 200
    html = page.content.decode()
    assert "4（80%）" in html and "未达标" in html  # police, day shift
    assert "2（100%）" in html and "达标" in html  # fire, day shift
    assert "14秒 / 30秒" in html  # police answer p50 / p90
    assert "1分30秒 / 1分30秒" in html  # 12110 first reply after 90 s


def test_a_traffic_dispatcher_sees_only_the_traffic_desk(traffic, centre):
    calls(centre, "119", [3])
    html = client_of(traffic).get(URL, {"start": DAY, "end": DAY}).content.decode()
    assert "122交通事故" in html and "119火警" not in html


@pytest.mark.parametrize("who", ["citizen", "clerk", "unverified"])
def test_others_are_refused(who, centre, districts):
    if who == "citizen":
        client = client_of(CitizenFactory(), verified=False)
    elif who == "clerk":
        client = client_of(StaffFactory(roles=["window_clerk"], department=department("huzheng")))
    else:
        client = client_of(centre, verified=False)
    response = client.get(URL)
    assert response.status_code in (302, 403)
    assert "接处警统计" not in response.content.decode()


@pytest.mark.parametrize(
    "query, message",
    [
        ({"start": "2026-09-14", "end": "2026-09-01"}, "结束日期不能早于开始日期"),
        ({"start": "2025-01-01", "end": "2026-09-14"}, "统计期间最长一年"),
        ({"start": "not-a-date", "end": "2026-09-14"}, "有效的日期"),
    ],
)
def test_a_bad_period_is_a_400_with_a_message(centre, query, message):
    response = client_of(centre).get(URL, query)
    assert response.status_code == 400 and message in response.content.decode()


def test_the_default_period_is_the_last_seven_days(centre):
    with time_machine.travel(T0 + dt.timedelta(days=3), tick=False):
        html = client_of(centre).get(URL).content.decode()
    assert 'value="2026-09-11"' in html and 'value="2026-09-17"' in html
    assert "统计期间：2026年9月11日 至 2026年9月17日" in html
