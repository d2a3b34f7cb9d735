"""The dispatch console in two browsers, live over WebSockets.

A call-taker of the command centre records a 119 call; the fire desk's dispatcher, whose
console is already open, sees the incident appear without a reload, opens it and sends the
nearest engine; the timeline records received, answered and dispatched, and the call-taker's
open incident page follows live. Then a 12110 SMS arrives (alarms.sms.receive_sms, as a
gateway adapter calls it): it appears live in the call-taker's console, the call-taker
replies, and the reply waits in the notify outbox for the SMS gateway.

pytest-django's live_server is WSGI only, and channels' ChannelsLiveServerTestCase runs
daphne in another process, which an in-memory channel layer cannot reach from this one.
So the ASGI application of config/asgi.py runs here under uvicorn, in a thread of the test
process, on a free port of 127.0.0.1, against the test database: the browsers' requests and
the test's own receive_sms publish to the same in-memory layer. The test calls the verb on
the server's event loop (through sync_to_async), as a view of that server would.
"""

import asyncio
import socket
import threading
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from django.db import connection, connections
from playwright.sync_api import expect

from servicehall.accounts.models import Department
from servicehall.accounts.tests.factories import StaffFactory
from servicehall.alarms import sms
from servicehall.alarms.models import Assignment, Incident, SmsMessage, Unit, UnitKind
from servicehall.alarms.tests.conftest import SQUARE, make_unit, north_of

from .conftest import PHONE
from .test_letters_staff import PASSWORD, sign_in

pytestmark = [
    pytest.mark.django_db(transaction=True),
    # WhiteNoise serves static files with a synchronous iterator, which Django's ASGI
    # handler consumes in a thread and says so; production serves them from nginx.
    pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous"),
]
DESKTOP = {"width": 1280, "height": 900}


class AsgiServer:
    """config.asgi.application under uvicorn in a thread of this process."""

    def __init__(self):
        import uvicorn

        from config.asgi import application

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        config = uvicorn.Config(
            application,
            lifespan="off",
            ws="websockets-sansio",
            log_level="warning",
            timeout_graceful_shutdown=2,
        )
        self.server = uvicorn.Server(config)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._serve, name="asgi-test-server", daemon=True)

    def _serve(self):
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self.server.serve(sockets=[self.sock]))

    def start(self):
        self.thread.start()
        for _ in range(200):
            if self.server.started:
                return self
            self.thread.join(0.05)
        raise RuntimeError("the ASGI test server did not start")

    def stop(self):
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()

    def call(self, function, *args, **kwargs):
        """Run `function` as the server's own code would: on its event loop, in a worker
        thread, so what it publishes after commit reaches the server's channel layer."""

        def run():
            try:
                return function(*args, **kwargs)
            finally:
                connection.close()

        future = asyncio.run_coroutine_threadsafe(
            sync_to_async(run, thread_sensitive=False)(), self.loop
        )
        return future.result(timeout=30)


@pytest.fixture
def asgi_server(transactional_db, catalogue):
    # Each request's thread opens its own connection: close it at the request's end, or
    # the test database could not be dropped at the end of the run.
    settings_dict = connections.settings["default"]
    kept = settings_dict.get("CONN_MAX_AGE")
    settings_dict["CONN_MAX_AGE"] = 0
    server = AsgiServer().start()
    yield server
    server.stop()
    settings_dict["CONN_MAX_AGE"] = kept


@pytest.fixture
def city(catalogue):
    from servicehall.accounts.models import District
    from servicehall.accounts.organisation import sync_districts

    sync_districts(District)  # a transactional test's flush empties the seeded districts
    return {d.code: d for d in District.objects.all()}


def officer(code, name):
    department = Department.objects.get(code=code)
    return StaffFactory(roles=["dispatcher"], department=department, password=PASSWORD, name=name)


def desk(browser, server, person):
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.base_url = server.url
    sign_in(page, person)
    return context, page


def live(page):
    """The page's socket is open (the console said hello)."""
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")


