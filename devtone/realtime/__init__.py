"""Transport: the broker a process publishes through, SSE framing, stream slots, tiers.

Knows nothing of conversations: the readers that use it live in `devtone.feeds`.
"""

from __future__ import annotations

import math

from flask import Flask

from devtone import metrics
from devtone.connections import redis_cluster
from devtone.realtime.broker import Broker, MemoryBroker
from devtone.realtime.cluster_broker import ClusterBroker
from devtone.realtime.redis_broker import RedisBroker
from devtone.realtime.shared_slots import SharedStreamCounts
from devtone.realtime.stream_slots import StreamSlots

EXTENSION_KEY = "devtone.broker"
STREAMS_KEY = "devtone.streams"


def init_app(app: Flask) -> None:
    """Choose this app's broker from config (Redis when REDIS_URL is set, sharded when it
    names a cluster); no I/O here."""
    url = app.config.get("REDIS_URL")
    cluster = redis_cluster(url) if url else None
    dropped = lambda reason, count: metrics.PUBLISHES_DROPPED.labels(reason).inc(count)  # noqa: E731
    broker: Broker
    if cluster is not None:
        broker = ClusterBroker(
            cluster.nodes,
            username=cluster.username,
            password=cluster.password,
            queue_size=app.config["SUBSCRIBER_QUEUE"],
            prefix=app.config["REDIS_CHANNEL"],
            shards=app.config["REDIS_SHARDS"],
            timeout=app.config["REDIS_TIMEOUT"],
            on_dropped=dropped,
            on_breaker_open=metrics.BROKER_BREAKER_OPENED.inc,
            on_received=_count_received,
            on_channels=_count_channels,
        )
    elif url:
        broker = RedisBroker(
            url,
            queue_size=app.config["SUBSCRIBER_QUEUE"],
            channel=app.config["REDIS_CHANNEL"],
            on_reconnect=metrics.BROKER_RECONNECTS.inc,
            timeout=app.config["REDIS_TIMEOUT"],
            on_dropped=dropped,
            on_breaker_open=metrics.BROKER_BREAKER_OPENED.inc,
            on_received=_count_received,
        )
    else:
        broker = MemoryBroker(app.config["SUBSCRIBER_QUEUE"])
    broker.watch_outages(_count_outage)
    app.extensions[EXTENSION_KEY] = broker
    # A refused stream's client polls; it may try its stream again after one poll.
    shared = None
    if url:
        # On a cluster every key of the counts shares one hash tag: the counting scripts
        # touch several keys, which Redis allows only on one slot.
        prefix = (
            f"{{{app.config['REDIS_CHANNEL']}}}:" if cluster else app.config["REDIS_CHANNEL"] + ":"
        )
        shared = SharedStreamCounts(url, prefix)
    app.extensions[STREAMS_KEY] = StreamSlots(
        app.config["STREAMS_PER_CONVERSATION"],
        app.config["MAX_STREAMS"],
        retry_after=math.ceil(app.config["POLL_INTERVAL"]),
        reserved=app.config["AGENT_STREAMS"],
        shared=shared,
    )


_RECEIVED = {kind: metrics.BROKER_RECEIVED.labels(kind) for kind in ("item", "head")}


def _count_received(kind: str) -> None:
    _RECEIVED[kind].inc()


def _count_channels(channels: int, shards: int) -> None:
    metrics.BROKER_CHANNELS.labels("channels").set(channels)
    metrics.BROKER_CHANNELS.labels("shards").set(shards)


def _count_outage(event: str, fields: dict[str, object]) -> None:
    if event == "broker_outage":
        metrics.BROKER_OUTAGE.set(1)
    else:
        metrics.BROKER_OUTAGE.set(0)
        metrics.BROKER_OUTAGES.observe(float(str(fields.get("duration_ms", 0))) / 1000)


def broker_of(app: Flask) -> Broker:
    """The broker bound to `app`."""
    return app.extensions[EXTENSION_KEY]


def stream_slots_of(app: Flask) -> StreamSlots:
    """The open-stream limits of `app`'s process."""
    return app.extensions[STREAMS_KEY]
