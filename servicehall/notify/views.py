"""Delivery receipts from the HTTP SMS provider.

    POST /notify/receipts/sms/
    X-Servicehall-Timestamp: 1767225600
    X-Servicehall-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">
    {"id": "<provider message id>", "status": "delivered" | "failed", "error": "..."}

200 recorded (or already final), 400 malformed, 403 bad/missing/stale signature or
receipts not configured, 404 unknown id (the provider retries; see apply_receipt), 405 not
a POST. Answers are JSON for a machine, in English.

The signature is checked before the body is parsed so that nobody without the secret learns
anything, not even whether their JSON was valid. The timestamp is signed and must be within
NOTIFY_RECEIPT_MAX_SKEW_SECONDS of our clock, so a captured receipt cannot be replayed later.
"""

from __future__ import annotations

import json
import logging

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .conf import setting
from .delivery import ReceiptOutcome, apply_receipt
from .gateways import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature_valid
from .models import Status

logger = logging.getLogger("servicehall.notify")


def _signature_ok(request: HttpRequest, secret: str) -> bool:
    return signature_valid(
        secret,
        request.headers.get(TIMESTAMP_HEADER, ""),
        request.headers.get(SIGNATURE_HEADER, ""),
        request.body,
        max_skew=setting("NOTIFY_RECEIPT_MAX_SKEW_SECONDS"),
    )


def _error(status: int, text: str) -> JsonResponse:
    return JsonResponse({"ok": False, "error": text}, status=status)


# CSRF protects browser sessions; this caller is a provider's server authenticated by HMAC.
@csrf_exempt
@require_POST
def sms_receipt(request: HttpRequest) -> JsonResponse:
    secret = setting("NOTIFY_SMS_RECEIPT_SECRET")
    if not secret:
        return _error(403, "receipts are not enabled")
    if not _signature_ok(request, secret):
        logger.warning("notify: SMS receipt with a bad signature refused")
        return _error(403, "bad signature")
    try:
        data = json.loads(request.body)
    except ValueError:
        return _error(400, "body is not JSON")
    if not isinstance(data, dict):
        return _error(400, "body must be a JSON object")
    provider_id, status, error = data.get("id"), data.get("status"), data.get("error", "")
    if not isinstance(provider_id, str) or not 0 < len(provider_id) <= 128:
        return _error(400, "id must be a string of 1 to 128 characters")
    if status not in (Status.DELIVERED, Status.FAILED):
        return _error(400, 'status must be "delivered" or "failed"')
    if not isinstance(error, str):
        return _error(400, "error must be a string")

    outcome = apply_receipt(provider_id, status, error=error)
    if outcome is ReceiptOutcome.UNKNOWN:
        return _error(404, "unknown id")
    return JsonResponse({"ok": True, "outcome": outcome.value})
