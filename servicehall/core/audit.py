"""The audit log: append-only, hash-chained, written inside the caller's transaction.

Use:

    from servicehall.core import audit

    audit.record(actor=user, action="case.accept", target=case, purpose="受理")
    audit.record_for_request(request, action="auth.login", success=False)
    audit.record_read(request, resident, purpose="户籍查询", fields=["id_number", "phone"])

Actions are dotted lower-case verbs: "<area>.<verb>" ("auth.login", "case.approve",
"personal_data.read"). `purpose` is the human "why" (事由); it is required for reads of
personal data.

Why these choices:

* Chain. Each entry stores `prev_hash` (the previous entry's `entry_hash`) and
  `entry_hash` = SHA-256 over a canonical JSON of its own fields plus `prev_hash`. Changing,
  inserting or deleting a row breaks the chain at that row; `manage.py verify_audit` finds
  the first break. (Someone who can rewrite the whole table can also recompute every hash:
  publish the head hash that verify_audit prints somewhere outside the database to catch
  that.)
* Transactions. An entry is written in the caller's transaction (no savepoint), so an
  action that rolls back takes its audit row with it and an action that commits always has
  one; if the audit insert fails, the action fails. The price: on PostgreSQL the chain lock
  (`pg_advisory_xact_lock`) is held until the caller commits, which serialises writers of
  audit entries. Record as the last step of a transaction, and never hold one open across
  slow work (network calls, user think time) after recording.
* Concurrency. PostgreSQL: the advisory lock serialises appenders, and the head is read
  after taking it. SQLite allows one writer at a time, so a racing second writer gets
  "database is locked" instead of forking; the unique `prev_hash` and `sequence` columns
  refuse a fork on any database.
* Append-only. The model and its queryset refuse update/delete; on PostgreSQL a trigger
  (migration 0002) refuses UPDATE and DELETE except the retention purge (`purge()`, run by
  `manage.py purge_audit`), which may only remove entries older than six months.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from . import rows

# One floor for the system check, the purge and (as "6 months") the trigger.
from .checks import MIN_RETENTION_DAYS
from .models import AuditAnchor, AuditEntry

GENESIS_HASH = "0" * 64
# Arbitrary constant naming "the audit chain" among PostgreSQL advisory locks.
CHAIN_LOCK_KEY = 0x5348_4175_6469_7401  # "SHAudit\x01"

# Versioned so the canonical form can evolve without breaking old links.
HASH_SCHEME = "servicehall-audit-v1"

__all__ = [
    "GENESIS_HASH",
    "ChainBreak",
    "client_ip",
    "compute_hash",
    "purge",
    "record",
    "record_for_request",
    "record_read",
    "verify_chain",
]


# --- canonical form -----------------------------------------------------------------------


def _normalise_json(value):
    """Return `value` as the database will give it back, so hashes survive the round trip.

    JSON goes through DjangoJSONEncoder (dates, Decimals, UUIDs become strings, keys become
    strings). PostgreSQL jsonb stores numbers as `numeric` and hands 1e20 back as an
    integer, so integral floats become ints here before anything is stored or hashed.
    """

    def fix(v):
        if isinstance(v, float) and v.is_integer():
            return int(v)
        if isinstance(v, dict):
            return {k: fix(x) for k, x in v.items()}
        if isinstance(v, list):
            return [fix(x) for x in v]
        return v

    return fix(json.loads(json.dumps(value, cls=DjangoJSONEncoder, allow_nan=False)))


def _canonical_ip(ip: str | None) -> str | None:
    return str(ipaddress.ip_address(ip)) if ip else None


def _canonical_time(t: datetime) -> str:
    return t.astimezone(UTC).isoformat(timespec="microseconds")


def compute_hash(
    *,
    sequence: int,
    time: datetime,
    actor_id,
    actor_label: str,
    action: str,
    object_type: str,
    object_id: str,
    object_repr: str,
    purpose: str,
    ip: str | None,
    success: bool,
    details: dict,
    prev_hash: str,
) -> str:
    payload = {
        "scheme": HASH_SCHEME,
        "sequence": sequence,
        "time": _canonical_time(time),
        "actor_id": None if actor_id is None else str(actor_id),
        "actor_label": actor_label,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "object_repr": object_repr,
        "purpose": purpose,
        "ip": _canonical_ip(ip),
        "success": bool(success),
        "details": details,
        "prev_hash": prev_hash,
    }
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


_HASHED_FIELDS = (
    "sequence",
    "time",
    "actor_id",
    "actor_label",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "purpose",
    "ip",
    "success",
    "details",
    "prev_hash",
)


def _hash_of_row(row: dict) -> str:
    return compute_hash(**{name: row[name] for name in _HASHED_FIELDS})


# --- writing ---------------------------------------------------------------------------


_AUDIT_TABLE = AuditEntry._meta.db_table
_HEAD_SQL = f"SELECT sequence, entry_hash FROM {_AUDIT_TABLE} ORDER BY sequence DESC LIMIT 1"  # noqa: S608
_LOCK_AND_HEAD_SQL = f"SELECT pg_advisory_xact_lock({CHAIN_LOCK_KEY}); {_HEAD_SQL}"


def _lock_chain() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])


def _locked_chain_head() -> tuple[int, str]:
    """Take the chain's lock, then read its head (sequence, hash).

    Hand-written: every audited action runs it, and compiling the read as a queryset cost
    more Python than the statement takes in the database. On PostgreSQL both statements go
    in one round trip (the simple query protocol, no parameters): each statement of a
    READ COMMITTED transaction takes its own snapshot, so the head is read after the lock
    is granted, as with two round trips."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_LOCK_AND_HEAD_SQL)
            cursor.nextset()
        else:  # SQLite: one writer at a time already
            cursor.execute(_HEAD_SQL)
        last = cursor.fetchone()
    if last:
        return tuple(last)
    anchor = (
        AuditAnchor.objects.order_by("-through_sequence")
        .values_list("through_sequence", "anchor_hash")
        .first()
    )
    return anchor or (0, GENESIS_HASH)


