"""gunicorn config for `bench/alarms.py --publish-loop` — an experiment, not the hall's code.

live.publish calls `async_to_sync(layer.group_send)` once per group; in a sync worker each
call runs a new event loop in a new thread, so channels-redis opens a new Redis connection
every time (2 groups × 2 notices per inbound message). This hook replaces live.publish in
each worker with the same group_send calls on one event loop that lives as long as the
worker, so the layer's connection pool is reused — to measure what that would change.
"""

import asyncio
import logging
import threading

log = logging.getLogger("bench.alarms")


def post_worker_init(worker):
    from channels.layers import get_channel_layer

    from servicehall.alarms import live

    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, name="publish-loop", daemon=True).start()
    layer = get_channel_layer()

    async def send(groups, message):
        for group in groups:
            await layer.group_send(group, message)

    def publish(event_kind, payload):
        try:
            message = {"type": live.EVENT_TYPE, "kind": event_kind, "payload": payload}
            groups = live.groups_for_event(payload)
            asyncio.run_coroutine_threadsafe(send(groups, message), loop).result(timeout=10)
        except Exception:  # noqa: BLE001 - as live.publish: the change is committed
            log.exception("bench: could not publish %s %s", event_kind, payload)

    live.publish = publish
