"""The HTTP callback adapter for inbound 12110 messages: how a cloud SMS service hands us
what a person texted to 12110.

    POST /sms/inbound/<gateway>/
    X-Servicehall-Timestamp: 1767225600
    X-Servicehall-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">
    {"id": "<provider message id>", "from": "13800138000", "to": "12110",
     "text": "...", "received_at": "2026-12-07T16:00:00+08:00"}

The body is one such object or a JSON array of them (providers batch their callbacks); a
batch is stored in its order. The signature is notify's (gateways.signature_valid, the same
code that checks delivery receipts), with a shared secret per gateway name from
ALARM_SMS_INBOUND_SECRETS and a signed timestamp within ALARM_SMS_INBOUND_MAX_SKEW_SECONDS.

Answers, and what the provider does with them:

* 200 — every message of the body is stored and committed (or was already: a redelivery
  answers 200 again and stores nothing twice). Only now may the provider forget it.
* 400 — malformed: not JSON, a field missing, not a mobile number, not sent to 12110.
  Permanent: retrying the same body cannot succeed.
* 403 — no, bad or stale signature, or the gateway has no secret configured. Nothing is
  read beyond the signature and nothing is stored.
* 404 — no such gateway name.
* 503 — the database failed: nothing of this message was committed; the provider redelivers
  (`Retry-After`), and the gateway message id makes the redelivery store it once.

Answers are JSON for a machine, in English.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import DatabaseError
from django.utils.dateparse import parse_datetime
from django.utils.timezone import is_naive, make_aware

from servicehall.notify.gateways import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature_valid

from .conf import setting
from .sms import receive_sms

logger = logging.getLogger("servicehall.alarms.sms")

MAX_BATCH = 100


class InboundRefused(Exception):
    """A callback we answer with an HTTP error (`http_status`), storing nothing more."""

    def __init__(self, http_status: int, error: str):
        super().__init__(error)
        self.http_status = http_status
        self.error = error


@dataclass(frozen=True)
class Inbound:
    """One inbound message as a gateway reported it, before validation by receive_sms."""

    message_id: str
    phone: str
    text: str
    received_at: datetime | None = None


def gateway_secret(name: str) -> str | None:
    """The shared secret of an inbound HTTP gateway; None for an unknown name."""
    secrets = setting("ALARM_SMS_INBOUND_SECRETS") or {}
    return secrets.get(name) if name in secrets else None


def check_signature(name: str, headers, body: bytes, *, now: float | None = None) -> None:
    secret = gateway_secret(name)
    if secret is None:
        raise InboundRefused(404, "unknown gateway")
    if not secret:
        raise InboundRefused(403, "inbound messages are not enabled for this gateway")
    if not signature_valid(
        secret,
        headers.get(TIMESTAMP_HEADER, ""),
        headers.get(SIGNATURE_HEADER, ""),
        body,
        max_skew=setting("ALARM_SMS_INBOUND_MAX_SKEW_SECONDS"),
        now=now,
    ):
        raise InboundRefused(403, "bad signature")


def _service_number_ok(to: str) -> bool:
    # Providers may append the extension a number was texted to (1211001...).
    return any(to.startswith(number) for number in setting("ALARM_SMS_SERVICE_NUMBERS"))


def _string(item: dict, key: str, *, required: bool = True) -> str:
    value = item.get(key)
    if value is None and not required:
        return ""
    if isinstance(value, int) and not isinstance(value, bool) and key in ("id", "from", "to"):
        value = str(value)  # numbers sent as JSON numbers
    if not isinstance(value, str) or (required and not value.strip()):
        raise InboundRefused(400, f"{key} must be a non-empty string")
    return value


def parse_body(body: bytes) -> list[Inbound]:
    """The messages of a callback body, in order; InboundRefused(400) when malformed."""
    try:
        data = json.loads(body)
    except ValueError:
        raise InboundRefused(400, "body is not JSON") from None
    items = data if isinstance(data, list) else [data]
    if not items or len(items) > MAX_BATCH:
        raise InboundRefused(400, f"a body holds 1 to {MAX_BATCH} messages")
    messages = []
    for item in items:
        if not isinstance(item, dict):
            raise InboundRefused(400, "each message must be a JSON object")
        to = _string(item, "to")
        if not _service_number_ok(to.strip()):
            raise InboundRefused(400, "to is not a 12110 service number")
        received_at = None
        stamp = _string(item, "received_at", required=False)
        if stamp:
            try:
                received_at = parse_datetime(stamp)
            except ValueError:
                received_at = None
            if received_at is None:
                raise InboundRefused(400, "received_at must be an ISO 8601 date and time")
            if is_naive(received_at):
                received_at = make_aware(received_at)
        messages.append(
            Inbound(
                message_id=_string(item, "id").strip(),
                phone=_string(item, "from"),
                text=_string(item, "text"),
                received_at=received_at,
            )
        )
    return messages


def store(gateway: str, messages: list[Inbound]) -> list:
    """Store each message through receive_sms (each its own committed transaction), in
    order. Raises InboundRefused(400) for a message receive_sms refuses (a bad number):
    those before it stay stored, and the provider's retry of the whole body finds them."""
    stored = []
    for inbound in messages:
        try:
            message = receive_sms(
                gateway=gateway,
                message_id=inbound.message_id,
                phone=inbound.phone,
                text=inbound.text,
                received_at=inbound.received_at,
            )
        except ValidationError as exc:
            raise InboundRefused(400, f"refused: {exc.code or 'invalid'}") from exc
        if getattr(message, "repeated", False):
            logger.info("12110 %s: message %s redelivered, already stored", gateway, message.pk)
        stored.append(message)
    return stored


def handle_callback(gateway: str, headers, body: bytes) -> tuple[int, dict]:
    """The whole callback, from raw request to (HTTP status, JSON answer)."""
    try:
        check_signature(gateway, headers, body)
        stored = store(gateway, parse_body(body))
    except InboundRefused as exc:
        if exc.http_status == 403:
            logger.warning("12110 %s: callback refused: %s", gateway, exc.error)
        return exc.http_status, {"ok": False, "error": exc.error}
    except DatabaseError:
        # Nothing of the failing message was committed: the provider must redeliver.
        logger.exception("12110 %s: database error storing an inbound message", gateway)
        return 503, {"ok": False, "error": "temporarily unavailable, retry"}
    return 200, {
        "ok": True,
        "stored": [
            {"id": m.gateway_message_id, "repeated": bool(getattr(m, "repeated", False))}
            for m in stored
        ],
    }
