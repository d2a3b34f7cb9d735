"""The console's WebSocket: who may listen, and which desk's events reach whom (the
in-memory channel layer, through the full ASGI stack of config/asgi.py with the session
cookie a browser would send). The consumer is async: a notice reaches the browser without a
worker-thread hop."""

import inspect
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from asgiref.sync import SyncToAsync, async_to_sync
from channels.consumer import AsyncConsumer, SyncConsumer
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connections
from django.test import Client

from config.asgi import application
from servicehall.accounts.signin import STAFF_SEEN_KEY
from servicehall.accounts.tests.factories import (
    CitizenFactory,
    StaffFactory,
    department,
    login_verified_staff,
)
from servicehall.alarms import live, sms, workflow
from servicehall.alarms.consumers import REFUSED, ConsoleConsumer

from .conftest import SQUARE, dispatcher_of

pytestmark = pytest.mark.django_db(transaction=True)
PATH = "/ws/alarms/console/"


@pytest.fixture(autouse=True)
def departments(catalogue):
    """A transactional test's flush empties the departments the catalogue loads."""


def cookie_of(user=None, *, verified=True, idle=False) -> bytes:
    client = Client()
    if user is not None:
        if verified:
            login_verified_staff(client, user)
        else:
            client.force_login(user)
        if idle:
            session = client.session
            session[STAFF_SEEN_KEY] = time.time() - 3600
            session.save()
    key = client.cookies.get(settings.SESSION_COOKIE_NAME)
    return f"{settings.SESSION_COOKIE_NAME}={key.value if key else ''}".encode()


def socket(cookie: bytes, origin: bytes = b"http://testserver") -> WebsocketCommunicator:
    return WebsocketCommunicator(
        application, PATH, headers=[(b"cookie", cookie), (b"origin", origin)]
    )


def run(coroutine_function):
    """Run a scenario to the end in a thread of its own: a browser test earlier in the run
    may leave an event loop in this thread, where async_to_sync refuses to work. The
    scenario's database work (database_sync_to_async) runs in that thread too; its
    connection is closed before the test's flush."""
    with ThreadPoolExecutor(1) as pool:
        try:
            return pool.submit(async_to_sync(coroutine_function)).result(timeout=60)
        finally:
            pool.submit(connections.close_all).result(timeout=10)


async def refusal(cookie, **kwargs) -> int | None:
    """The close code of a refused handshake; None if the socket was accepted."""
    communicator = socket(cookie, **kwargs)
    connected, code = await communicator.connect(timeout=5)
    await communicator.disconnect()
    return None if connected else code


def test_the_consumer_is_async():
    assert issubclass(ConsoleConsumer, AsyncConsumer)
    assert not issubclass(ConsoleConsumer, SyncConsumer)
    for name in ("connect", "disconnect", "console_event", "console_signed_out", "dispatch"):
        assert inspect.iscoroutinefunction(getattr(ConsoleConsumer, name)), name


def test_only_verified_dispatchers_may_listen(districts):
    centre = dispatcher_of("zhihui")
    clerk = StaffFactory(roles=["window_clerk"], department=department("zhihui"))
    no_desk = dispatcher_of("huzheng")
    cookies = {
        "anonymous": cookie_of(None),
        "citizen": cookie_of(CitizenFactory()),
        "unverified": cookie_of(centre, verified=False),
        "idle": cookie_of(centre, idle=True),
        "window clerk": cookie_of(clerk),
        "dispatcher without a desk": cookie_of(no_desk),
    }
    allowed = cookie_of(centre)

    async def scenario():
        for who, cookie in cookies.items():
            assert await refusal(cookie) == REFUSED, who
        assert await refusal(allowed, origin=b"http://evil.example") is not None  # origins
        communicator = socket(allowed)
        connected, _ = await communicator.connect(timeout=5)
        assert connected
        hello = await communicator.receive_json_from(timeout=5)
        assert hello == {"event": "hello", "desks": ["fire", "police", "traffic"]}
        await communicator.disconnect()

    run(scenario)


