"""Delivering the outbox: the worker side. Every change of a message after it was queued
happens here.

    deliver_due(limit=20)            # one batch; `manage.py run_outbox` loops over it
    apply_receipt("prov-id", "delivered")
    requeue(messages, actor=user)    # staff: send failed messages again (audited)
    purge(days=180)                  # retention

How a batch runs, and why:

1. Claim. In one short transaction the due rows (pending, or sending with an expired lease)
   are selected with `FOR UPDATE SKIP LOCKED` on PostgreSQL — concurrent workers take
   disjoint rows without waiting for each other — and marked `sending` with
   `attempts + 1` and a lease (`next_attempt_at` = now + NOTIFY_SENDING_TIMEOUT_SECONDS).
   Without SKIP LOCKED (SQLite) each row is claimed by its own guarded UPDATE, so even two
   workers on SQLite never claim one row twice. The claim commits before any network call:
   a slow gateway never holds a database lock.
2. Send, outside any transaction. A message is only sent while its lease has more than a
   gateway timeout left; the rest of a slow batch goes back to pending untouched, so no
   other worker can take over a message we are still sending.
3. Record: sent (+ provider id), or pending again after a backoff (temporary error), or
   failed (permanent error, or attempts exhausted). The UPDATE is fenced by the claim
   (status, attempts and lease must still be ours): if the lease ran out and another worker
   re-claimed the row, our late result is dropped and logged rather than overwriting
   theirs.

Delivery is at-least-once: a worker killed after the provider accepted a message but before
step 3 committed leaves it `sending`; when the lease ends it is sent again (the HTTP SMS
gateway sends a stable Idempotency-Key so a provider can drop the duplicate). A row that is
found stuck after its last allowed attempt is failed, not sent again, so a message that
crashes workers cannot loop forever.
"""

from __future__ import annotations

import enum
import logging
import random
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from servicehall.core import audit
from servicehall.core.masking import mask_phone

from .conf import setting
from .gateways import Gateway, GatewayError, PermanentGatewayError, get_gateway
from .models import FINAL_STATUSES, WORK_STATUSES, Channel, Message, Status, mask_email

__all__ = [
    "DeliveryReport",
    "ReceiptOutcome",
    "apply_receipt",
    "backoff_seconds",
    "deliver_due",
    "purge",
    "requeue",
]

logger = logging.getLogger("servicehall.notify")

# Kept when a lease is checked before sending: a send may take up to the gateway timeout.
LEASE_SAFETY_SECONDS = 5


@dataclass
class DeliveryReport:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    # Claimed but handed back unsent (stop requested, or the lease ran short).
    released: int = 0
    # Our result was dropped because another worker had re-claimed the message.
    lost: int = 0

    def __str__(self):
        return (
            f"claimed {self.claimed}, sent {self.sent}, retried {self.retried}, "
            f"failed {self.failed}, released {self.released}, lost {self.lost}"
        )


def backoff_seconds(attempt: int, *, jitter: float | None = None) -> float:
    """Wait after failed attempt number `attempt` (1-based): base, 2×base, 4×base, ...
    capped at NOTIFY_RETRY_MAX_SECONDS, then stretched by up to `jitter` (a fraction) so
    that messages failed by one outage do not all come back in the same second. Never
    shorter than the schedule."""
    base = float(setting("NOTIFY_RETRY_BASE_SECONDS"))
    cap = float(setting("NOTIFY_RETRY_MAX_SECONDS"))
    delay = min(cap, base * 2 ** max(attempt - 1, 0))
    spread = setting("NOTIFY_RETRY_JITTER") if jitter is None else jitter
    return delay * (1 + random.random() * spread)


_MOBILE_IN_TEXT = re.compile(r"(?<!\d)(?:\+?86)?1[3-9]\d{9}(?!\d)")
_EMAIL_IN_TEXT = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def _scrub(error: str) -> str:
    """Gateways echo recipients in their errors ("number 138... is invalid", SMTP's refused
    address); last_error is shown in the admin and logged, so they are masked here."""
    error = _MOBILE_IN_TEXT.sub(lambda m: mask_phone(m.group()[-11:]), error)
    return _EMAIL_IN_TEXT.sub(lambda m: mask_email(m.group()), error)[:2000]


def _skip_locked_supported() -> bool:
    return connection.features.has_select_for_update_skip_locked


def _due(now: datetime):
    return Message.objects.filter(status__in=WORK_STATUSES, next_attempt_at__lte=now).order_by(
        "next_attempt_at", "pk"
    )


def _fenced(message: Message):
    """The row as long as it is still in the state we last saw (our claim, or the state we
    read before claiming)."""
    return Message.objects.filter(
        pk=message.pk,
        status=message.status,
        attempts=message.attempts,
        next_attempt_at=message.next_attempt_at,
    )


def _exhausted_error(message: Message) -> str:
    return (
        f"attempts exhausted ({message.attempts}); the last attempt did not finish "
        f"(worker stopped while sending). {message.last_error}"
    ).strip()


