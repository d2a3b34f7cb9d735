"""The console's pages: who may open them, each action calls its verb, bad input gets
Chinese field errors with a 4xx, refusals keep their status, caller numbers stay masked
unless revealed for a purpose (audited)."""

import pytest
from django.test import Client
from django.urls import reverse

from servicehall.accounts.tests.factories import (
    CitizenFactory,
    StaffFactory,
    department,
    login_verified_staff,
)
from servicehall.alarms import sms, workflow
from servicehall.alarms.models import Incident, SmsMessage, Status, UnitKind, UnitStatus
from servicehall.core.models import AuditEntry

from .conftest import SQUARE, make_unit, north_of

pytestmark = pytest.mark.django_db
KEY = "3f0e5a52-3a43-4c43-9d2e-2b2f5f8d0c01"


def client_of(user, *, verified=True) -> Client:
    client = Client()
    if verified:
        login_verified_staff(client, user)
    else:
        client.force_login(user)
    return client


def fire_call(actor, **extra):
    extra.setdefault("caller_number", "13912345678")
    extra.setdefault("caller_name", "王小明")
    return workflow.create_from_call(
        actor=actor, line="119", summary="厨房起火", lat=SQUARE[0], lon=SQUARE[1], **extra
    )


def test_who_may_open_the_console(centre, traffic, districts):
    url = reverse("alarms_console:console")
    assert Client().get(url).status_code == 302  # to the login page
    citizen = Client()
    citizen.force_login(CitizenFactory())
    assert citizen.get(url).status_code == 403
    assert client_of(centre, verified=False).get(url).status_code == 302  # to the OTP step
    clerk = StaffFactory(roles=["window_clerk"], department=department("zhihui"))
    response = client_of(clerk).get(url)
    assert response.status_code == 403 and "接警调度员" in response.content.decode()
    page = client_of(centre).get(url)
    assert page.status_code == 200
    assert "ws://testserver" in page["Content-Security-Policy"]
    assert "no-store" in page["Cache-Control"]


def test_the_console_lists_open_incidents_of_the_desks_only(centre, traffic):
    incident = fire_call(centre)
    listed = client_of(centre).get(reverse("alarms_console:console_live")).content.decode()
    assert incident.number in listed and "139****5678" in listed and "13912345678" not in listed
    other = client_of(traffic).get(reverse("alarms_console:console_live"))
    assert incident.number not in other.content.decode()
    assert other["X-Alarms-Fragment"] == "1"
    page = client_of(traffic).get(reverse("alarms_console:incident", args=[incident.number]))
    assert page.status_code == 403


def test_a_call_taker_records_a_call(centre):
    client = client_of(centre)
    url = reverse("alarms_console:new_call")
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "submission": "0b7c1c1e-9e0c-4a53-8f43-6b8e39a1c001",
            "line": "119",
            "caller_number": "139-1234-5678",
            "summary": "三楼厨房冒烟",
            "address": "和平区南京北街1号",
            "lat": "41.803",
            "lon": "123.432",
            "priority": "1",
            "incident_type": "fire",
        },
    )
    incident = Incident.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("alarms_console:incident", args=[incident.number])
    assert incident.desks == {"fire"} and incident.priority == 1
    assert incident.caller_number == "13912345678" and str(incident.lat) == "41.803000"
    page = client.get(response["Location"]).content.decode()
    assert "三楼厨房冒烟" in page and "139****5678" in page and "13912345678" not in page


def test_a_double_click_records_one_call(centre):
    client = client_of(centre)
    url = reverse("alarms_console:new_call")
    key = client.get(url).context["form"]["submission"].value()
    data = {"line": "110", "summary": "有人打架", "priority": "2", "submission": key}
    first, second = client.post(url, data), client.post(url, data)
    number = Incident.objects.get().number
    assert first["Location"] == second["Location"]
    assert first["Location"] == reverse("alarms_console:incident", args=[number])
    other = client.post(url, {**data, "submission": "6d1b6a0e-3c55-4a39-9a61-1f0f4f6f6f6f"})
    assert other.status_code == 302 and Incident.objects.count() == 2


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"summary": "x"}, "line", "请选择报警电话"),
        ({"line": "119"}, "summary", "请填写警情摘要"),
        ({"line": "119", "summary": "x", "lat": "41.8"}, "lon", "纬度和经度须同时填写"),
        ({"line": "119", "summary": "x", "lat": "141", "lon": "1"}, "lat", "经纬度无效"),
        ({"line": "999", "summary": "x"}, "line", "选择一个有效的选项"),
    ],
)
def test_bad_input_gets_chinese_field_errors(centre, data, field, message):
    response = client_of(centre).post(
        reverse("alarms_console:new_call"), {"priority": "2", "submission": KEY, **data}
    )
    assert response.status_code == 400
    assert message in str(response.context["form"].errors[field])
    assert not Incident.objects.exists()


def test_a_traffic_dispatcher_may_not_take_a_fire_call(traffic):
    data = {"line": "119", "summary": "起火", "priority": "2", "submission": KEY}
    response = client_of(traffic).post(reverse("alarms_console:new_call"), data)
    assert response.status_code == 403 and "无权" in response.content.decode()