def test_a_dispatcher_receives_a_new_fire_incident_and_the_traffic_desk_does_not(districts):
    centre = dispatcher_of("zhihui")
    fire = dispatcher_of("xiaofang")
    traffic = dispatcher_of("jiaojing")
    fire_cookie, traffic_cookie = cookie_of(fire), cookie_of(traffic)

    def create():
        return workflow.create_from_call(
            actor=centre, line="119", summary="厨房起火", lat=SQUARE[0], lon=SQUARE[1]
        )

    async def scenario():
        fire_socket, traffic_socket = socket(fire_cookie), socket(traffic_cookie)
        for communicator in (fire_socket, traffic_socket):
            assert (await communicator.connect(timeout=5))[0]
            await communicator.receive_json_from(timeout=5)  # hello
        incident = await database_sync_to_async(create)()
        event = await fire_socket.receive_json_from(timeout=5)
        assert event == {
            "event": "incident.created",
            "incident": incident.pk,
            "number": incident.number,
            "status": "answered",
            "desks": ["fire"],
            "district": None,
        }
        assert await traffic_socket.receive_nothing(timeout=0.5)
        await fire_socket.disconnect()
        await traffic_socket.disconnect()

    run(scenario)


def test_district_staff_hear_their_district_and_unlocated_incidents_only(districts):
    centre = dispatcher_of("zhihui")
    heping = dispatcher_of("zhihui", district=districts["210102"])
    cookie = cookie_of(heping)

    def create(district):
        return workflow.create_from_call(
            actor=centre, line="110", summary="纠纷", district=district
        )

    async def scenario():
        communicator = socket(cookie)
        assert (await communicator.connect(timeout=5))[0]
        await communicator.receive_json_from(timeout=5)
        elsewhere = await database_sync_to_async(create)(districts["210103"])
        own = await database_sync_to_async(create)(districts["210102"])
        unlocated = await database_sync_to_async(create)(None)
        heard = [(await communicator.receive_json_from(timeout=5))["incident"] for _ in range(2)]
        assert heard == [own.pk, unlocated.pk] and elsewhere.pk not in heard
        assert await communicator.receive_nothing(timeout=0.3)
        await communicator.disconnect()

    run(scenario)


def test_an_inbound_sms_reaches_the_police_desk_with_its_thread(districts):
    centre = dispatcher_of("zhihui")
    cookie = cookie_of(centre)

    def receive():
        return sms.receive_sms(
            gateway="test", message_id="m-1", phone="13800138000", text="有人砸门"
        )

    async def scenario():
        communicator = socket(cookie)
        assert (await communicator.connect(timeout=5))[0]
        await communicator.receive_json_from(timeout=5)
        message = await database_sync_to_async(receive)()
        # One notice: the message received, which opened the incident (its number for the
        # console to announce) and carries its acknowledgement along.
        event = await communicator.receive_json_from(timeout=5)
        kinds = {event["event"]: event}
        assert set(kinds) == {"sms.received"}
        assert await communicator.receive_nothing(timeout=0.3)  # no incident.created, no sms.sent
        assert event["opened"] is True and event["number"] == message.thread.incident.number
        assert kinds["sms.received"]["thread"] == message.thread_id
        assert "13800138000" not in str(kinds)  # ids and statuses, no personal data
        # The routing rides along (publishing reads no incident): a new SMS alarm is the
        # police desk's and not located yet.
        assert (kinds["sms.received"]["desks"], kinds["sms.received"]["district"]) == (
            ["police"],
            None,
        )
        await communicator.disconnect()

    run(scenario)


def test_groups_follow_desks_and_districts(districts):
    heping = dispatcher_of("xiaofang", district=districts["210102"])
    assert live.groups_for_user(heping) == [
        f"alarms.fire.d{districts['210102'].pk}",
        "alarms.fire.dnone",
    ]
    # A city-level console listens to every district of its desks, and "not located yet".
    every = [f"alarms.traffic.d{d.pk}" for d in sorted(districts.values(), key=lambda d: d.pk)]
    assert live.groups_for_user(dispatcher_of("jiaojing")) == [*every, "alarms.traffic.dnone"]
    assert len(every) == 13
    # A notice goes to its incident's group of each desk: one send a desk.
    assert live.groups_for_event({"desks": ["fire", "police"], "district": None}) == [
        "alarms.fire.dnone",
        "alarms.police.dnone",
    ]
    assert live.groups_for_event({"desk": "traffic", "district": 7}) == ["alarms.traffic.d7"]


def test_a_failing_layer_never_undoes_the_change(monkeypatch, districts, caplog):
    class Broken:
        async def group_send(self, group, message):
            raise ConnectionError("redis is down")

    monkeypatch.setattr("channels.layers.get_channel_layer", lambda *a, **k: Broken())
    live.publish("incident.changed", {"incident": 1, "desks": ["police"], "district": None})
    assert "could not publish" in caplog.text


