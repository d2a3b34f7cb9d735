"""The 12110 SMS verbs: the only code that changes an SMS thread's status. Incident statuses
change through workflow.transition; the rules of workflow.py hold here too (keyword-only
`actor`, one transaction, events and audit entries, the outbox in the same transaction,
live updates after commit).

`receive_sms` stores an inbound message, joins it to the open thread of its number (or
opens a thread and an incident), and queues the automatic acknowledgement in the same
transaction, which must be its own (atomic(durable=True)): when it returns, the message is
committed, and only then may a gateway adapter acknowledge it to the gateway. A crash before
that loses nothing: the gateway redelivers, and the stored gateway message id turns the
redelivery into a lookup of the stored message (`.repeated` is True).

Lock order: incident, thread, then the audit chain (its entries come last).
"""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from servicehall.core import rows
from servicehall.notify import outbox

from . import sql
from .conf import setting
from .models import (
    HUMAN_KINDS,
    Channel,
    Desk,
    Direction,
    Incident,
    MessageKind,
    SmsMessage,
    SmsThread,
    Status,
    ThreadStatus,
    desk_fields,
)
from .texts import SMS_TEXTS
from .workflow import (
    AlarmError,
    clean_mobile,
    clean_text,
    drafted,
    incident_payload,
    locked_incident,
    next_number,
    not_future,
    publish_after_commit,
    record,
    require_work,
    routing_of,
    transition,
)


def _sms_payload(message: SmsMessage, thread: SmsThread) -> dict:
    # The incident's desks and district ride along (as in incident_payload), so that
    # live.publish routes the notice without reading the incident after commit. Every
    # caller holds the thread with its incident loaded and locked: no query here.
    return {
        "message": message.pk,
        "thread": thread.pk,
        "incident": thread.incident_id,
        "sequence": message.sequence,
        "direction": message.direction,
        "kind": message.kind,
        **routing_of(thread.incident),
    }


def _next_sequence(thread: SmsThread) -> int:
    """The next number in a locked thread."""
    thread.last_sequence += 1
    SmsThread.objects.filter(pk=thread.pk).update(last_sequence=thread.last_sequence)
    return thread.last_sequence


def _queue_out(thread: SmsThread, kind: str, text: str, *, actor, now) -> SmsMessage:
    """An outbound message in a locked thread: numbered, stored, queued in the outbox, and
    announced to the consoles."""
    sequence = _next_sequence(thread)
    queued = outbox.notify_sms(
        thread.phone,
        text,
        dedupe_key=f"alarm-sms:{thread.pk}:{sequence}",
        about=thread.incident,
    )
    message = SmsMessage(
        thread=thread,
        sequence=sequence,
        direction=Direction.OUT,
        kind=kind,
        text=text,
        stored_at=now,
        sent_by=actor if getattr(actor, "is_authenticated", False) else None,
        outbox=queued,
    )
    rows.insert(message)
    publish_after_commit("sms.sent", _sms_payload(message, thread))
    return message


