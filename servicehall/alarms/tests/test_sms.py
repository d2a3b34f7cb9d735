"""12110 SMS: threads by number, the acknowledgement queued with the inbound message,
redelivery without duplicates, order by sequence, the call-taker's replies, closing."""

from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from servicehall.alarms import sms as alarm_sms
from servicehall.alarms import workflow
from servicehall.alarms.models import (
    Incident,
    MessageKind,
    SmsMessage,
    SmsThread,
    Status,
    ThreadStatus,
)
from servicehall.alarms.texts import SMS_TEXTS
from servicehall.notify.models import Message

from .conftest import at

pytestmark = pytest.mark.django_db

A, B = "13912340001", "13912340002"


def sms(message_id, phone=A, text="有人抢劫，我在中街", seconds=0, gateway="http"):
    return alarm_sms.receive_sms(
        gateway=gateway,
        message_id=message_id,
        phone=phone,
        text=text,
        received_at=at(seconds),
        now=at(seconds + 1),
    )


def test_messages_thread_by_number(districts):
    first = sms("m1", A)
    other = sms("m2", B, text="我被跟踪了")
    second = sms("m3", "+86 139-1234-0001", text="在中街北口", seconds=30)
    assert first.thread_id == second.thread_id != other.thread_id
    assert SmsThread.objects.count() == 2 and Incident.objects.count() == 2
    incident = first.thread.incident
    assert incident.channel == "sms" and incident.status == Status.NEW
    assert incident.caller_number == A and incident.received_at == at(0)
    assert incident.desks == {"police"}
    inbound = SmsMessage.objects.filter(thread=first.thread, direction="in").order_by("sequence")
    assert [m.text for m in inbound] == ["有人抢劫，我在中街", "在中街北口"]


def test_a_new_sms_alarm_records_its_opening_then_the_message_in_order(districts):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from servicehall.alarms import queries
    from servicehall.core import audit
    from servicehall.core.models import AuditEntry

    with CaptureQueriesContext(connection) as captured:
        incident = sms("m1").thread.incident
    steps = [e.action for e in queries.timeline(incident).events]
    assert steps == ["create_from_sms", "sms_in"]
    entries = AuditEntry.objects.filter(action__startswith="alarm.").order_by("sequence")
    assert [e.action for e in entries] == ["alarm.create_from_sms", "alarm.sms_in"]
    assert audit.verify_chain().ok
    # Both steps' events and audit entries are written in one statement (PostgreSQL).
    writes = [q for q in captured if "core_auditentry" in q["sql"] and "INSERT" in q["sql"]]
    assert len(writes) == (1 if connection.vendor == "postgresql" else 2)


