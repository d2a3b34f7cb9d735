"""The SMPP 3.4 adapter for 12110: how an operator's SMSC hands us what people text to 12110,
and how our replies go back to them. Built on smpplib (python-smpplib, PyPI `smpplib`).

Inbound — `SmppReceiver` (run by `manage.py run_smpp_receiver`) binds to the SMSC as a
transceiver (or receiver) and answers each deliver_sm only after `receive_sms` returned, that
is after the message is committed:

* ESME_ROK — stored (or already stored: a redelivery is a look-up, nothing twice).
* ESME_RX_T_APPN (temporary) — the database failed; nothing was committed, and the SMSC
  delivers the message again later.
* ESME_RX_P_APPN (permanent) — the message can never be stored as it is (not a mobile
  number, no text): the SMSC must not retry it.
* no answer at all — an unexpected error in our code: the receiver drops the session and
  binds again, and the SMSC redelivers what it was never answered.

A delivery receipt (esm_class 0x04) for a reply we sent is applied to the notify outbox
(`apply_receipt`), so the console shows whether the person's phone got it.

SMPP gives a mobile-originated message no identifier of its own. The gateway message id
that makes a redelivery a look-up is therefore the SMSC's (ALARM_SMPP_MO_ID_TLV, an optional
parameter some SMSCs add) when present, else a fingerprint of sender, recipient, coding and
bytes within a time window of ALARM_SMPP_DEDUPE_SECONDS: a redelivery in that window is
found (this window or the one before), while the same text sent again later — or after the
call-taker closed the conversation — is a new message.

Outbound — `SmppGateway` is a notify gateway (NOTIFY_SMS_GATEWAY =
"servicehall.alarms.gateways_smpp.SmppGateway"): it binds as a transmitter, submits the
message (split with a user data header when long, UCS-2 for Chinese), and returns the
SMSC's message id, which delivery receipts refer to.

Concatenated inbound messages arrive as one deliver_sm per part; each part is stored as its
own message in arrival order (the header is dropped), so nothing waits in memory unanswered.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import smpplib.client
import smpplib.consts as c
import smpplib.exceptions
import smpplib.gsm
import smpplib.smpp
from django.core.exceptions import ValidationError
from django.db import DatabaseError, close_old_connections, connection
from django.utils import timezone

from servicehall.notify import outbox
from servicehall.notify.conf import setting as notify_setting
from servicehall.notify.delivery import apply_receipt
from servicehall.notify.gateways import Gateway, GatewayError, PermanentGatewayError
from servicehall.notify.models import Channel, Message, Status

from .conf import setting
from .models import SmsMessage, ThreadStatus
from .sms import receive_sms

logger = logging.getLogger("servicehall.alarms.smpp")

GATEWAY = "smpp"

ESME_ROK = c.SMPP_ESME_ROK
TEMPORARY = c.SMPP_ESME_RX_T_APPN
PERMANENT = c.SMPP_ESME_RX_P_APPN
# esm_class bits 2-5: "SMSC delivery receipt" (SMPP 3.4 §5.2.12).
SMSC_DELIVERY_RECEIPT = 0x04

# submit_sm_resp statuses that mean "try later"; every other error refuses the message.
_TEMPORARY_SUBMIT = frozenset(
    {
        c.SMPP_ESME_RSYSERR,
        c.SMPP_ESME_RMSGQFUL,
        c.SMPP_ESME_RTHROTTLED,
        c.SMPP_ESME_RX_T_APPN,
        c.SMPP_ESME_RINVBNDSTS,
        0x000000FF,  # unknown error
    }
)

# GSM 03.38: the default alphabet and its extension table (after 0x1B).
_GSM = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXT = {0x0A: "\f", 0x14: "^", 0x28: "{", 0x29: "}", 0x2F: "\\", 0x3C: "[", 0x3D: "~"}
_GSM_EXT.update({0x3E: "]", 0x40: "|", 0x65: "€"})


def _gsm_decode(raw: bytes) -> str:
    out, escape = [], False
    for byte in raw:
        if escape:
            out.append(_GSM_EXT.get(byte, " "))
            escape = False
        elif byte == 0x1B:
            escape = True
        else:
            out.append(_GSM[byte] if byte < len(_GSM) else "?")
    return "".join(out)


def decode_text(data_coding: int, raw: bytes) -> str:
    """The text of a short message by its data_coding (SMPP 3.4 §5.2.19)."""
    coding = data_coding & 0x0F if data_coding & 0xF0 == 0xF0 else data_coding
    if data_coding & 0xF0 == 0xF0:  # message class coding: bit 2 says 8-bit data
        return raw.decode("latin-1") if coding & 0x04 else _gsm_decode(raw)
    if coding == c.SMPP_ENCODING_ISO10646:  # UCS-2
        return raw.decode("utf-16-be", "replace")
    if coding in (c.SMPP_ENCODING_ISO88591, c.SMPP_ENCODING_BINARY, c.SMPP_ENCODING_BINARY2):
        return raw.decode("latin-1")
    if coding == c.SMPP_ENCODING_IA5:
        return raw.decode("ascii", "replace")
    if coding == c.SMPP_ENCODING_DEFAULT:
        return _gsm_decode(raw)
    return raw.decode("utf-8", "replace")


def _text(value) -> str:
    if value is None:
        return ""
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)


@dataclass(frozen=True)
class Delivered:
    """A mobile-originated message as a deliver_sm carried it."""

    source: str
    destination: str
    data_coding: int
    body: bytes  # the user data, without a user data header
    header: bytes = b""  # the user data header (concatenation reference and part), if any
    smsc_id: str = ""
    source_ton: int = c.SMPP_TON_UNK

    @property
    def phone(self) -> str:
        # An international number comes without its "+" (8613912340001): add it, so that
        # the country code is recognised rather than the number refused. A domestic mobile
        # some SMSC marks international all the same stays as it is.
        if (
            self.source_ton == c.SMPP_TON_INTL
            and self.source[:1].isdigit()
            and outbox.normalise_phone(self.source) is None
        ):
            return "+" + self.source
        return self.source

    @property
    def text(self) -> str:
        return decode_text(self.data_coding, self.body)

    def fingerprint(self) -> str:
        digest = hashlib.sha256(
            b"\x00".join(
                [
                    self.source.encode(),
                    self.destination.encode(),
                    str(self.data_coding).encode(),
                    self.header,
                    self.body,
                ]
            )
        )
        return digest.hexdigest()[:40]


def parse_deliver_sm(pdu) -> Delivered:
    raw = pdu.short_message or b""
    if not raw and getattr(pdu, "message_payload", None):
        raw = pdu.message_payload
    if isinstance(raw, str):
        raw = raw.encode("latin-1")
    header = b""
    if (pdu.esm_class or 0) & c.SMPP_GSMFEAT_UDHI and raw:
        header, raw = raw[: 1 + raw[0]], raw[1 + raw[0] :]
    smsc_id = ""
    tlv = setting("ALARM_SMPP_MO_ID_TLV")
    if tlv:
        smsc_id = _text(getattr(pdu, tlv, None)).strip()
    return Delivered(
        source=_text(pdu.source_addr),
        destination=_text(pdu.destination_addr),
        data_coding=int(pdu.data_coding or 0),
        body=bytes(raw),
        header=bytes(header),
        smsc_id=smsc_id,
        source_ton=int(pdu.source_addr_ton or 0),
    )


def gateway_message_id(delivered: Delivered, *, now: float | None = None) -> tuple[str, bool]:
    """(the id to store the message under, whether it is already stored and open)."""
    if delivered.smsc_id:
        return f"smsc:{delivered.smsc_id}"[:128], False
    window = max(1, int(setting("ALARM_SMPP_DEDUPE_SECONDS")))
    bucket = int((time.time() if now is None else now) // window)
    fingerprint = delivered.fingerprint()
    current, previous = f"fp:{fingerprint}:{bucket}", f"fp:{fingerprint}:{bucket - 1}"
    stored = SmsMessage.objects.filter(
        gateway=GATEWAY, gateway_message_id__in=(current, previous)
    ).select_related("thread")
    if any(m.thread.status == ThreadStatus.OPEN for m in stored):
        return next(
            m.gateway_message_id for m in stored if m.thread.status == ThreadStatus.OPEN
        ), True
    if any(m.gateway_message_id == current for m in stored):
        # Its conversation was closed since: the same words again are a new message.
        return f"fp:{fingerprint}:{bucket}:{uuid.uuid4().hex[:8]}", False
    return current, False


_RECEIPT_STATE = re.compile(r"\bstat:(\w+)", re.IGNORECASE)
_RECEIPT_ID = re.compile(r"\bid:(\S+)", re.IGNORECASE)
_RECEIPT_ERR = re.compile(r"\berr:(\w+)", re.IGNORECASE)


def apply_delivery_receipt(pdu) -> None:
    """A receipt for a reply we submitted: delivered or failed in the notify outbox."""
    text = decode_text(int(pdu.data_coding or 0), pdu.short_message or b"")
    provider_id = _text(getattr(pdu, "receipted_message_id", None)).strip()
    if not provider_id and (match := _RECEIPT_ID.search(text)):
        provider_id = match.group(1)
    state = (_RECEIPT_STATE.search(text) or [None, ""])[1].upper()
    if not provider_id or state not in ("DELIVRD", "UNDELIV", "REJECTD", "EXPIRED", "DELETED"):
        logger.info("smpp: receipt without an id or a final state ignored")
        return
    status = Status.DELIVERED if state == "DELIVRD" else Status.FAILED
    error = f"{state} {(_RECEIPT_ERR.search(text) or [None, ''])[1]}".strip()
    apply_receipt(provider_id, status, error=error)


def _hang_up(client: smpplib.client.Client) -> None:
    """Unbind if bound, and close the socket, whatever state the session is in."""
    try:
        if client.state in (
            c.SMPP_CLIENT_STATE_BOUND_TX,
            c.SMPP_CLIENT_STATE_BOUND_RX,
            c.SMPP_CLIENT_STATE_BOUND_TRX,
        ):
            client.unbind()
    except (smpplib.exceptions.ConnectionError, smpplib.exceptions.PDUError, OSError):
        pass
    finally:
        if client.state == c.SMPP_CLIENT_STATE_CLOSED:
            client.state = c.SMPP_CLIENT_STATE_OPEN  # a failed connect: just close the socket
        client.disconnect()


def _refresh_connection() -> None:
    # Honours CONN_MAX_AGE and drops a broken connection. Never inside a transaction (a
    # test's): closing would abort it.
    if not connection.in_atomic_block:
        close_old_connections()


class SmppReceiver:
    """One bound session to the SMSC that stores every deliver_sm before answering it."""

    def __init__(
        self,
        host: str | None = None,
        port: int | None = None,
        system_id: str | None = None,
        password: str | None = None,
        *,
        bind: str = "transceiver",
        timeout: float | None = None,
        store: Callable[..., object] = receive_sms,
    ):
        self.host = host or setting("ALARM_SMPP_HOST")
        self.port = int(port or setting("ALARM_SMPP_PORT"))
        self.system_id = system_id if system_id is not None else setting("ALARM_SMPP_SYSTEM_ID")
        self.password = password if password is not None else setting("ALARM_SMPP_PASSWORD")
        self.bind = bind
        self.timeout = timeout or setting("ALARM_SMPP_TIMEOUT_SECONDS")
        self.store = store
        self.client: smpplib.client.Client | None = None
        self.stored = 0

    # --- one deliver_sm ----------------------------------------------------------------

    def handle(self, pdu) -> int:
        """Store one deliver_sm; the SMPP status to answer it with. Called by smpplib, which
        sends deliver_sm_resp only when this returns."""
        if pdu.command != "deliver_sm":
            return ESME_ROK  # alert_notification: nothing to store
        _refresh_connection()
        try:
            if (pdu.esm_class or 0) & 0x3C == SMSC_DELIVERY_RECEIPT:
                apply_delivery_receipt(pdu)
                return ESME_ROK
            delivered = parse_deliver_sm(pdu)
            message_id, repeated = gateway_message_id(delivered)
            if repeated:
                logger.info("smpp: a redelivered message was already stored")
                return ESME_ROK
            message = self.store(
                gateway=GATEWAY,
                message_id=message_id,
                phone=delivered.phone,
                text=delivered.text,
                received_at=timezone.now(),
            )
        except ValidationError as exc:
            logger.warning("smpp: deliver_sm refused permanently: %s", getattr(exc, "code", exc))
            return PERMANENT
        except DatabaseError:
            logger.exception("smpp: database error storing a deliver_sm; the SMSC will retry")
            _refresh_connection()  # a broken connection is not reused for the retry
            return TEMPORARY
        self.stored += 1
        logger.info("smpp: 12110 message %s stored", getattr(message, "pk", "?"))
        return ESME_ROK

    # --- the session -------------------------------------------------------------------

    def connect(self) -> None:
        client = smpplib.client.Client(
            self.host,
            self.port,
            timeout=self.timeout,
            allow_unknown_opt_params=True,
            logger_name="servicehall.alarms.smpp.client",
        )
        client.set_message_received_handler(self.handle)
        client.connect()
        try:
            binder = client.bind_transceiver if self.bind == "transceiver" else client.bind_receiver
            binder(system_id=self.system_id, password=self.password, system_type="12110")
        except Exception:
            client.disconnect()
            raise
        self.client = client
        logger.info("smpp: bound as %s to %s:%s", self.bind, self.host, self.port)

    def close(self) -> None:
        client, self.client = self.client, None
        if client is not None:
            _hang_up(client)

    def serve(self, should_stop: Callable[[], bool] = lambda: False) -> None:
        """Answer PDUs until `should_stop` says so (asked at least every `timeout` seconds;
        an idle link is checked with enquire_link). Raises when the link is lost."""
        assert self.client is not None, "connect() first"
        while not should_stop():
            # Blocks at most `timeout` seconds; an idle link gets an enquire_link.
            self.client.read_once()

    def run(self, should_stop: Callable[[], bool] = lambda: False) -> None:
        """Bind, serve, and bind again after any failure until told to stop."""
        delay = float(setting("ALARM_SMPP_RECONNECT_SECONDS"))
        while not should_stop():
            try:
                self.connect()
                self.serve(should_stop)
            except Exception:  # noqa: BLE001 - the link or our code failed: bind again
                # Whatever deliver_sm was not answered, the SMSC delivers again.
                logger.exception("smpp: receiver session ended; binding again in %ss", delay)
                self.close()
                end = time.monotonic() + delay
                while time.monotonic() < end and not should_stop():
                    time.sleep(0.1)
            else:
                self.close()


class SmppGateway(Gateway):
    """The notify SMS gateway over SMPP: bind as a transmitter, submit_sm, unbind."""

    name = "smpp"

    def __init__(
        self,
        host: str | None = None,
        port: int | None = None,
        system_id: str | None = None,
        password: str | None = None,
        *,
        source_addr: str | None = None,
        timeout: float | None = None,
    ):
        self.host = host or setting("ALARM_SMPP_HOST")
        self.port = int(port or setting("ALARM_SMPP_PORT"))
        self.system_id = system_id if system_id is not None else setting("ALARM_SMPP_SYSTEM_ID")
        self.password = password if password is not None else setting("ALARM_SMPP_PASSWORD")
        self.source_addr = source_addr or setting("ALARM_SMPP_SOURCE_ADDR")
        self.timeout = timeout or notify_setting("NOTIFY_GATEWAY_TIMEOUT_SECONDS")

    @staticmethod
    def _address(recipient: str) -> tuple[int, str]:
        if recipient.startswith("+"):
            return c.SMPP_TON_INTL, recipient[1:]
        return c.SMPP_TON_UNK, recipient

    def _read_submit_resp(self, client, sequence: int):
        while True:
            pdu = client.read_pdu()
            if pdu.command == "enquire_link":
                client._enquire_link_received(pdu)  # the SMSC checks the link meanwhile
            elif pdu.command == "generic_nack" or (
                pdu.command == "submit_sm_resp" and pdu.sequence == sequence
            ):
                return pdu

    def send(self, message: Message) -> str:
        if message.channel != Channel.SMS:
            raise PermanentGatewayError(f"{self.name} gateway sends SMS, not {message.channel}")
        try:
            parts, coding, esm_class = smpplib.gsm.make_parts(message.body)
        except smpplib.exceptions.MessageTooLong as exc:
            raise PermanentGatewayError("message too long for SMS") from exc
        ton, number = self._address(message.recipient)
        client = smpplib.client.Client(
            self.host,
            self.port,
            timeout=self.timeout,
            allow_unknown_opt_params=True,
            logger_name="servicehall.alarms.smpp.client",
        )
        ids = []
        try:
            client.connect()
            client.bind_transmitter(system_id=self.system_id, password=self.password)
            for part in parts:
                submitted = client.send_message(
                    source_addr_ton=c.SMPP_TON_UNK,
                    source_addr_npi=c.SMPP_NPI_ISDN,
                    source_addr=self.source_addr,
                    dest_addr_ton=ton,
                    dest_addr_npi=c.SMPP_NPI_ISDN,
                    destination_addr=number,
                    short_message=part,
                    data_coding=coding,
                    esm_class=esm_class,
                    registered_delivery=True,
                )
                resp = self._read_submit_resp(client, submitted.sequence)
                if resp.is_error() or resp.command == "generic_nack":
                    error = (
                        f"SMPP {resp.command} status 0x{int(resp.status):08X}: "
                        f"{c.DESCRIPTIONS.get(resp.status, 'unknown')}"
                    )
                    if resp.status in _TEMPORARY_SUBMIT or ids:
                        # A part already went: retrying resends it, but dropping the rest
                        # would lose the reply's end.
                        raise GatewayError(error)
                    raise PermanentGatewayError(error)
                ids.append(_text(resp.message_id))
        except smpplib.exceptions.PDUError as exc:
            # A refused bind is our configuration: temporary, fixed by an operator.
            raise GatewayError(f"SMPP bind refused: {exc}") from exc
        except (smpplib.exceptions.ConnectionError, OSError) as exc:
            raise GatewayError(f"SMSC unreachable: {exc or type(exc).__name__}") from exc
        finally:
            _hang_up(client)
        # Receipts refer to a part's id; the last part's arrives last, when the whole is in.
        return ids[-1] if ids else ""
