"""The one shape of every SSE reader: hello, what it owes, live changes, pings, the end.

A feed (conversation, dashboard, monitor) says only what differs: its channels, what it
sends after hello, what a published change and a repair (MISSED) become, and, if it has
one, a timer of its own (the dashboard's statistics, the monitor's next look). The loop
owns the rest, the same for all three: the subscription, the stream slot, the connection
log line, the heartbeat with its still-allowed check, and the end at shutdown.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, closing, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from devtone.domain.models import isoformat
from devtone.feeds import connection_log
from devtone.realtime import sse
from devtone.realtime.broker import ENDED, MISSED, Broker, Subscription
from devtone.realtime.stream_slots import Slot


@dataclass(frozen=True, slots=True)
class StreamSettings:
    """How one stream runs: its timings, and the checks it makes at each heartbeat."""

    heartbeat: float
    retry_ms: int
    #: Asked at each heartbeat (agents): a deactivated agent's stream ends.
    still_allowed: Callable[[], bool] | None = None
    clock: Callable[[], float] = field(default=time.monotonic)


class Reader(Protocol):
    """What a feed tells the loop (see the module's docstring)."""

    kind: str  # the connection log's kind: conversation, dashboard, monitor
    conversation_id: int | None
    channels: list[str]
    hello: dict[str, Any]  # what the hello carries besides time and tier
    due_at: float | None  # when `due` must run, on the settings' clock; None: never

    def opened(self, subscribed_at: float) -> Iterator[bytes]:
        """What the stream owes right after hello (the backlog, a snapshot)."""

    def watching(self, subscription: Subscription) -> AbstractContextManager[Any]:
        """Held while the stream waits (the conversation's heartbeat repair)."""

    def live(self, item: dict[str, Any], now: float) -> Iterator[bytes]:
        """The frames of one published change."""

    def missed(self, now: float) -> Iterator[bytes]:
        """The repair after the broker may have dropped something."""

    def due(self, now: float) -> Iterator[bytes]:
        """The frames of the reader's own timer, at `due_at`."""

    def beat(self, now: float) -> Iterator[bytes]:
        """What goes out after each heartbeat's ping."""


def stream(
    reader: Reader,
    broker: Broker,
    settings: StreamSettings,
    caller: object = None,
    slot: Slot | None = None,
) -> Iterator[bytes]:
    """The SSE frames of `reader` until the client goes, the caller is refused or the
    process stops.

    Runs after the view has returned, outside any request: it holds no request or app
    context while it waits (the readers enter the app only to read the database).
    """
    clock = settings.clock
    subscription = broker.subscribe(reader.channels)
    subscribed_at = clock()
    connection = connection_log.Connection(reader.kind, "sse", caller, reader.conversation_id)
    reader.connection = connection
    # The slot is given back here, not by a wrapping generator: each layer of generators
    # is C stack that every waiting greenlet keeps (1.3 KiB a stream, measured).
    with closing(subscription), connection, slot or nullcontext():
        # Built in the expression, not kept in a local: the generator's frame lives as long
        # as the stream.
        yield frame(
            "hello",
            {**reader.hello, "time": now(), "tier": "sse",
             "heartbeat_ms": round(settings.heartbeat * 1000)},
            retry=settings.retry_ms,
        )  # fmt: skip
        yield from reader.opened(subscribed_at)
        with reader.watching(subscription):
            next_beat = clock() + settings.heartbeat
            while True:
                due_at = reader.due_at
                wake_at = next_beat if due_at is None or due_at > next_beat else due_at
                item = subscription.get(timeout=wake_at - clock())
                if item is ENDED:
                    # The process is shutting down: finish the response cleanly, so the
                    # browser reconnects (elsewhere) after `retry` ms.
                    connection.reason = connection_log.SERVER_SHUTDOWN
                    return
                moment = clock()
                if item is MISSED:
                    yield from reader.missed(moment)
                elif item is not None:
                    yield from reader.live(item, moment)
                due_at = reader.due_at
                if due_at is not None and moment >= due_at:
                    yield from reader.due(moment)
                if moment >= next_beat:
                    if settings.still_allowed is not None and not settings.still_allowed():
                        connection.reason = connection_log.AGENT_DEACTIVATED
                        return  # the browser reconnects, and is refused
                    next_beat = moment + settings.heartbeat
                    yield frame("ping", {"time": now()})
                    yield from reader.beat(moment)


def shared_frame(item: dict[str, Any], key: str, event: str, data: Any, **fields: Any) -> bytes:
    """`event`'s frame of a published item, encoded once for every local stream: all the
    subscribers of a process share the item."""
    encoded = item.get(key)
    if encoded is None:
        encoded = item[key] = frame(event, data, **fields)
    return encoded


def frame(event: str, data: Any, **fields: Any) -> bytes:
    """One SSE frame as bytes, so the WSGI server writes it as it is."""
    return sse.encode(event, data, **fields).encode()


def now() -> str:
    """The server's time as frames carry it (ISO 8601 UTC)."""
    return isoformat(datetime.now(UTC))