def _clip(value: str, field: str) -> str:
    return (value or "")[: AuditEntry._meta.get_field(field).max_length]


def _describe_target(target) -> tuple[str, str, str]:
    if target is None:
        return "", "", ""
    if not isinstance(target, Model):
        raise TypeError("audit target must be a model instance or None")
    meta = target._meta
    return f"{meta.app_label}.{meta.model_name}", str(target.pk), str(target)


def _actor_of(actor):
    if actor is None or not getattr(actor, "is_authenticated", False):
        return None, ""
    return actor, actor.get_username()


def record(*, along: tuple = (), before: tuple[dict, ...] = (), **entry) -> AuditEntry:
    """Append one entry to the chain and return it. `entry`: what `draft` takes (actor,
    action, target, …).

    `along`: other new rows of the same change that refer to none of each other (its
    timeline event, an outbox message), inserted with the entry in one round trip
    (core.rows.insert_together). `before`: entries of the same change drafted earlier
    (`draft`), appended ahead of this one under the same lock and head read, in the same
    round trip.
    """
    return _append([*before, draft(**entry)], along)[-1]


def draft(
    *,
    actor,
    action: str,
    target=None,
    target_repr: str = "",
    purpose: str = "",
    ip: str | None = None,
    success: bool = True,
    details: dict | None = None,
    actor_label: str = "",
) -> dict:
    """An entry's fields, checked, not yet on the chain (its place, time and hashes are given
    under the chain's lock): what `record` appends, or passes `before` another entry.

    `actor` is a user or None (system work, labelled "system" unless `actor_label` names the
    job, e.g. "system:sweep_deadlines"). `target` is a model instance or None; `target_repr`
    overrides its str() (pass a masked form when str() would show personal data).
    """
    if not action or len(action) > AuditEntry._meta.get_field("action").max_length:
        raise ValueError("audit action must be a non-empty string of at most 64 characters")
    user, label = _actor_of(actor)
    object_type, object_id, default_repr = _describe_target(target)
    return {
        "actor_id": user.pk if user else None,
        "actor_label": _clip(label or actor_label or ("" if user else "system"), "actor_label"),
        "action": action,
        "object_type": _clip(object_type, "object_type"),
        "object_id": _clip(object_id, "object_id"),
        "object_repr": _clip(target_repr or default_repr, "object_repr"),
        "purpose": _clip(purpose, "purpose"),
        "ip": _canonical_ip(ip) if ip else None,
        "success": bool(success),
        "details": _normalise_json(details or {}),
    }