def _claim(limit: int, now: datetime) -> tuple[list[Message], int]:
    """Claim up to `limit` due messages; return them (now `sending`) and how many were
    failed instead because their attempts had run out."""
    lease_end = now + timedelta(seconds=setting("NOTIFY_SENDING_TIMEOUT_SECONDS"))
    max_attempts = setting("NOTIFY_MAX_ATTEMPTS")
    claim = {"status": Status.SENDING, "attempts": F("attempts") + 1, "next_attempt_at": lease_end}
    live: list[Message] = []
    dead: list[Message] = []

    if _skip_locked_supported():
        with transaction.atomic():
            rows = list(_due(now).select_for_update(skip_locked=True)[:limit])
            live = [m for m in rows if m.attempts < max_attempts]
            dead = [m for m in rows if m.attempts >= max_attempts]
            if live:
                Message.objects.filter(pk__in=[m.pk for m in live]).update(**claim)
            for m in dead:
                Message.objects.filter(pk=m.pk).update(
                    status=Status.FAILED, next_attempt_at=None, last_error=_exhausted_error(m)
                )
    else:
        # SQLite: no row locks. Each claim is one UPDATE guarded by the values just read;
        # a concurrent claimer makes it match nothing.
        for m in _due(now)[:limit]:
            if m.attempts < max_attempts:
                if _fenced(m).update(**claim):
                    live.append(m)
            elif _fenced(m).update(
                status=Status.FAILED, next_attempt_at=None, last_error=_exhausted_error(m)
            ):
                dead.append(m)

    for m in live:
        m.status, m.attempts, m.next_attempt_at = Status.SENDING, m.attempts + 1, lease_end
    for m in dead:
        logger.error(
            "notify: %s #%s to %s failed: attempts exhausted while sending",
            m.channel,
            m.pk,
            m.masked_recipient,
        )
    return live, len(dead)


def _release(messages: Iterable[Message], now: datetime) -> int:
    """Hand claimed, unsent messages back: the claim did not count as an attempt."""
    released = 0
    for m in messages:
        released += _fenced(m).update(
            status=Status.PENDING, attempts=F("attempts") - 1, next_attempt_at=now
        )
    return released


def _finish(message: Message, report: DeliveryReport, **fields) -> bool:
    if _fenced(message).update(**fields):
        return True
    report.lost += 1
    logger.warning(
        "notify: %s #%s: result of attempt %d dropped, the message was re-claimed after its "
        "lease ran out (it may have been sent twice)",
        message.channel,
        message.pk,
        message.attempts,
    )
    return False


def _fail_or_retry(message: Message, gateway_name: str, error: str, report: DeliveryReport):
    now = timezone.now()
    error = _scrub(error)
    if message.attempts >= setting("NOTIFY_MAX_ATTEMPTS"):
        if _finish(
            message,
            report,
            status=Status.FAILED,
            next_attempt_at=None,
            gateway=gateway_name,
            last_error=f"attempts exhausted ({message.attempts}): {error}",
        ):
            report.failed += 1
            logger.error(
                "notify: %s #%s to %s failed after %d attempts: %s",
                message.channel,
                message.pk,
                message.masked_recipient,
                message.attempts,
                error,
            )
        return
    retry_at = now + timedelta(seconds=backoff_seconds(message.attempts))
    if _finish(
        message,
        report,
        status=Status.PENDING,
        next_attempt_at=retry_at,
        gateway=gateway_name,
        last_error=error,
    ):
        report.retried += 1
        logger.warning(
            "notify: %s #%s to %s: attempt %d failed, retry at %s: %s",
            message.channel,
            message.pk,
            message.masked_recipient,
            message.attempts,
            retry_at.isoformat(timespec="seconds"),
            error,
        )


def _send_one(message: Message, gateway: Gateway, report: DeliveryReport) -> None:
    name = getattr(gateway, "name", type(gateway).__name__)[:64]
    try:
        provider_id = gateway.send(message)
    except PermanentGatewayError as exc:
        error = _scrub(str(exc)) or type(exc).__name__
        if _finish(
            message,
            report,
            status=Status.FAILED,
            next_attempt_at=None,
            gateway=name,
            last_error=error,
        ):
            report.failed += 1
            logger.error(
                "notify: %s #%s to %s refused permanently by %s: %s",
                message.channel,
                message.pk,
                message.masked_recipient,
                name,
                error,
            )
    except GatewayError as exc:
        _fail_or_retry(message, name, str(exc) or type(exc).__name__, report)
    except Exception as exc:
        # A bug or an unexpected library error in a gateway: retried like a temporary error
        # (attempts bound it), with the traceback in the log for whoever fixes it.
        logger.exception("notify: gateway %s raised on %s #%s", name, message.channel, message.pk)
        _fail_or_retry(message, name, f"{type(exc).__name__}: {exc}", report)
    else:
        if _finish(
            message,
            report,
            status=Status.SENT,
            next_attempt_at=None,
            gateway=name,
            provider_message_id=str(provider_id or "")[:128],
            sent_at=timezone.now(),
        ):
            report.sent += 1
            logger.info(
                "notify: %s #%s to %s sent via %s (attempt %d)",
                message.channel,
                message.pk,
                message.masked_recipient,
                name,
                message.attempts,
            )


