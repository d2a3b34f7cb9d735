"""Notification settings with their defaults, so the app works with a settings file that
names none of them (config/settings.py sets every one from the environment)."""

from __future__ import annotations

from django.conf import settings

DEFAULTS = {
    # Dotted paths of the gateway class per channel (see gateways.py).
    "NOTIFY_SMS_GATEWAY": "servicehall.notify.gateways.ConsoleGateway",
    "NOTIFY_EMAIL_GATEWAY": "servicehall.notify.gateways.ConsoleGateway",
    # FileGateway: JSON lines, one per message; None means VAR_DIR/notify/outbox.jsonl.
    "NOTIFY_FILE_PATH": None,
    # HttpSmsGateway: POST JSON with a bearer API key; receipts signed with the secret.
    "NOTIFY_SMS_HTTP_URL": "",
    "NOTIFY_SMS_HTTP_API_KEY": "",
    "NOTIFY_SMS_SENDER": "",
    "NOTIFY_SMS_RECEIPT_SECRET": "",
    "NOTIFY_RECEIPT_MAX_SKEW_SECONDS": 300,
    # SmtpEmailGateway: sender address; empty means DEFAULT_FROM_EMAIL.
    "NOTIFY_EMAIL_FROM": "",
    # One network call may take this long; the sending lease must be well above it.
    "NOTIFY_GATEWAY_TIMEOUT_SECONDS": 10.0,
    "NOTIFY_MAX_ATTEMPTS": 10,
    "NOTIFY_RETRY_BASE_SECONDS": 30,
    "NOTIFY_RETRY_MAX_SECONDS": 3600,
    "NOTIFY_RETRY_JITTER": 0.2,
    "NOTIFY_SENDING_TIMEOUT_SECONDS": 300,
    "NOTIFY_BATCH_SIZE": 20,
    "NOTIFY_WORKER_INTERVAL_SECONDS": 5.0,
    "NOTIFY_RETENTION_DAYS": 180,
}


def setting(name: str):
    return getattr(settings, name, DEFAULTS[name])