def test_each_incident_action_calls_its_verb(centre, districts, monkeypatch):
    incident = fire_call(centre)
    twin = fire_call(centre, caller_number="13900000000")
    engine = make_unit(UnitKind.FIRE_ENGINE, position=north_of(SQUARE, 900))
    far = make_unit(UnitKind.FIRE_ENGINE, position=north_of(SQUARE, 5000))
    client = client_of(centre)
    page = client.get(reverse("alarms_console:incident", args=[incident.number])).content.decode()
    # The nearest engine first, and the twin suggested as a duplicate.
    assert page.index(f'id="assign-{engine.pk}"') < page.index(f'id="assign-{far.pk}"')
    assert f'id="merge-{twin.pk}"' in page

    def act(name, number=incident.number, **data):
        return client.post(reverse("alarms_console:act", args=[number, name]), data)

    assert (
        act("classify", desks=["fire", "police"], incident_type="fire", priority="1").status_code
        == 302
    )
    assert (
        act("locate", address="和平区南京北街1号", district=districts["210102"].pk).status_code
        == 302
    )
    assert act("assign", unit=engine.pk).status_code == 302
    assert act("assign", unit=engine.pk).status_code == 409  # a double click: sent once
    assert act("merge", number=twin.number, into=incident.number).status_code == 302
    status_url = reverse("alarms_console:unit_status", args=[engine.pk])
    for step in ("on_scene", "returning"):
        assert (
            client.post(status_url, {"status": step, "incident": incident.number}).status_code
            == 302
        )
    assert act("close", outcome="handled", note="已扑灭").status_code == 302
    incident.refresh_from_db()
    twin.refresh_from_db()
    assert incident.status == Status.CLOSED and incident.desks == {"fire", "police"}
    assert incident.district == districts["210102"] and incident.priority == 1
    assert twin.status == Status.MERGED and twin.merged_into == incident
    engine.refresh_from_db()
    assert engine.status == UnitStatus.RETURNING
    actions = list(incident.events.values_list("action", flat=True))
    for verb in ("classify", "set_location", "assign_unit", "unit_status", "merge_in", "close"):
        assert verb in actions
    page = client.get(reverse("alarms_console:incident", args=[incident.number])).content.decode()
    for stamp in ("报警", "接警", "派警", "到场", "结警", "总用时"):
        assert stamp in page


def test_refusals_keep_their_status(centre, fire):
    incident = fire_call(centre)
    client = client_of(centre)
    url = reverse("alarms_console:act", args=[incident.number, "close"])
    assert client.post(url, {}).status_code == 400  # no outcome chosen
    assert "请选择处置结果" in client.post(url, {}).content.decode()
    car = make_unit(UnitKind.PATROL_CAR)
    response = client.post(
        reverse("alarms_console:act", args=[incident.number, "assign"]), {"unit": car.pk}
    )
    assert response.status_code == 403  # a patrol car to a fire-only incident
    status_url = reverse("alarms_console:unit_status", args=[car.pk])
    assert client.post(status_url, {"status": "on_scene"}).status_code == 409  # not dispatched
    assert client.post(status_url, {"status": "flying"}).status_code == 400
    assert (
        client.post(reverse("alarms_console:act", args=[incident.number, "explode"])).status_code
        == 403
    )
    assert (
        client_of(centre).get(reverse("alarms_console:incident", args=["JJ000"])).status_code == 404
    )


def test_the_caller_is_revealed_for_a_purpose_and_audited(centre):
    incident = fire_call(centre)
    client = client_of(centre)
    url = reverse("alarms_console:reveal", args=[incident.number])
    assert client.post(url, {"purpose": ""}).status_code == 400
    response = client.post(url, {"purpose": "回拨核实地址"})
    assert response.status_code == 200 and "13912345678" in response.content.decode()
    entry = AuditEntry.objects.filter(action="personal_data.read").get()
    assert entry.purpose == "回拨核实地址" and entry.actor == centre


def test_an_sms_conversation_from_the_console(centre):
    message = sms.receive_sms(
        gateway="test", message_id="m-1", phone="13800138000", text="有人砸门"
    )
    thread = message.thread
    client = client_of(centre)
    page = client.get(reverse("alarms_console:thread", args=[thread.pk])).content.decode()
    assert "有人砸门" in page and "138****8000" in page and "13800138000" not in page
    live = client.get(reverse("alarms_console:console_live")).content.decode()
    assert "待回复" in live and "有人砸门" in live

    def act(name, **data):
        return client.post(reverse("alarms_console:thread_act", args=[thread.pk, name]), data)

    assert act("reply", text="").status_code == 400
    assert act("reply", text="民警已出发，请注意安全。").status_code == 302
    assert act("ask_location").status_code == 302
    assert act("close").status_code == 302
    assert act("reply", text="还在吗").status_code == 409  # the conversation has ended
    kinds = list(thread.messages.order_by("sequence").values_list("kind", flat=True))
    assert kinds == ["inbound", "auto_ack", "reply", "ask_location", "closing"]
    reply = SmsMessage.objects.get(thread=thread, kind="reply")
    assert reply.outbox.recipient == "13800138000" and reply.outbox.body.endswith("请注意安全。")
    messages = client.get(reverse("alarms_console:thread_live", args=[thread.pk])).content.decode()
    assert messages.index("有人砸门") < messages.index("民警已出发")


def test_the_console_s_background_reads_do_not_keep_a_session_alive(centre):
    from servicehall.accounts.signin import STAFF_SEEN_KEY

    client = client_of(centre)
    session = client.session
    session[STAFF_SEEN_KEY] -= 60
    session.save()
    seen = session[STAFF_SEEN_KEY]
    url = reverse("alarms_console:console_live")
    assert client.get(url, headers={"X-Background-Refresh": "1"}).status_code == 200
    assert client.session[STAFF_SEEN_KEY] == seen
    assert client.get(url).status_code == 200  # the officer's own request does
    assert client.session[STAFF_SEEN_KEY] > seen