def deliver_due(
    limit: int | None = None,
    *,
    gateways: Mapping[str, Gateway] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> DeliveryReport:
    """Claim up to `limit` (NOTIFY_BATCH_SIZE) due messages and try to deliver each once.

    `gateways` maps a channel to a gateway instance, replacing the configured ones (tests,
    scripts). `should_stop` is asked before each send; once it says yes, the unsent rest of
    the batch is released for another worker. Call it outside any transaction: it commits
    its claims before sending.
    """
    limit = limit or setting("NOTIFY_BATCH_SIZE")
    report = DeliveryReport()
    claimed, exhausted = _claim(limit, timezone.now())
    report.claimed, report.failed = len(claimed), exhausted
    chosen: dict[str, Gateway] = dict(gateways or {})
    margin = timedelta(
        seconds=float(setting("NOTIFY_GATEWAY_TIMEOUT_SECONDS")) + LEASE_SAFETY_SECONDS
    )

    for i, message in enumerate(claimed):
        now = timezone.now()
        if (should_stop and should_stop()) or now + margin >= message.next_attempt_at:
            report.released += _release(claimed[i:], now)
            break
        if message.channel not in chosen:
            try:
                chosen[message.channel] = get_gateway(message.channel)
            except Exception as exc:
                # A broken setting must not lose messages: they wait for the fix.
                logger.exception("notify: cannot load the %s gateway", message.channel)
                _fail_or_retry(message, "", f"gateway not loadable: {exc}", report)
                continue
        _send_one(message, chosen[message.channel], report)
    return report


# --- delivery receipts -------------------------------------------------------------------


class ReceiptOutcome(enum.Enum):
    APPLIED = "applied"
    # Known message, but already final: receipts are repeated by providers, so this is fine.
    IGNORED = "ignored"
    UNKNOWN = "unknown"


def apply_receipt(provider_message_id: str, status: str, *, error: str = "") -> ReceiptOutcome:
    """Record a provider's delivery receipt for an SMS: `status` is "delivered" or
    "failed". Only a `sent` message changes; a receipt that arrives before the worker has
    recorded the provider id is UNKNOWN, and the provider's retry will find it."""
    if status not in (Status.DELIVERED, Status.FAILED):
        raise ValueError(f"a receipt status is delivered or failed, not {status!r}")
    rows = Message.objects.filter(channel=Channel.SMS, provider_message_id=provider_message_id)
    now = timezone.now()
    if status == Status.DELIVERED:
        fields = {"status": Status.DELIVERED, "delivered_at": now}
    else:
        fields = {"status": Status.FAILED, "last_error": _scrub(f"undeliverable: {error}")}
    if rows.filter(status=Status.SENT).update(**fields):
        return ReceiptOutcome.APPLIED
    return ReceiptOutcome.IGNORED if rows.exists() else ReceiptOutcome.UNKNOWN


# --- staff and housekeeping -------------------------------------------------------------


def requeue(messages: Iterable[Message], *, actor) -> int:
    """Send failed messages again from scratch (a staff decision, e.g. after a citizen
    corrected a number or a provider outage outlasted the retries). Audited per message."""
    count = 0
    with transaction.atomic():
        for message in messages:
            if message.status != Status.FAILED:
                continue
            updated = Message.objects.filter(pk=message.pk, status=Status.FAILED).update(
                status=Status.PENDING, attempts=0, next_attempt_at=timezone.now()
            )
            if updated:
                count += 1
                audit.record(
                    actor=actor,
                    action="notify.requeue",
                    target=message,
                    details={
                        "channel": message.channel,
                        "attempts": message.attempts,
                        "last_error": message.last_error[:200],
                    },
                )
    return count


def purge(*, days: int | None = None, actor_label: str = "system:purge_outbox") -> int:
    """Delete messages finished more than `days` (NOTIFY_RETENTION_DAYS) ago: they hold
    phone numbers and texts, kept no longer than needed. Pending work is never purged."""
    days = setting("NOTIFY_RETENTION_DAYS") if days is None else days
    cutoff = timezone.now() - timedelta(days=days)
    with transaction.atomic():
        deleted, _ = Message.objects.filter(
            status__in=(Status.SENT, *FINAL_STATUSES), created_at__lt=cutoff
        ).delete()
        if deleted:
            audit.record(
                actor=None,
                actor_label=actor_label,
                action="notify.purge",
                details={"deleted": deleted, "before": cutoff.isoformat(), "days": days},
            )
    return deleted
