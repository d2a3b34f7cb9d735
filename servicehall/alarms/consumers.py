"""The dispatch console's WebSocket (/ws/alarms/console/).

It carries notices only: which incident, unit or SMS thread changed (live.publish's
payload, ids and statuses, no personal data). The browser then reads the changed rows over
HTTP, where the views apply permissions and masking as on any page.

A connection is accepted only from a signed-in staff member whose second factor was passed
in this session (the session's OTP device, as django_otp's middleware checks it), whose
session is not idle-expired, and who may use the console (rules: the dispatcher role and at
least one desk). It joins the groups of the desks and district their unit allows
(live.groups_for_user) and never sends anything back but a hello with those desks.

The consumer is async: a notice is forwarded to the browser on the ASGI server's event loop,
without the worker-thread hop a sync consumer makes per message (two notices per inbound
SMS, to every console). Only the handshake reads the database, once, in a worker thread.
"""

from __future__ import annotations

import time

import orjson
from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.models import Device

from servicehall.accounts.signin import STAFF_SEEN_KEY

from . import live
from . import rules as alarm_rules

REFUSED = 4403  # close code when the handshake is refused (the browser sees 403)


def _verified(user, session) -> bool:
    persistent_id = session.get(DEVICE_ID_SESSION_KEY) if session is not None else None
    if not persistent_id:
        return False
    device = Device.from_persistent_id(persistent_id)
    return bool(device is not None and device.user_id == user.pk and device.confirmed)


def _not_idle(session) -> bool:
    seen = session.get(STAFF_SEEN_KEY)
    return seen is None or time.time() - seen <= settings.STAFF_IDLE_TIMEOUT.total_seconds()


def may_listen(user, session) -> bool:
    """Who may open the console's socket (see the module docstring)."""
    if user is None or not user.is_authenticated or not getattr(user, "is_staff_member", False):
        return False
    if not (_verified(user, session) and _not_idle(session)):
        return False
    return bool(alarm_rules.is_dispatcher(user) and alarm_rules.desks_of(user))


def admission(user, session) -> tuple[list[str], list[str]] | None:
    """Everything the handshake needs from the database, in one call (one worker-thread
    hop): None if `user` may not listen, else the groups to join and the desks to greet
    with. The session's data, the OTP device, roles and desks are all read here."""
    if not may_listen(user, session):
        return None
    groups = [*live.groups_for_user(user), live.user_group(user.pk)]
    return groups, sorted(alarm_rules.desks_of(user))


class ConsoleConsumer(AsyncJsonWebsocketConsumer):
    joined: tuple[str, ...] = ()  # the groups of an admitted socket (discarded on hang-up)

    async def dispatch(self, message):
        """As AsyncConsumer.dispatch, without its close_old_connections before every
        handler: that runs in a worker thread, i.e. one thread hop per notice per console,
        the cost this consumer is async to avoid. No handler here touches the database
        but connect, whose database_sync_to_async closes stale connections itself (and
        websocket_disconnect still does so on the way out)."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self):
        admitted = await database_sync_to_async(admission)(
            self.scope.get("user"), self.scope.get("session")
        )
        if admitted is None:
            await self.close(code=REFUSED)
            return
        groups, desks = admitted
        self.joined = tuple(groups)
        for group in self.joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        await self.send_json({"event": "hello", "desks": desks})

    async def disconnect(self, code):
        for group in self.joined:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        """The console only listens; what a browser sends is ignored."""

    @classmethod
    async def encode_json(cls, content) -> str:
        # orjson (a dependency already, registry.names) encodes a notice several times
        # faster than json.dumps; the browser parses either the same.
        return orjson.dumps(content).decode()

    async def console_signed_out(self, event):
        """The user signed out or their session went idle: say so, and hang up."""
        await self.send_json({"event": "signed_out"})
        await self.close()

    async def console_event(self, event):
        await self.send_json({**event["payload"], "event": event["kind"]})
