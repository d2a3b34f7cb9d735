"""The one seam for live updates of the dispatch console (Django Channels).

Every workflow verb calls `publish(event_kind, payload)` after its transaction commits
(through `transaction.on_commit`), never before: a console never shows a change that was
rolled back. `event_kind` is one of

    incident.created  incident.changed  unit.changed  sms.received  sms.sent

and `payload` a small JSON-able dict of ids, statuses and desks (no personal data: the
console reads the rest over HTTP with the viewer's own permissions; an SMS that opens an
incident is one `sms.received` with `opened` and the incident's number, not two notices), e.g.
{"incident": 12, "number": "JJ2026091400001", "status": "dispatched",
 "desks": ["fire", "police"], "district": 3}.

Routing: one channel-layer group per desk and district, `alarms.<desk>.d<district>` (and
`alarms.<desk>.dnone` for incidents not located yet), and a notice goes to its incident's
group of each of its desks — one send per desk, whoever listens. A district-level
dispatcher's console joins its district's groups and the "none" ones, which is what
rules.visible_incidents shows them; a city-level one joins every district's groups of its
desks (14 a desk), so it sees the whole desk without a second, city-wide send per notice
(that halved the channel layer's work for every SMS). A district created while a city
console is open reaches it after a reload. Every payload carries the desks and district it is
routed by (an SMS event its incident's, sms._sms_payload), so publishing reads nothing from
the database. The layer is in-memory in the embedded default (one process serves pages and
sockets) and Redis in production (settings CHANNEL_LAYERS).

A failure to publish never undoes the committed change (it is logged); a console's reload
always shows the stored truth.
"""

from __future__ import annotations

import asyncio
import logging
import threading

from asgiref.sync import async_to_sync

log = logging.getLogger(__name__)

EVENT_TYPE = "console.event"  # the consumer's handler: ConsoleConsumer.console_event
SIGNED_OUT_TYPE = "console.signed_out"  # ConsoleConsumer.console_signed_out
KINDS = frozenset(
    {"incident.created", "incident.changed", "unit.changed", "sms.received", "sms.sent"}
)


def district_group(desk: str, district_id: int | None) -> str:
    return f"alarms.{desk}.d{'none' if district_id is None else int(district_id)}"


def groups_for_user(user) -> list[str]:
    """The groups a console of `user` listens to: every district's of their desks (plus
    incidents not located yet), narrowed to their own district for district-level staff."""
    from servicehall.accounts.models import District

    from .rules import desks_of, district_of

    desks = sorted(desks_of(user))
    own = district_of(user)
    districts = [own] if own is not None else list(District.objects.values_list("pk", flat=True))
    return [district_group(desk, district) for desk in desks for district in [*districts, None]]


def user_group(user_pk: int) -> str:
    """Every console socket of one user (closed when they sign out)."""
    return f"alarms.user.{int(user_pk)}"


def close_consoles(sender=None, *, user=None, **kwargs) -> None:
    """A user signed out (or their idle session ended): their console sockets close, so
    nothing more reaches a browser that is no longer signed in. Connected to Django's
    user_logged_out signal (apps.py)."""
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    if user is None or user.pk is None or layer is None:
        return
    try:
        async_to_sync(layer.group_send)(user_group(user.pk), {"type": SIGNED_OUT_TYPE})
    except Exception:  # noqa: BLE001 - signing out must never fail on the layer
        log.exception("alarms: could not close the consoles of user %s", user.pk)


def _routing(payload: dict) -> tuple[list[str], int | None]:
    """The desks (a unit's notice names its one `desk`) and the district a payload is routed
    by: every publisher puts them in it (workflow.routing_of), so routing reads nothing."""
    desks = payload["desks"] if "desks" in payload else [payload["desk"]]
    return list(desks), payload.get("district")


def groups_for_event(payload: dict) -> list[str]:
    """The groups of the desks and district concerned, and — for a notice that moved the
    incident (`moved_from`: another district or desk) — those it left, so that their consoles
    drop it from their lists without a reload."""
    routings = [_routing(payload)]
    if "moved_from" in payload:
        routings.append(_routing(payload["moved_from"]))
    groups = []
    for desks, district in routings:
        for group in (district_group(desk, district) for desk in desks):
            if group not in groups:
                groups.append(group)
    return groups


# A networked layer (Redis) is driven from one event loop per process, in a thread of its
# own: async_to_sync in a sync worker would start a new loop, and with it a new Redis
# connection, for every call (~4 ms each, 4-5 per inbound SMS; measured by bench-alarms).
_loop: asyncio.AbstractEventLoop | None = None
_loop_lock = threading.Lock()


def _publishing_loop() -> asyncio.AbstractEventLoop:
    global _loop
    with _loop_lock:
        if _loop is None or _loop.is_closed():
            _loop = asyncio.new_event_loop()
            threading.Thread(target=_loop.run_forever, name="alarms-publish", daemon=True).start()
        return _loop


def _send(layer, groups: list[str], message: dict) -> None:
    async def send_all():
        # At once: the groups' deliveries are independent (a console in two of them — a
        # district console when an incident moves into its district from "not located" —
        # gets the same notice twice, and refreshes once), and the next notice is sent only
        # after all of these.
        await asyncio.gather(*(layer.group_send(group, message) for group in groups))

    from channels.layers import InMemoryChannelLayer

    if isinstance(layer, InMemoryChannelLayer):
        # The embedded default: one process, and the layer's queues live on the ASGI
        # server's loop, which async_to_sync reaches from a view's thread.
        async_to_sync(send_all)()
    else:
        asyncio.run_coroutine_threadsafe(send_all(), _publishing_loop()).result(timeout=10)


def publish(event_kind: str, payload: dict) -> None:
    """Announce a committed change to the live consoles of the desks and district concerned."""
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    if layer is None:
        return
    try:
        message = {"type": EVENT_TYPE, "kind": event_kind, "payload": payload}
        groups = groups_for_event(payload)
        if groups:
            _send(layer, groups, message)
    except Exception:  # noqa: BLE001 - the change is committed; a console reload shows it
        log.exception("alarms: could not publish %s %s", event_kind, payload)