def test_signing_out_hangs_up_the_console(districts):
    centre = dispatcher_of("zhihui")
    client = Client()
    login_verified_staff(client, centre)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    cookie = f"{settings.SESSION_COOKIE_NAME}={key}".encode()

    async def scenario():
        communicator = socket(cookie)
        assert (await communicator.connect(timeout=5))[0]
        await communicator.receive_json_from(timeout=5)
        await database_sync_to_async(client.logout)()
        assert await communicator.receive_json_from(timeout=5) == {"event": "signed_out"}
        assert (await communicator.receive_output(timeout=5))["type"] == "websocket.close"
        assert await refusal(cookie) == REFUSED  # the session is gone

    run(scenario)


def test_notices_reach_the_browser_without_a_thread_hop(monkeypatch, districts):
    """The point of the async consumer: forwarding a notice (or the sign-out) runs on the
    event loop only, with no sync_to_async call (no worker thread, no database)."""
    centre = dispatcher_of("zhihui")
    cookie = cookie_of(centre)
    hops = []
    counting = False
    original = SyncToAsync.__call__

    async def counted(self, *args, **kwargs):
        if counting:
            hops.append(getattr(self.func, "__name__", repr(self.func)))
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(SyncToAsync, "__call__", counted)

    async def scenario():
        nonlocal counting
        layer = get_channel_layer()
        communicator = socket(cookie)
        assert (await communicator.connect(timeout=5))[0]
        assert (await communicator.receive_json_from(timeout=5))["event"] == "hello"
        counting = True
        payload = {"incident": 7, "status": "new", "desks": ["fire"], "district": None}
        for kind in ("incident.changed", "sms.received"):
            await layer.group_send(
                live.district_group("fire", None),
                {"type": live.EVENT_TYPE, "kind": kind, "payload": payload},
            )
            assert await communicator.receive_json_from(timeout=5) == {**payload, "event": kind}
        await communicator.send_json_to({"ignored": True})  # the console only listens
        assert await communicator.receive_nothing(timeout=0.2)
        await layer.group_send(live.user_group(centre.pk), {"type": live.SIGNED_OUT_TYPE})
        assert await communicator.receive_json_from(timeout=5) == {"event": "signed_out"}
        assert (await communicator.receive_output(timeout=5))["type"] == "websocket.close"
        counting = False
        assert hops == []
        await communicator.disconnect()

    run(scenario)


def test_sms_notices_are_routed_without_a_query(monkeypatch, districts, django_assert_num_queries):
    """An SMS notice carries its incident's desks and district (the incident's current ones:
    here located after the first message), so publishing after commit reads nothing."""
    centre = dispatcher_of("zhihui")
    published = []
    monkeypatch.setattr(live, "publish", lambda kind, payload: published.append((kind, payload)))

    def receive(message_id):
        return sms.receive_sms(
            gateway="test", message_id=message_id, phone="13800138001", text="有人砸门"
        )

    first = receive("m-1")
    workflow.set_location(
        actor=centre, incident=first.thread.incident, district=districts["210102"]
    )
    receive("m-2")
    notices = [(kind, payload) for kind, payload in published if kind.startswith("sms.")]
    assert [kind for kind, _ in notices] == ["sms.received"] * 2  # the acks ride along
    heping = districts["210102"].pk
    assert [payload["district"] for _, payload in notices] == [None, heping]
    with django_assert_num_queries(0):
        groups = [live.groups_for_event(payload) for _, payload in notices]
    assert groups[-1] == [f"alarms.police.d{heping}"]


def test_a_moved_incident_is_announced_to_the_consoles_it_left(monkeypatch, districts):
    """Located in another district, or handed to another desk: the consoles that showed the
    incident are told too (their lists drop it without a reload), not only the new ones."""
    centre = dispatcher_of("zhihui")
    published = []
    monkeypatch.setattr(live, "publish", lambda kind, payload: published.append(payload))
    heping, shenhe = districts["210102"].pk, districts["210103"].pk
    incident = workflow.create_from_call(
        actor=centre, line="110", summary="有人打架", district=districts["210102"]
    )
    workflow.set_location(actor=centre, incident=incident, district=districts["210103"])
    assert set(live.groups_for_event(published[-1])) == {
        f"alarms.police.d{shenhe}",
        f"alarms.police.d{heping}",  # the 和平区 consoles it left
    }
    workflow.classify(actor=centre, incident=incident, desks=["fire"])
    assert set(live.groups_for_event(published[-1])) == {
        f"alarms.fire.d{shenhe}",
        f"alarms.police.d{shenhe}",  # the police desk it left
    }
    workflow.set_location(actor=centre, incident=incident, address="青年大街1号")
    assert "moved_from" not in published[-1]  # not moved: only where it is
    assert set(live.groups_for_event(published[-1])) == {f"alarms.fire.d{shenhe}"}