def test_a_fire_call_reaches_the_dispatcher_live_and_an_sms_is_answered(
    browser, asgi_server, city, screenshot
):
    call_taker = officer("zhihui", "郑接警")
    dispatcher = officer("xiaofang", "冯调度")
    near = make_unit(
        UnitKind.FIRE_ENGINE,
        position=north_of(SQUARE, 1200),
        code="HP-119-01",
        district=city["210102"],
    )
    make_unit(
        UnitKind.FIRE_ENGINE,
        position=north_of(SQUARE, 6000),
        code="HG-119-01",
        district=city["210105"],
    )
    make_unit(
        UnitKind.PATROL_CAR,
        position=north_of(SQUARE, 100),
        code="HP-110-01",
        district=city["210102"],
    )
    Unit.objects.filter(code="HP-110-01").update(name="和平巡逻1车")
    Unit.objects.filter(code="HP-119-01").update(name="和平消防1号车")
    Unit.objects.filter(code="HG-119-01").update(name="皇姑消防1号车")

    taker_context, taker = desk(browser, asgi_server, call_taker)
    fire_context, fire = desk(browser, asgi_server, dispatcher)
    try:
        # The fire desk's console is open, and stays the same document throughout.
        fire.get_by_role("link", name="接处警台").click()
        live(fire)
        fire.evaluate("window.__sameDocument = 'still here'")
        assert "当前没有在办警情" in fire.locator("main").inner_text()
        screenshot(fire, "1-fire-console-empty")

        # The call-taker records the 119 call.
        taker.get_by_role("link", name="接处警台").click()
        live(taker)
        taker.get_by_role("link", name="接警登记（新来电）").click()
        taker.get_by_label("报警电话").select_option("119")
        taker.get_by_label("来电号码").fill("139 1234 5678")
        taker.get_by_label("报警人姓名").fill("王小明")
        taker.get_by_label("警情摘要").fill("和平区南京北街一居民楼三楼厨房起火，有浓烟。")
        taker.get_by_label("事发地点").fill("和平区南京北街1号")
        taker.get_by_label("纬度").fill(str(SQUARE[0]))
        taker.get_by_label("经度").fill(str(SQUARE[1]))
        taker.get_by_label("警情类别").select_option("fire")
        taker.get_by_label("优先级").select_option("1")
        screenshot(taker, "2-call-taker-new-call")
        taker.get_by_role("button", name="登记警情").click()
        taker.wait_for_url("**/staff/alarms/JJ*/")
        number = taker.locator("#incident-number").inner_text().strip()
        incident = Incident.objects.get(number=number)
        assert incident.desks == {"fire"} and incident.caller_number == "13912345678"
        live(taker)
        screenshot(taker, "3-call-taker-incident")

        # It appears on the fire desk's console without a reload; the caller stays masked.
        row = fire.locator("#incident-list tr", has_text=number)
        expect(row).to_be_visible()
        assert "139****5678" in row.inner_text() and "紧急" in row.inner_text()
        assert fire.evaluate("window.__sameDocument") == "still here"
        assert "新警情" in fire.locator("#live-announcer").inner_text()
        screenshot(fire, "4-fire-console-live")

        # The dispatcher opens it and sends the nearest engine (the patrol car is not theirs).
        row.get_by_role("link", name=number).click()
        live(fire)
        suggestions = fire.locator("#nearest-units li").all_inner_texts()
        assert suggestions[0].startswith("HP-119-01") and "HG-119-01" in suggestions[1]
        assert not any("HP-110-01" in text for text in suggestions)
        screenshot(fire, "5-dispatcher-incident")
        fire.get_by_role("button", name="派出和平消防1号车").click()
        fire.wait_for_load_state()
        assert "已派出处警单位" in fire.locator(".messages").inner_text()
        assignment = Assignment.objects.get(incident=incident)
        assert assignment.unit == near and 1100 < assignment.distance_m < 1300
        timeline = fire.locator("#timeline").inner_text()
        assert "接警登记" in timeline and "派警" in timeline and "HP-119-01" in timeline
        stamps = fire.locator("#timestamps td").all_inner_texts()
        assert (
            stamps[0] != "—" and stamps[1] != "—" and stamps[2] != "—"
        )  # received, answered, dispatched
        assert stamps[3] == "—"
        screenshot(fire, "6-dispatcher-dispatched")

        # The call-taker's incident page followed without a reload.
        expect(taker.locator("#incident-status")).to_have_text("已派警")
        assert "HP-119-01" in taker.locator("#assigned-units").inner_text()

        # The engine reports on scene; the travel time appears.
        fire.get_by_role("button", name="到场").click()
        fire.wait_for_load_state()
        assert fire.locator("#timestamps td").all_inner_texts()[3] != "—"
        expect(taker.locator("#incident-status")).to_have_text("已到场")
        screenshot(fire, "7-dispatcher-on-scene")

        # A 12110 SMS arrives while the call-taker's console is open.
        taker.get_by_role("link", name="接处警台").first.click()
        live(taker)
        taker.evaluate("window.__sameDocument = 'still here'")
        asgi_server.call(
            sms.receive_sms,
            gateway="test",
            message_id="sms-1",
            phone="13800138000",
            text="我在沈河区青年大街100号楼下，有人持刀拦路，我听不见，请发短信。",
        )
        thread_row = taker.locator("#sms-list li", has_text="138****8000")
        expect(thread_row).to_be_visible()
        assert "待回复" in thread_row.inner_text() and "持刀" in thread_row.inner_text()
        assert taker.evaluate("window.__sameDocument") == "still here"
        assert "13800138000" not in taker.locator("main").inner_text()
        screenshot(taker, "8-call-taker-sms-live")
        # The fire desk does not hear of a police matter.
        assert fire.locator("#incident-number").inner_text().strip() == number

        thread_row.get_by_role("link", name="138****8000").click()
        live(taker)
        taker.get_by_label("回复短信").fill("民警已出发，请到附近商店等候，保持手机畅通。")
        taker.get_by_role("button", name="发送回复").click()
        taker.wait_for_load_state()
        assert "回复短信已发出" in taker.locator(".messages").inner_text()
        reply = SmsMessage.objects.get(kind="reply")
        assert reply.outbox.channel == "sms" and reply.outbox.recipient == "13800138000"
        assert reply.outbox.body.endswith("保持手机畅通。") and reply.outbox.status == "pending"

        # The person answers; the thread shows it live, in order.
        live(taker)
        asgi_server.call(
            sms.receive_sms,
            gateway="test",
            message_id="sms-2",
            phone="13800138000",
            text="好的，我在便利店里。",
        )
        expect(taker.locator("#sms-messages li").last).to_contain_text("我在便利店里")
        texts = taker.locator("#sms-messages li .sms-text").all_inner_texts()
        assert texts[0].startswith("我在沈河区") and texts[-1] == "好的，我在便利店里。"
        assert [t for t in texts if "民警已出发" in t]
        screenshot(taker, "9-call-taker-thread")

        # The console still reads on a phone (one card per row).
        taker.set_viewport_size(PHONE)
        taker.get_by_role("link", name="接处警台").first.click()
        live(taker)
        screenshot(taker, "10-console-phone")
    finally:
        taker_context.close()
        fire_context.close()
    assert Decimal(str(near.lat)) > SQUARE[0]
