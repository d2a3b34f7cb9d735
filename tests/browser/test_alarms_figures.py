"""A command-centre supervisor reads the intake figures on a phone: from the console to the
figures page, the answer times against the 15-second target per desk and shift, the 12110
first reply, incidents by type — in tables that fit the screen."""

import datetime as dt

import pytest
from django.utils import timezone

from servicehall.accounts.tests.factories import StaffFactory, department, totp_token
from servicehall.alarms import sms, workflow

from .test_escorts import PASSWORD, fits_the_screen, sign_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def supervisor(db):
    from servicehall.accounts.models import District
    from servicehall.accounts.organisation import sync_districts

    sync_districts(District)  # a transactional test's flush empties the seeded table
    return StaffFactory(
        roles=["supervisor", "dispatcher"], department=department("zhihui"), password=PASSWORD
    )


def test_a_supervisor_reads_the_intake_figures_on_a_phone(phone, screenshot, supervisor):
    start = timezone.now() - dt.timedelta(hours=2)
    for n, (line, seconds) in enumerate([("110", 6), ("110", 20), ("119", 4), ("122", 9)]):
        received = start + dt.timedelta(minutes=10 * n)
        incident = workflow.create_from_call(
            actor=supervisor, line=line, received_at=received, answered=False, now=received
        )
        workflow.answer(
            actor=supervisor, incident=incident, now=received + dt.timedelta(seconds=seconds)
        )
    inbound = sms.receive_sms(
        gateway="console", message_id="b1", phone="13900000002", text="有人打架", now=start
    )
    sms.reply_sms(
        actor=supervisor,
        thread=inbound.thread,
        text="警察马上到。",
        now=start + dt.timedelta(seconds=50),
    )

    sign_in(phone, supervisor.username, PASSWORD)
    phone.get_by_label("动态口令").fill(totp_token(supervisor))
    phone.get_by_role("button", name="验证并登录").click()
    phone.wait_for_url("**/accounts/staff/")
    phone.goto(phone.base_url + "/staff/alarms/")
    phone.get_by_role("link", name="接处警统计").click()
    phone.wait_for_load_state()
    assert phone.get_by_role("heading", level=1).inner_text() == "接处警统计"
    main = phone.locator("main").inner_text()
    assert "1（50%）" in main  # 110: one of two answered within 15 s
    assert "未达标" in main and "达标" in main
    assert "50秒 / 50秒" in main  # the 12110 first reply
    fits_the_screen(phone)
    screenshot(phone, "figures")
