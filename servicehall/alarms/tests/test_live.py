"""live.publish over a networked channel layer (Redis, as in production): the notice reaches
a console's group, and every publish of a process goes through one long-lived event loop
(a new loop per call would open a new Redis connection per call)."""

import asyncio
import socket
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from channels.layers import channel_layers

from servicehall.alarms import live


def _redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


pytestmark = pytest.mark.skipif(not _redis_answers(), reason="needs Redis on 127.0.0.1:6379")


@pytest.fixture
def redis_layer(settings):
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": ["redis://127.0.0.1:6379/14"], "prefix": uuid.uuid4().hex},
        }
    }
    channel_layers.backends.pop("default", None)
    yield channel_layers["default"]
    channel_layers.backends.pop("default", None)


def run(coroutine_function, *args):
    """Run an async layer call to the end in a thread of its own: a browser test earlier in
    the run may leave an event loop in this thread, where async_to_sync refuses to work."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine_function(*args)).result(timeout=10)


async def console_of(layer, group: str) -> str:
    channel = await layer.new_channel()
    await layer.group_add(group, channel)
    return channel


def receive(layer, channel, count: int) -> list[dict]:
    """`count` messages of `channel`, read in one event loop (as a console's consumer does)."""

    async def read():
        return [await layer.receive(channel) for _ in range(count)]

    return run(read)


def test_notices_reach_the_incidents_group_through_one_loop(redis_layer):
    console = run(console_of, redis_layer, live.district_group("fire", None))
    loops = set()
    for n in (1, 2):
        live.publish("incident.created", {"incident": n, "desks": ["fire"], "district": None})
        loops.add(live._loop)
    messages = receive(redis_layer, console, 2)
    assert [m["kind"] for m in messages] == ["incident.created"] * 2
    assert [m["payload"]["incident"] for m in messages] == [1, 2]
    assert len(loops) == 1 and next(iter(loops)).is_running()


def test_other_desks_hear_nothing(redis_layer):
    console = run(console_of, redis_layer, live.district_group("traffic", None))
    live.publish("incident.created", {"incident": 3, "desks": ["fire"], "district": None})
    live.publish("incident.created", {"incident": 4, "desks": ["traffic"], "district": None})
    (message,) = receive(redis_layer, console, 1)
    assert message["payload"]["incident"] == 4
