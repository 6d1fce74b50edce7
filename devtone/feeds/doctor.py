"""What the doctor measures the way to the browser against: a stream that says hello at
once and pings one heartbeat later, and a wait that answers after its seconds, as
long-poll does. Neither reads or writes anything: they only take time, like the real ones.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import closing, nullcontext
from typing import Any

from devtone.feeds.loop import StreamSettings, frame, now
from devtone.realtime.broker import ENDED, Broker
from devtone.realtime.stream_slots import Slot

#: Nothing is published here: the probes subscribe only so that shutdown ends them (a
#: subscription to no channel at all is never seen by the broker's end_all).
QUIET_CHANNEL = "doctor:quiet"


def probe_stream(
    broker: Broker, settings: StreamSettings, slot: Slot | None = None
) -> Iterator[bytes]:
    """`hello` (with the server's time) at once, a ping after one heartbeat, then the end.

    Its subscription (to a channel nobody publishes on) only ends it early at shutdown, as
    every stream ends then. `slot`, if given, is given back at the end.
    """
    subscription = broker.subscribe([QUIET_CHANNEL])
    with closing(subscription), slot or nullcontext():
        heartbeat_ms = round(settings.heartbeat * 1000)
        yield frame(
            "hello",
            {"time": now(), "tier": "sse", "heartbeat_ms": heartbeat_ms},
            retry=settings.retry_ms,
        )
        if _sleep(subscription, settings.heartbeat, settings.clock):
            yield frame("ping", {"time": now()})


def probe_wait(
    broker: Broker, seconds: float, clock: Callable[[], float] = time.monotonic
) -> dict[str, Any]:
    """After `seconds` (sooner at shutdown), the server's time and how long it waited."""
    started = clock()
    if seconds > 0:
        subscription = broker.subscribe([QUIET_CHANNEL])
        with closing(subscription):
            _sleep(subscription, seconds, clock)
    return {"time": now(), "waited_ms": round((clock() - started) * 1000)}


def _sleep(subscription: Any, seconds: float, clock: Callable[[], float]) -> bool:
    # Nothing is published on the quiet channel, but a broker reconnect marks every
    # subscription missed: keep waiting until the deadline. False: the process is ending.
    deadline = clock() + seconds
    while (left := deadline - clock()) > 0:
        if subscription.get(timeout=left) is ENDED:
            return False
    return True
