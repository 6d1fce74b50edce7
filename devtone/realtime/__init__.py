"""Realtime delivery: the broker a process publishes through, and the streams."""

from __future__ import annotations

import math

from flask import Flask

from devtone import metrics
from devtone.realtime import connection_log
from devtone.realtime.broker import Broker, MemoryBroker
from devtone.realtime.dashboard_feed import SnapshotCache
from devtone.realtime.heads import HeadWatcher
from devtone.realtime.redis_broker import RedisBroker
from devtone.realtime.stream_limits import StreamSlots
from devtone.typing_throttle import TypingThrottle

EXTENSION_KEY = "devtone.broker"
HEADS_KEY = "devtone.heads"
TYPING_KEY = "devtone.typing"
SNAPSHOTS_KEY = "devtone.snapshots"
STREAMS_KEY = "devtone.streams"


def init_app(app: Flask) -> None:
    """Choose this app's broker from config (Redis when REDIS_URL is set); no I/O here."""
    if app.config.get("REDIS_URL"):
        broker: Broker = RedisBroker(
            app.config["REDIS_URL"],
            queue_size=app.config["SUBSCRIBER_QUEUE"],
            channel=app.config["REDIS_CHANNEL"],
            on_reconnect=metrics.BROKER_RECONNECTS.inc,
        )
    else:
        broker = MemoryBroker(app.config["SUBSCRIBER_QUEUE"])
    app.extensions[EXTENSION_KEY] = broker
    app.extensions[HEADS_KEY] = HeadWatcher(app, app.config["SSE_HEARTBEAT"])
    app.extensions[TYPING_KEY] = TypingThrottle(app.config["TYPING_INTERVAL"])
    app.extensions[SNAPSHOTS_KEY] = SnapshotCache(app)
    connection_log.init_app(app)
    # A refused stream's client polls; it may try its stream again after one poll.
    app.extensions[STREAMS_KEY] = StreamSlots(
        app.config["STREAMS_PER_CONVERSATION"],
        app.config["MAX_STREAMS"],
        retry_after=math.ceil(app.config["POLL_INTERVAL"]),
    )


def broker_of(app: Flask) -> Broker:
    """The broker bound to `app`."""
    return app.extensions[EXTENSION_KEY]


def heads_of(app: Flask) -> HeadWatcher:
    """The head watcher that repairs `app`'s readers."""
    return app.extensions[HEADS_KEY]


def snapshots_of(app: Flask) -> SnapshotCache:
    """The dashboard snapshots `app`'s process shares between its agents."""
    return app.extensions[SNAPSHOTS_KEY]


def stream_slots_of(app: Flask) -> StreamSlots:
    """The open-stream limits of `app`'s process."""
    return app.extensions[STREAMS_KEY]


def end_streams(app: Flask) -> None:
    """Graceful shutdown: finish every open stream and long-poll of this process now.

    Clients reconnect (to another worker, behind a load balancer) and resume from their
    cursor, instead of being cut off when the server's graceful timeout runs out.
    """
    heads_of(app).close()
    broker_of(app).end_all()
