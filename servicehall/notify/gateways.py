"""Gateways: what actually hands a message to an SMS provider or a mail server.

A gateway is any class with a `name` and `send(message) -> provider_message_id`; which one
serves a channel is a dotted path in settings (NOTIFY_SMS_GATEWAY, NOTIFY_EMAIL_GATEWAY),
instantiated without arguments. `send` either returns (the provider accepted the message;
the id it returns is what delivery receipts refer to, "" if it gives none) or raises:

* `GatewayError` — temporary (network down, timeout, 5xx, throttled): the worker retries
  with backoff.
* `PermanentGatewayError` — this message can never go as it is (number refused, content
  rejected): the worker marks it failed at once.

Any other exception is treated as temporary and logged with its traceback.

Shipped here:

* `ConsoleGateway` — the embedded default: logs the message (recipient masked).
* `FileGateway` — appends one JSON line per message to NOTIFY_FILE_PATH (var/notify/): a
  stand-in phone/mailbox for demos and tests. It holds full recipients; never use it in
  production.
* `SmtpEmailGateway` — e-mail through Django's e-mail backend (EMAIL_* settings).
* `HttpSmsGateway` — a generic JSON-over-HTTPS SMS API with a bearer key and HMAC-signed
  delivery receipts (views.sms_receipt). A real provider with its own request format or
  signature scheme is a subclass overriding `build_request` / `parse_response`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import smtplib
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from django.conf import settings
from django.core.mail import BadHeaderError, EmailMessage, get_connection
from django.core.mail.message import make_msgid
from django.utils import timezone
from django.utils.module_loading import import_string

from .conf import setting
from .models import Channel, Message

logger = logging.getLogger("servicehall.notify")


class GatewayError(Exception):
    """Temporary failure: try again later."""


class PermanentGatewayError(GatewayError):
    """This message will never be accepted as it is: do not retry."""


class Gateway:
    """Base class (optional: any object with `name` and `send` will do)."""

    name = "gateway"

    def send(self, message: Message) -> str:
        raise NotImplementedError


GATEWAY_SETTINGS = {Channel.SMS: "NOTIFY_SMS_GATEWAY", Channel.EMAIL: "NOTIFY_EMAIL_GATEWAY"}


def get_gateway(channel: str) -> Gateway:
    """A fresh instance of the gateway configured for `channel`."""
    return import_string(setting(GATEWAY_SETTINGS[channel]))()


def _clip(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- console and file ------------------------------------------------------------------


class ConsoleGateway(Gateway):
    """Writes each message to the log (recipient masked) and accepts it."""

    name = "console"

    def send(self, message: Message) -> str:
        provider_id = f"console-{uuid.uuid4().hex}"
        logger.info(
            "notify console: %s #%s to %s%s\n%s",
            message.channel,
            message.pk,
            message.masked_recipient,
            f" [{message.subject}]" if message.subject else "",
            message.body,
        )
        return provider_id


class FileGateway(Gateway):
    """Appends one JSON object per line to `path` (default NOTIFY_FILE_PATH)."""

    name = "file"

    def __init__(self, path: str | os.PathLike | None = None):
        configured = path or setting("NOTIFY_FILE_PATH")
        self.path = Path(configured or Path(settings.VAR_DIR) / "notify" / "outbox.jsonl")

    def send(self, message: Message) -> str:
        provider_id = f"file-{uuid.uuid4().hex}"
        line = json.dumps(
            {
                "provider_message_id": provider_id,
                "message_id": message.pk,
                "channel": message.channel,
                "to": message.recipient,
                "subject": message.subject,
                "body": message.body,
                "about": [message.about_type, message.about_id],
                "time": timezone.now().isoformat(),
            },
            ensure_ascii=False,
        )
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # One write() on an O_APPEND descriptor: lines from several workers never
            # interleave. 0600 because the file holds full phone numbers.
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, (line + "\n").encode("utf-8"))
            finally:
                os.close(fd)
        except OSError as exc:
            raise GatewayError(f"cannot append to {self.path}: {exc}") from exc
        return provider_id

    def read(self) -> list[dict]:
        """Every message written so far (for tests and demos)."""
        if not self.path.exists():
            return []
        with self.path.open(encoding="utf-8") as fh:
            return [json.loads(line) for line in fh if line.strip()]


# --- e-mail ------------------------------------------------------------------------------


class SmtpEmailGateway(Gateway):
    """E-mail through Django's configured e-mail backend (EMAIL_BACKEND, EMAIL_HOST, ...).

    The provider id is the Message-ID header we set, which bounce handling can match.
    """

    name = "smtp"

    def __init__(self, timeout: float | None = None):
        self.timeout = (
            timeout
            or getattr(settings, "EMAIL_TIMEOUT", None)
            or setting("NOTIFY_GATEWAY_TIMEOUT_SECONDS")
        )

    def send(self, message: Message) -> str:
        if message.channel != Channel.EMAIL:
            raise PermanentGatewayError(f"{self.name} gateway sends e-mail, not {message.channel}")
        message_id = make_msgid(domain=getattr(settings, "NOTIFY_EMAIL_MSGID_DOMAIN", None))
        email = EmailMessage(
            subject=message.subject,
            body=message.body,
            from_email=setting("NOTIFY_EMAIL_FROM") or settings.DEFAULT_FROM_EMAIL,
            to=[message.recipient],
            headers={"Message-ID": message_id},
        )
        try:
            # The SMTP backend has no timeout unless given one; a hung server would hold
            # the worker (and its claim) forever.
            connection = get_connection(fail_silently=False, timeout=self.timeout)
            sent = connection.send_messages([email])
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentGatewayError(f"recipient refused: {_clip(exc.recipients)}") from exc
        except smtplib.SMTPResponseException as exc:
            # 5xx is the server's final answer; 4xx means "try later".
            error = f"SMTP {exc.smtp_code}: {_clip(exc.smtp_error)}"
            if 500 <= exc.smtp_code < 600:
                raise PermanentGatewayError(error) from exc
            raise GatewayError(error) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise GatewayError(f"{type(exc).__name__}: {_clip(exc)}") from exc
        except (BadHeaderError, ValueError) as exc:
            raise PermanentGatewayError(f"unsendable e-mail: {_clip(exc)}") from exc
        if not sent:
            raise GatewayError("the e-mail backend sent nothing")
        return message_id


# --- SMS over HTTP -----------------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # urllib would turn a redirected POST into a GET without the body: a redirect means the
    # URL setting is wrong, so it surfaces as an HTTP error instead.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


# Statuses that mean "not now" rather than "never": throttling, timeouts, and our own
# configuration (a wrong key or URL is fixed by an operator, after which retries succeed).
_TEMPORARY_HTTP = frozenset({401, 403, 404, 408, 409, 423, 425, 429})

SIGNATURE_HEADER = "X-Servicehall-Signature"
TIMESTAMP_HEADER = "X-Servicehall-Timestamp"


def receipt_signature(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over "<timestamp>.<raw body>", as "sha256=<hex>". The timestamp is
    signed so a captured receipt cannot be replayed later (see views.sms_receipt)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def signature_valid(
    secret: str, timestamp: str, signature: str, body: bytes, *, max_skew: float, now=None
) -> bool:
    """Whether `signature` is `receipt_signature(secret, timestamp, body)` (constant-time
    compare) and the signed Unix `timestamp` lies within `max_skew` seconds of `now`: a
    captured callback cannot be replayed later. Every signed callback checks with this
    (delivery receipts here, inbound 12110 messages in alarms.gateways_http)."""
    if not (secret and timestamp.isascii() and timestamp.isdigit() and signature):
        return False
    now = time.time() if now is None else now
    if abs(now - int(timestamp)) > max_skew:
        return False
    expected = receipt_signature(secret, timestamp, body)
    return hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace"))


def _readable(raw: bytes) -> str:
    """An error body for last_error: JSON re-dumped without \\u escapes, so staff read
    the provider's Chinese message, not its code points."""
    text = raw.decode("utf-8", "replace")
    try:
        return json.dumps(json.loads(text), ensure_ascii=False)
    except ValueError:
        return text