def _append(drafts: list[dict], along) -> list[AuditEntry]:
    with transaction.atomic(savepoint=False):
        sequence, prev_hash = _locked_chain_head()
        # Time is taken under the lock so that it never goes backwards along the chain
        # (the retention purge relies on old entries forming a prefix).
        now = timezone.now()
        entries = []
        for fields in drafts:
            sequence += 1
            fields = {**fields, "sequence": sequence, "time": now, "prev_hash": prev_hash}
            entry = AuditEntry(**fields, entry_hash=compute_hash(**fields))
            entries.append(entry)
            prev_hash = entry.entry_hash
        # Not save(): AuditEntry.save refuses writers other than this one.
        rows.insert_together([*along, *entries])
    return entries


def client_ip(request) -> str | None:
    """The client's address: REMOTE_ADDR, or X-Forwarded-For behind trusted proxies.

    settings.AUDIT_TRUSTED_PROXY_COUNT (default 0) is how many reverse proxies of ours sit
    in front of Django. Each appends the address it saw, so the client is the entry that
    many places from the right; anything further left is client-supplied and unreliable.
    """
    proxies = int(getattr(settings, "AUDIT_TRUSTED_PROXY_COUNT", 0) or 0)
    candidate = request.META.get("REMOTE_ADDR")
    if proxies > 0:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if forwarded:
            candidate = forwarded[-proxies] if len(forwarded) >= proxies else forwarded[0]
    try:
        return _canonical_ip(candidate)
    except ValueError:
        return None


def record_for_request(
    request,
    *,
    action: str,
    target=None,
    target_repr: str = "",
    purpose: str = "",
    success: bool = True,
    details: dict | None = None,
) -> AuditEntry:
    """record() with the actor and IP taken from the request ("anonymous" when signed out)."""
    return record(
        actor=getattr(request, "user", None),
        actor_label="anonymous",
        action=action,
        target=target,
        target_repr=target_repr,
        purpose=purpose,
        ip=client_ip(request),
        success=success,
        details=details,
    )


def record_read(
    request,
    target,
    purpose: str,
    fields: Iterable[str] = (),
    *,
    target_repr: str = "",
    details: dict | None = None,
) -> AuditEntry:
    """Audit that `request.user` was shown personal data of `target` (who, what, why, when).

    Call it in the view that renders unmasked personal data, with the field names shown.
    A read without a stated purpose is refused: the purpose is the point of the record.
    """
    if not (purpose or "").strip():
        raise ValueError("a personal-data read must state its purpose")
    return record_for_request(
        request,
        action="personal_data.read",
        target=target,
        target_repr=target_repr,
        purpose=purpose,
        details={**(details or {}), "fields": sorted(set(fields))},
    )


# --- verifying -------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainBreak:
    sequence: int
    problem: str

    def __str__(self):
        return f"sequence {self.sequence}: {self.problem}"


@dataclass(frozen=True)
class ChainReport:
    count: int
    head_sequence: int
    head_hash: str
    broken: ChainBreak | None

    @property
    def ok(self) -> bool:
        return self.broken is None


