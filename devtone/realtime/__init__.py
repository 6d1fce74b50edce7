"""Transport: the broker a process publishes through, SSE framing, stream slots, tiers.

Knows nothing of conversations: the readers that use it live in `devtone.feeds`.
"""

from __future__ import annotations

import math

from flask import Flask

from devtone import metrics
from devtone.realtime.broker import Broker, MemoryBroker
from devtone.realtime.redis_broker import RedisBroker
from devtone.realtime.shared_slots import SharedStreamCounts
from devtone.realtime.stream_slots import StreamSlots

EXTENSION_KEY = "devtone.broker"
STREAMS_KEY = "devtone.streams"


def init_app(app: Flask) -> None:
    """Choose this app's broker from config (Redis when REDIS_URL is set); no I/O here."""
    if app.config.get("REDIS_URL"):
        broker: Broker = RedisBroker(
            app.config["REDIS_URL"],
            queue_size=app.config["SUBSCRIBER_QUEUE"],
            channel=app.config["REDIS_CHANNEL"],
            on_reconnect=metrics.BROKER_RECONNECTS.inc,
            timeout=app.config["REDIS_TIMEOUT"],
            on_dropped=lambda reason, count: metrics.PUBLISHES_DROPPED.labels(reason).inc(count),
            on_breaker_open=metrics.BROKER_BREAKER_OPENED.inc,
        )
    else:
        broker = MemoryBroker(app.config["SUBSCRIBER_QUEUE"])
    app.extensions[EXTENSION_KEY] = broker
    # A refused stream's client polls; it may try its stream again after one poll.
    shared = None
    if app.config.get("REDIS_URL"):
        shared = SharedStreamCounts(app.config["REDIS_URL"], app.config["REDIS_CHANNEL"] + ":")
    app.extensions[STREAMS_KEY] = StreamSlots(
        app.config["STREAMS_PER_CONVERSATION"],
        app.config["MAX_STREAMS"],
        retry_after=math.ceil(app.config["POLL_INTERVAL"]),
        reserved=app.config["AGENT_STREAMS"],
        shared=shared,
    )


def broker_of(app: Flask) -> Broker:
    """The broker bound to `app`."""
    return app.extensions[EXTENSION_KEY]


def stream_slots_of(app: Flask) -> StreamSlots:
    """The open-stream limits of `app`'s process."""
    return app.extensions[STREAMS_KEY]