class HttpSmsGateway(Gateway):
    """POSTs {"to", "body", "sender", "reference"} as JSON to NOTIFY_SMS_HTTP_URL with
    `Authorization: Bearer <NOTIFY_SMS_HTTP_API_KEY>`; expects 2xx and {"id": "..."}.

    `Idempotency-Key` is the same on every attempt of one message, so a provider that
    honours it sends once even when our worker died after the provider accepted.
    Delivery receipts come back to /notify/receipts/sms/ signed with
    NOTIFY_SMS_RECEIPT_SECRET (`receipt_signature`).
    """

    name = "http_sms"

    def __init__(
        self,
        url: str | None = None,
        api_key: str | None = None,
        *,
        sender: str | None = None,
        timeout: float | None = None,
    ):
        self.url = url if url is not None else setting("NOTIFY_SMS_HTTP_URL")
        self.api_key = api_key if api_key is not None else setting("NOTIFY_SMS_HTTP_API_KEY")
        self.sender = sender if sender is not None else setting("NOTIFY_SMS_SENDER")
        self.timeout = timeout or setting("NOTIFY_GATEWAY_TIMEOUT_SECONDS")
        self._opener = urllib.request.build_opener(_NoRedirect)

    def build_request(self, message: Message) -> urllib.request.Request:
        payload = {
            "to": message.recipient,
            "body": message.body,
            "sender": self.sender,
            "reference": str(message.pk),
        }
        return urllib.request.Request(  # noqa: S310 - scheme checked in send()
            self.url,
            data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Accept": "application/json",
                "Authorization": f"Bearer {self.api_key}",
                "Idempotency-Key": f"servicehall-notify-{message.pk}",
                "User-Agent": "servicehall-notify/1",
            },
        )

    def parse_response(self, status: int, body: bytes) -> str:
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            data = {}
        provider_id = (data.get("id") or data.get("message_id")) if isinstance(data, dict) else ""
        if not provider_id:
            # Accepted all the same: raising would send it again. Receipts will not match.
            logger.warning("notify http_sms: %s accepted a message but returned no id", self.url)
        return str(provider_id or "")[:128]

    def send(self, message: Message) -> str:
        if message.channel != Channel.SMS:
            raise PermanentGatewayError(f"{self.name} gateway sends SMS, not {message.channel}")
        if not self.url.startswith(("https://", "http://")):
            # A configuration error: temporary, so messages wait for the operator's fix.
            raise GatewayError("NOTIFY_SMS_HTTP_URL is not an http(s) URL")
        request = self.build_request(message)
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                return self.parse_response(response.status, response.read(65536))
        except urllib.error.HTTPError as exc:
            detail = _clip(_readable(exc.read(2000))) if exc.fp else ""
            error = f"HTTP {exc.code} from SMS gateway: {detail}".rstrip(": ")
            if 400 <= exc.code < 500 and exc.code not in _TEMPORARY_HTTP:
                raise PermanentGatewayError(error) from exc
            raise GatewayError(error) from exc
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            reason = getattr(exc, "reason", exc)
            raise GatewayError(f"SMS gateway unreachable: {_clip(reason)}") from exc
        except OSError as exc:
            raise GatewayError(f"SMS gateway error: {_clip(exc)}") from exc