def test_a_message_is_stored_in_few_round_trips(districts):
    """What a 12110 rush costs the database per message (bench-alarms): an opening holds the
    day's incident-number row from its number to COMMIT, so its statements after the number
    are what limits how many alarms open a second."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def statements(captured):
        skip = ("SAVEPOINT", "RELEASE", "BEGIN", "COMMIT", "ROLLBACK")
        return [q["sql"] for q in captured if not q["sql"].lstrip().upper().startswith(skip)]

    with CaptureQueriesContext(connection) as opening:
        sms("m1")
    with CaptureQueriesContext(connection) as joining:
        sms("m2", seconds=20)
    opened = statements(opening)
    after_number = opened[[i for i, q in enumerate(opened) if "incidentcounter" in q][0] + 1 :]
    if connection.vendor == "postgresql":
        # The thread with the outbox row, both messages, the audit lock and head, the audit
        # entries with the events: 17 statements in all at the start of the session, 8 now.
        assert (len(opened), len(after_number)) == (8, 5)
        assert len(statements(joining)) == 6  # was 8
    else:  # one INSERT a row
        assert len(statements(joining)) <= 9


def test_each_inbound_is_acknowledged_in_the_same_transaction(districts):
    message = sms("m1")
    thread = message.thread
    rows = list(thread.messages.order_by("sequence"))
    assert [(m.sequence, m.direction, m.kind) for m in rows] == [
        (1, "in", "inbound"),
        (2, "out", "auto_ack"),
    ]
    ack = rows[1].outbox
    assert ack.recipient == A and ack.status == "pending"
    assert ack.body == SMS_TEXTS["ack_first"].format(number=thread.incident.number)
    sms("m2", seconds=20)
    assert thread.messages.filter(kind="auto_ack").count() == 2
    assert Message.objects.filter(body__startswith="【12110】短信已收到").count() == 1


def test_a_failure_before_commit_stores_nothing_and_the_redelivery_is_stored_once(districts):
    # The ack cannot be queued (a crash between receiving and storing): nothing is kept, the
    # adapter did not acknowledge, the gateway redelivers.
    with (
        mock.patch("servicehall.notify.outbox.new_sms", side_effect=RuntimeError("down")),
        pytest.raises(RuntimeError),
    ):
        sms("m1")
    assert not SmsMessage.objects.exists() and not Incident.objects.exists()
    stored = sms("m1")
    assert not getattr(stored, "repeated", False)
    # Stored, but the acknowledgement to the gateway was lost: the redelivery finds it.
    again = sms("m1")
    assert again.pk == stored.pk and again.repeated is True
    assert SmsMessage.objects.filter(direction="in").count() == 1
    assert Message.objects.count() == 1  # one acknowledgement, not two
    # The same id from another gateway is another message.
    assert sms("m1", gateway="smpp").pk != stored.pk


def test_receive_refuses_to_run_inside_a_callers_transaction(districts):
    with pytest.raises(RuntimeError), transaction.atomic():
        sms("m1")


def test_order_is_kept_by_sequence_with_replies_interleaved(centre):
    sms("m1", seconds=0)
    thread = SmsThread.objects.get()
    alarm_sms.ask_location(actor=centre, thread=thread, now=at(40))
    sms("m2", text="沈河区中街路100号", seconds=60)
    alarm_sms.reply_sms(actor=centre, thread=thread, text="民警已出发，请注意安全。", now=at(90))
    rows = list(thread.messages.order_by("sequence"))
    assert [m.sequence for m in rows] == [1, 2, 3, 4, 5]
    assert [m.kind for m in rows] == ["inbound", "auto_ack", "ask_location", "inbound", "reply"]
    # After a call-taker has written, inbound messages are not auto-acknowledged any more.
    assert rows[2].text == SMS_TEXTS["ask_location"] and rows[2].sent_by == centre
    assert rows[4].outbox.body == "民警已出发，请注意安全。"


def test_the_first_human_reply_answers_the_sms_alarm(centre):
    message = sms("m1", seconds=0)
    alarm_sms.reply_sms(actor=centre, thread=message.thread, text="收到，请说明位置。", now=at(35))
    incident = Incident.objects.get()
    assert incident.status == Status.ANSWERED and incident.answered_at == at(35)


def test_closing_the_thread_tells_the_person_and_a_new_message_opens_a_new_alarm(centre):
    message = sms("m1")
    alarm_sms.close_thread(actor=centre, thread=message.thread, now=at(100))
    thread = SmsThread.objects.get(pk=message.thread_id)
    assert thread.status == ThreadStatus.CLOSED and thread.closed_at == at(100)
    assert thread.messages.order_by("-sequence").first().kind == MessageKind.CLOSING
    with pytest.raises(ValidationError, match="对话已结束"):
        alarm_sms.reply_sms(actor=centre, thread=thread, text="还在吗", now=at(110))
    later = sms("m2", text="又有情况", seconds=200)
    assert later.thread_id != thread.pk and Incident.objects.count() == 2


def test_closing_the_incident_closes_its_conversation(centre):
    message = sms("m1")
    incident = message.thread.incident
    workflow.answer(actor=centre, incident=incident, now=at(10))
    workflow.close(actor=centre, incident=incident, outcome="advice", now=at(60))
    assert SmsThread.objects.get().status == ThreadStatus.CLOSED


def test_a_merged_sms_alarm_continues_on_the_incident_it_joined(centre):
    call = workflow.create_from_call(actor=centre, line="110", received_at=at(0), now=at(5))
    message = sms("m1", seconds=10)
    workflow.merge(actor=centre, incident=message.thread.incident, into=call, now=at(20))
    sms("m2", seconds=30)
    assert SmsThread.objects.get().incident == call
    assert SmsMessage.objects.filter(direction="in").count() == 2


def test_a_traffic_dispatcher_cannot_answer_a_police_sms(traffic):
    message = sms("m1")
    with pytest.raises(PermissionDenied):
        alarm_sms.reply_sms(actor=traffic, thread=message.thread, text="收到", now=at(10))
    assert not SmsMessage.objects.filter(kind="reply").exists()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"phone": "12345"}, "手机号码格式不正确"),
        ({"phone": ""}, "手机号码格式不正确"),
        ({"text": "   "}, "请填写短信内容"),
        ({"message_id": ""}, "请填写网关消息编号"),
    ],
)
def test_wrong_input_is_refused_in_chinese(districts, fields, message):
    values = {"gateway": "http", "message_id": "m1", "phone": A, "text": "救命", **fields}
    with pytest.raises(ValidationError) as refused:
        alarm_sms.receive_sms(**values)
    assert message in refused.value.messages[0]
    assert not SmsMessage.objects.exists()


def test_an_empty_reply_is_refused(centre):
    message = sms("m1")
    with pytest.raises(ValidationError, match="请填写回复内容"):
        alarm_sms.reply_sms(actor=centre, thread=message.thread, text=" ", now=at(10))