def verify_chain(chunk_size: int = 2000, *, through: int | None = None) -> ChainReport:
    """Walk the chain from its anchor; return the first broken link, if any.

    `through` stops after that sequence (the purge checks only what it deletes).
    """
    anchor = (
        AuditAnchor.objects.order_by("-through_sequence")
        .values_list("through_sequence", "anchor_hash")
        .first()
    )
    expected_sequence, expected_prev = (anchor[0] + 1, anchor[1]) if anchor else (1, GENESIS_HASH)
    count = 0
    head_sequence, head_hash = expected_sequence - 1, expected_prev
    entries = AuditEntry.objects.all()
    if through is not None:
        entries = entries.filter(sequence__lte=through)
    rows = (
        entries.order_by("sequence")
        .values(*_HASHED_FIELDS, "entry_hash")
        .iterator(chunk_size=chunk_size)
    )
    for row in rows:
        seq = row["sequence"]
        if seq != expected_sequence:
            if seq > expected_sequence:
                missing = (
                    f"{expected_sequence}"
                    if seq == expected_sequence + 1
                    else f"{expected_sequence}–{seq - 1}"
                )
                problem = f"entries missing before it (sequence {missing})"
            else:
                problem = f"sequence out of order (expected {expected_sequence})"
            return ChainReport(count, head_sequence, head_hash, ChainBreak(seq, problem))
        if row["prev_hash"] != expected_prev:
            problem = (
                f"prev_hash {row['prev_hash'][:16]}… does not match the previous entry's "
                f"hash {expected_prev[:16]}…"
            )
            return ChainReport(count, head_sequence, head_hash, ChainBreak(seq, problem))
        computed = _hash_of_row(row)
        if computed != row["entry_hash"]:
            problem = (
                f"contents changed: stored entry_hash {row['entry_hash'][:16]}…, "
                f"contents hash to {computed[:16]}…"
            )
            return ChainReport(count, head_sequence, head_hash, ChainBreak(seq, problem))
        count += 1
        expected_sequence, expected_prev = seq + 1, row["entry_hash"]
        head_sequence, head_hash = seq, row["entry_hash"]
    return ChainReport(count, head_sequence, head_hash, None)


# --- retention purge -------------------------------------------------------------------


class PurgeRefused(Exception):
    pass


def retention_cutoff(now: datetime | None = None) -> datetime:
    days = int(getattr(settings, "AUDIT_RETENTION_DAYS", MIN_RETENTION_DAYS))
    if days < MIN_RETENTION_DAYS:
        raise PurgeRefused(
            f"AUDIT_RETENTION_DAYS={days} is shorter than six months ({MIN_RETENTION_DAYS} days)"
        )
    return (now or timezone.now()) - timedelta(days=days)


def purge(*, actor=None, actor_label: str = "system:purge_audit") -> int:
    """Delete entries older than the retention period; return how many were deleted.

    Only a prefix of the chain is deleted (entries up to the first one still retained), the
    hash of the last deleted entry becomes the new anchor, and the purge itself is recorded
    as an entry, so the remaining chain verifies and the purge leaves a trace. A chain that
    does not verify is not purged: that would destroy the evidence.
    """
    cutoff = retention_cutoff()
    with transaction.atomic():
        # Writers wait while this lock is held, so only the part to be deleted (and its
        # link to the first kept entry) is verified here; verify_audit checks the rest.
        _lock_chain()
        first_kept = (
            AuditEntry.objects.filter(time__gte=cutoff)
            .order_by("sequence")
            .values_list("sequence", flat=True)
            .first()
        )
        report = verify_chain(through=first_kept)
        if not report.ok:
            raise PurgeRefused(f"the audit chain is broken, not purging: {report.broken}")
        old = AuditEntry.objects.all()
        if first_kept is not None:
            old = old.filter(sequence__lt=first_kept)
        last = old.order_by("-sequence").values_list("sequence", "entry_hash").first()
        if last is None:
            return 0
        count = old.count()
        AuditAnchor.objects.create(
            through_sequence=last[0], anchor_hash=last[1], purged_count=count, purged_before=cutoff
        )
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # The trigger lets DELETE through only with this flag, and even then only for
                # rows older than six months. SET LOCAL ends with the transaction.
                cursor.execute("SET LOCAL servicehall.audit_purge = 'on'")
        old._purge_delete()
        record(
            actor=actor,
            actor_label=actor_label,
            action="audit.purge",
            purpose="保存期满清理",
            details={
                "purged_count": count,
                "through_sequence": last[0],
                "anchor_hash": last[1],
                "cutoff": cutoff.isoformat(),
            },
        )
    return count
