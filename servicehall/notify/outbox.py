"""Queue a notification: the only way other apps send an SMS or an e-mail.

    from servicehall.notify.outbox import enqueue, notify_email, notify_sms

    with transaction.atomic():
        ...change the case's status...
        notify_sms(profile.mobile, "您的申请已受理……", dedupe_key=f"case:{case.pk}:accepted",
                   about=case)

Why it works this way:

* The row is INSERTed in the caller's transaction and nothing else happens: no network call
  in the request. If the caller rolls back, the notification was never queued; once the
  caller commits, the row is durable and a `run_outbox` worker delivers it, retrying while
  the gateway is down. Calling it outside `transaction.atomic()` is refused, because then
  the notification and the change it announces could part ways.
* `dedupe_key` makes queuing idempotent: the same key returns the row already queued (by
  this transaction, an earlier one, or a concurrent one — on PostgreSQL the INSERT waits
  for a concurrent holder of the key to commit or roll back). Keys name the event, e.g.
  "case:42:accepted", never a time.
* A recipient that cannot be used (empty, not a phone number / e-mail address) does not
  break the caller's transaction — a status change must not fail because a citizen's
  contact data is bad. The row is stored as `failed` with the reason, visible to staff.
  Programming errors (unknown channel, empty body, an over-long key) raise ValueError.
"""

from __future__ import annotations

import logging
import re

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection
from django.db.models import Model
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from servicehall.core import rows

from .models import Channel, Message, Status, mask_recipient

__all__ = ["enqueue", "normalise_phone", "notify_email", "notify_sms"]

logger = logging.getLogger("servicehall.notify")

_CN_MOBILE = re.compile(r"^1[3-9]\d{9}$")
# E.164 for the few foreign numbers (exit-entry applicants): "+" and 8 to 15 digits.
_E164 = re.compile(r"^\+[1-9]\d{7,14}$")
_PHONE_NOISE = re.compile(r"[\s\-()（）]")


def normalise_phone(value: object) -> str | None:
    """A mainland mobile as 11 digits ("+86 138-1234-5678" -> "13812345678"), a foreign
    number as E.164, or None when it is neither."""
    text = _PHONE_NOISE.sub("", "" if value is None else str(value))
    for prefix in ("+86", "0086"):
        if text.startswith(prefix) and _CN_MOBILE.match(text[len(prefix) :]):
            return text[len(prefix) :]
    if _CN_MOBILE.match(text) or _E164.match(text):
        return text
    return None


def _normalise_email(value: object) -> str | None:
    text = ("" if value is None else str(value)).strip()
    try:
        validate_email(text)
    except ValidationError:
        return None
    return text


def _about(about) -> tuple[str, str]:
    if about is None:
        return "", ""
    if isinstance(about, Model):
        return about._meta.label_lower, str(about.pk)
    kind, ident = about
    return str(kind), str(ident)


def enqueue(**fields) -> Message:
    """Queue one message in the caller's transaction and return its row. `fields`: what
    `new_message` takes (channel, to, body, subject, dedupe_key, about). With `dedupe_key`,
    a second call with the same key returns the first row unchanged (whatever its content).
    """
    message = new_message(**fields)
    # INSERT ... ON CONFLICT DO NOTHING RETURNING id: a row back is ours; none means the key
    # is held, and the row that holds it is read. Unlike get_or_create this needs no
    # savepoint and logs no error, and on PostgreSQL the INSERT blocks on a concurrent
    # uncommitted holder of the key, so the read afterwards sees whichever row won.
    if rows.insert(message, ignore_conflicts=message.dedupe_key is not None):
        return message
    return Message.objects.get(dedupe_key=message.dedupe_key)


def new_message(
    *,
    channel: str,
    to: str,
    body: str,
    subject: str = "",
    dedupe_key: str | None = None,
    about: Model | tuple[str, str] | None = None,
) -> Message:
    """The row `enqueue` inserts, not inserted yet: for a caller that writes it together with
    other rows of the same change (audit.record's `along`; its `dedupe_key`, if any, must be
    new then: a key already held fails the whole statement). `about` is a model instance or
    an ("app.model", "id") pair."""
    if channel not in Channel.values:
        raise ValueError(f"unknown notification channel {channel!r}")
    if not (body or "").strip():
        raise ValueError("a notification needs a body")
    if dedupe_key is not None and not (0 < len(dedupe_key) <= 200):
        raise ValueError("dedupe_key must be 1 to 200 characters")
    if not connection.in_atomic_block:
        raise TransactionManagementError(
            "notify.enqueue() must run inside the caller's transaction.atomic(), so that "
            "the notification commits or rolls back with the change it announces"
        )

    recipient = normalise_phone(to) if channel == Channel.SMS else _normalise_email(to)
    about_type, about_id = _about(about)
    message = Message(
        channel=channel,
        recipient=recipient or str(to or "").strip()[:254],
        # A header cannot hold a line break; the SMTP backend would refuse the whole message.
        subject=" ".join((subject or "").split())[:255],
        body=body,
        dedupe_key=dedupe_key,
        about_type=about_type[:100],
        about_id=about_id[:64],
        status=Status.PENDING,
        next_attempt_at=timezone.now(),
    )
    if recipient is None:
        message.status = Status.FAILED
        message.next_attempt_at = None
        message.last_error = "invalid recipient: not a usable " + (
            "mobile number" if channel == Channel.SMS else "e-mail address"
        )
        logger.warning(
            "notify: %s to %s not queued: invalid recipient",
            channel,
            mask_recipient(channel, to),
        )

    return message


def notify_sms(
    to: str,
    body: str,
    *,
    dedupe_key: str | None = None,
    about: Model | tuple[str, str] | None = None,
) -> Message:
    """Queue an SMS (see `enqueue`)."""
    return enqueue(channel=Channel.SMS, to=to, body=body, dedupe_key=dedupe_key, about=about)


def new_sms(
    to: str,
    body: str,
    *,
    dedupe_key: str | None = None,
    about: Model | tuple[str, str] | None = None,
) -> Message:
    """An SMS row not inserted yet (see `new_message`)."""
    return new_message(channel=Channel.SMS, to=to, body=body, dedupe_key=dedupe_key, about=about)


def notify_email(
    to: str,
    subject: str,
    body: str,
    *,
    dedupe_key: str | None = None,
    about: Model | tuple[str, str] | None = None,
) -> Message:
    """Queue an e-mail (see `enqueue`)."""
    return enqueue(
        channel=Channel.EMAIL,
        to=to,
        subject=subject,
        body=body,
        dedupe_key=dedupe_key,
        about=about,
    )