def receive_sms(
    *,
    gateway: str,
    message_id: str,
    phone: str,
    text: str,
    received_at: datetime | None = None,
    now: datetime | None = None,
) -> SmsMessage:
    """Store an inbound 12110 message once, in its thread, with its acknowledgement queued.
    Runs in its own transaction (refused inside another one outside tests): when it returns
    the message is committed, and the adapter may acknowledge it to the gateway."""
    now = now or timezone.now()
    gateway = clean_text(gateway, limit=32, label=_("网关"), required=True)
    message_id = clean_text(message_id, limit=128, label=_("网关消息编号"), required=True)
    phone = clean_mobile(phone)
    text = clean_text(
        text, limit=setting("ALARM_SMS_MAX_CHARS"), label=_("短信内容"), required=True
    )
    received_at = not_future(received_at, now)
    label = f"system:sms:{gateway}"[:64]
    # Two tries: a concurrent first message from the same number opens the thread, or a
    # concurrent redelivery stores the message, between our look and our insert. The unique
    # keys refuse the second of the twins; its transaction is rolled back whole (no
    # savepoint to pay for on every message) and run again, when the look finds the winner.
    for attempt in (1, 2):
        try:
            with transaction.atomic(durable=True):
                return _receive(gateway, message_id, phone, text, received_at, now, label)
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _receive(gateway, message_id, phone, text, received_at, now, label) -> SmsMessage:
    found = _open_thread(phone, gateway, message_id)
    if isinstance(found, SmsMessage):
        return found  # a redelivery
    thread, opened, answered_by_hand = found or _new_thread(phone, received_at, now)
    incident = thread.incident
    message = SmsMessage(
        sequence=thread.last_sequence + 1,
        direction=Direction.IN,
        kind=MessageKind.INBOUND,
        text=text,
        gateway=gateway,
        gateway_message_id=message_id,
        received_at=received_at,
        stored_at=now,
    )
    stored = [message]
    # Acknowledged at once until a call-taker has written: then the conversation is theirs.
    # Not announced on its own: the sms.received notice of the same commit has the consoles
    # read the thread, acknowledgement included (one notice per message, not two).
    queued = None
    if not answered_by_hand:
        kind = "ack_first" if message.sequence == 1 else "ack_more"
        body = SMS_TEXTS[kind].format(number=incident.number)
        # One acknowledgement per inbound message: keyed by the message, not by the thread
        # (a new thread has no key yet when its first acknowledgement is written).
        queued = outbox.new_sms(
            phone, body, dedupe_key=f"alarm-ack:{gateway}:{message_id}", about=incident
        )
        stored.append(
            SmsMessage(
                sequence=message.sequence + 1,
                direction=Direction.OUT,
                kind=MessageKind.AUTO_ACK,
                text=body,
                stored_at=now,
            )
        )
    thread.last_sequence = stored[-1].sequence
    # The rows in as few round trips as their keys allow: the thread (written with its last
    # number when new) and the outbox message, then both messages of the thread.
    if opened:
        rows.insert_together([thread, *filter(None, [queued])])
    else:
        if queued is not None:
            rows.insert(queued)
        with connection.cursor() as cursor:  # both numbers handed out in one write
            cursor.execute(sql.SET_LAST_SEQUENCE, [thread.last_sequence, thread.pk])
    for row in stored:
        row.thread = thread
    if queued is not None:
        stored[-1].outbox = queued
    rows.insert_together(stored)
    # The audit entries last: their chain lock is held until commit (core.audit). A new
    # incident's two steps are written in one round trip.
    earlier = ()
    if opened:
        earlier = (drafted(incident, "create_from_sms", actor=None, actor_label=label, at=now),)
    record(
        incident,
        "sms_in",
        actor=None,
        actor_label=label,
        at=now,
        from_status=incident.status,
        details={"thread": thread.pk, "sequence": message.sequence, "gateway": gateway},
        earlier=earlier,
    )
    # One notice for the message, which also says when it opened the incident: the
    # console's lists refresh on any notice, and it announces the new incident from it.
    notice = _sms_payload(message, thread)
    if opened:
        notice.update(opened=True, number=incident.number)
    publish_after_commit("sms.received", notice)
    return message


def _stored(gateway: str, message_id: str) -> SmsMessage | None:
    with connection.cursor() as cursor:
        cursor.execute(sql.STORED_MESSAGE, [gateway, message_id])
        row = cursor.fetchone()
    return _redelivered(row[0]) if row else None


def _redelivered(pk: int) -> SmsMessage:
    message = SmsMessage.objects.get(pk=pk)  # a redelivery: rare, the whole row
    message.repeated = True  # adapters log a redelivery; nothing else differs
    return message


def _open_thread(phone: str, gateway: str, message_id: str):
    """The open thread of `phone` with its incident, both locked, and whether a call-taker
    has written in it; or the message already stored under this gateway message id; or
    None (no open thread, nothing stored) — the common case in one statement."""
    params = [*HUMAN_KINDS, gateway, message_id, phone]
    with connection.cursor() as cursor:
        cursor.execute(sql.locking(sql.OPEN_THREAD), params)
        row = cursor.fetchone()
    if row is None:
        return _stored(gateway, message_id)  # e.g. redelivered after its thread closed
    thread_pk, last_sequence, *incident_values, answered_by_hand, stored = row
    if stored is not None:
        return _redelivered(stored)
    incident = Incident.from_db(None, sql.THREAD_INCIDENT_FIELDS, incident_values)
    thread = SmsThread.from_db(
        None,
        ["id", "phone", "incident_id", "status", "last_sequence"],
        [thread_pk, phone, incident.pk, ThreadStatus.OPEN, last_sequence],
    )
    thread.incident = incident
    return thread, False, bool(answered_by_hand)


