"""The dispatch console's WebSocket (/ws/alarms/console/).

It carries notices only: which incident, unit or SMS thread changed (live.publish's
payload, ids and statuses, no personal data). The browser then reads the changed rows over
HTTP, where the views apply permissions and masking as on any page.

A connection is accepted only from a signed-in staff member whose second factor was passed
in this session (the session's OTP device, as django_otp's middleware checks it), whose
session is not idle-expired, and who may use the console (rules: the dispatcher role and at
least one desk). It joins the groups of the desks and district their unit allows
(live.groups_for_user) and never sends anything back but a hello with those desks.
"""

from __future__ import annotations

import time

from asgiref.sync import async_to_sync
from channels.generic.websocket import JsonWebsocketConsumer
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


class ConsoleConsumer(JsonWebsocketConsumer):
    def connect(self):
        user, session = self.scope.get("user"), self.scope.get("session")
        if not may_listen(user, session):
            self.close(code=REFUSED)
            return
        self.joined = [*live.groups_for_user(user), live.user_group(user.pk)]
        for group in self.joined:
            async_to_sync(self.channel_layer.group_add)(group, self.channel_name)
        self.accept()
        self.send_json({"event": "hello", "desks": sorted(alarm_rules.desks_of(user))})

    def disconnect(self, code):
        for group in getattr(self, "joined", ()):
            async_to_sync(self.channel_layer.group_discard)(group, self.channel_name)

    def receive_json(self, content, **kwargs):
        """The console only listens; what a browser sends is ignored."""

    def console_signed_out(self, event):
        """The user signed out or their session went idle: say so, and hang up."""
        self.send_json({"event": "signed_out"})
        self.close()

    def console_event(self, event):
        self.send_json({**event["payload"], "event": event["kind"]})
