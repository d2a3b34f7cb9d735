"""API keys of outside platforms (民心网 imports, Open311 clients).

    key = platforms.issue_key(actor=admin, platform=minxin)   # shown once, never stored
    platform = platforms.verify_key(request_key)              # OutsidePlatform or None

A key is 256 random bits (URL-safe text); only its SHA-256 is stored, so a database copy does
not yield usable keys. A plain hash suffices for random keys of that length (no dictionary to
try); a slow password hash would only slow every API call. Issuing a new key replaces the old.
"""

from __future__ import annotations

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from servicehall.core import audit

from .models import OutsidePlatform

KEY_PREFIX_LENGTH = 8


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


@transaction.atomic
def issue_key(*, actor, platform: OutsidePlatform) -> str:
    """A new key for `platform` (the previous one stops working); return it once."""
    raw = secrets.token_urlsafe(32)
    platform = OutsidePlatform.objects.select_for_update().get(pk=platform.pk)
    platform.key_hash = hash_key(raw)
    platform.key_prefix = raw[:KEY_PREFIX_LENGTH]
    platform.key_issued_at = timezone.now()
    platform.save(update_fields=["key_hash", "key_prefix", "key_issued_at"])
    audit.record(
        actor=actor,
        action="letters.platform_key_issued",
        target=platform,
        details={"key_prefix": platform.key_prefix},
    )
    return raw


def verify_key(raw: str | None) -> OutsidePlatform | None:
    """The active platform holding this key, or None."""
    if not raw or len(raw) > 200:
        return None
    return OutsidePlatform.objects.filter(key_hash=hash_key(raw.strip()), active=True).first()