def _new_thread(phone: str, received_at, now) -> tuple[SmsThread, bool, bool]:
    """A new SMS incident (inserted) and its thread of `phone` (for the caller to write)."""
    incident = Incident(
        number=next_number(now),
        channel=Channel.SMS,
        status=Status.NEW,
        caller_number=phone,
        received_at=received_at,
        **desk_fields({Desk.POLICE}),
    )
    rows.insert(incident)
    # Written by the caller, with its messages' last number. The partial UNIQUE on open
    # threads refuses a twin opened concurrently (IntegrityError; the twin waited on the
    # incident counter, so it holds no lock we could wait for).
    thread = SmsThread(phone=phone, incident=incident, opened_at=now)
    return thread, True, False


def _locked_thread(thread: SmsThread, actor) -> tuple[SmsThread, Incident]:
    incident = locked_incident(SmsThread.objects.get(pk=thread.pk).incident)
    thread = SmsThread.objects.select_for_update().get(pk=thread.pk)
    if thread.incident_id != incident.pk:  # merged meanwhile: lock the new incident
        incident = locked_incident(thread.incident)
    require_work(actor, incident)
    if thread.status != ThreadStatus.OPEN:
        raise AlarmError(_("该短信对话已结束。"), "thread_closed")
    thread.incident = incident
    return thread, incident


def _human_message(thread, kind, text, *, actor, now) -> SmsMessage:
    thread, incident = _locked_thread(thread, actor)
    if incident.status == Status.NEW:  # the first human reply answers an SMS alarm
        incident.answered_at = max(now, incident.received_at)
        transition(incident, Status.ANSWERED, actor=actor, action="answer", at=now)
    message = _queue_out(thread, kind, text, actor=actor, now=now)
    record(
        incident,
        f"sms_{kind}",
        actor=actor,
        at=now,
        from_status=incident.status,
        details={"thread": thread.pk, "sequence": message.sequence},
    )
    publish_after_commit("incident.changed", incident_payload(incident))
    return message


def reply_sms(*, actor, thread: SmsThread, text: str, now=None) -> SmsMessage:
    """The call-taker answers the person by SMS from the console."""
    now = now or timezone.now()
    text = clean_text(text, limit=500, label=_("回复内容"), required=True)
    with transaction.atomic():
        return _human_message(thread, MessageKind.REPLY, text, actor=actor, now=now)


def ask_location(*, actor, thread: SmsThread, now=None) -> SmsMessage:
    """The templated question for where the person is."""
    now = now or timezone.now()
    with transaction.atomic():
        return _human_message(
            thread, MessageKind.ASK_LOCATION, SMS_TEXTS["ask_location"], actor=actor, now=now
        )


def close_open_thread(thread: SmsThread, incident: Incident, *, actor, now) -> None:
    _queue_out(thread, MessageKind.CLOSING, SMS_TEXTS["closing"], actor=actor, now=now)
    thread.status = ThreadStatus.CLOSED
    thread.closed_at = now
    thread.save(update_fields=["status", "closed_at"])
    record(
        incident,
        "sms_close_thread",
        actor=actor,
        at=now,
        from_status=incident.status,
        details={"thread": thread.pk},
    )


def close_thread(*, actor, thread: SmsThread, now=None) -> SmsThread:
    """End the conversation (the person is told); a later message from the number opens a
    new thread and a new incident."""
    now = now or timezone.now()
    with transaction.atomic():
        thread, incident = _locked_thread(thread, actor)
        close_open_thread(thread, incident, actor=actor, now=now)
        publish_after_commit("incident.changed", incident_payload(incident))
    return thread


__all__ = ["ask_location", "close_open_thread", "close_thread", "receive_sms", "reply_sms"]
