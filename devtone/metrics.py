"""Prometheus metrics: who is connected on which tier, and how fast entries travel.

With PROMETHEUS_MULTIPROC_DIR set (several gunicorn workers), prometheus-client keeps each
value in a file per process and the exposition adds them up; gauges count only live
processes (`livesum`), and gunicorn.conf.py's `child_exit` removes a dead worker's files.
Without it, the values live in this process's own registry. Imports nothing of devtone.
"""

from __future__ import annotations

import os
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

#: devtone's metrics only (not the default registry's process collectors, which
#: multiprocess mode cannot serve anyway).
REGISTRY = CollectorRegistry(auto_describe=True)

OPEN_STREAMS = Gauge(
    "devtone_open_streams",
    "Open SSE streams (tier=sse) and long-poll waits in progress (tier=longpoll).",
    ["kind", "tier"],
    multiprocess_mode="livesum",
    registry=REGISTRY,
)
CONNECTIONS_CLOSED = Counter(
    "devtone_connections_closed",
    "SSE streams and long-poll waits ended, by why they ended.",
    ["kind", "tier", "reason"],
    registry=REGISTRY,
)
MESSAGES_POSTED = Counter(
    "devtone_messages_posted", "Text messages stored (a repeated client_id is not).",
    registry=REGISTRY,
)  # fmt: skip
ENTRIES_DELIVERED = Counter(
    "devtone_entries_delivered",
    "Log entries written to readers (conversation) and snapshots or upserts (dashboard).",
    ["kind", "tier"],
    registry=REGISTRY,
)
TIER_CHANGES = Counter(
    "devtone_tier_changes",
    "Tier changes the browsers reported: fallbacks and upgrades, with their reason.",
    ["from", "to", "reason"],
    registry=REGISTRY,
)
COMMIT_TO_WRITE = Histogram(
    "devtone_commit_to_write_seconds",
    "From an entry's commit to its write on a reader's response.",
    ["tier"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
    registry=REGISTRY,
)
BROKER_RECONNECTS = Counter(
    "devtone_broker_reconnects", "Times the Redis pub/sub connection came back.",
    registry=REGISTRY,
)  # fmt: skip
PUBLISHES_DROPPED = Counter(
    "devtone_broker_publishes_dropped",
    "Announcements never sent to Redis (readers repair them from the database), by why:"
    " queue_full, breaker_open (Redis failed a moment ago), failed (error or timeout).",
    ["reason"],
    registry=REGISTRY,
)
BROKER_BREAKER_OPENED = Counter(
    "devtone_broker_breaker_opened",
    "Times publishing to Redis was suspended after failures (the circuit breaker opened).",
    registry=REGISTRY,
)
BROKER_RECEIVED = Counter(
    "devtone_broker_received",
    "What this process heard from Redis: items of its readers' channels (item) and the"
    " dashboards' heads (head). On one Redis every process hears every item; on a"
    " cluster only those its readers need (compare devtone_entries_delivered).",
    ["kind"],
    registry=REGISTRY,
)
BROKER_CHANNELS = Gauge(
    "devtone_broker_channels",
    "Redis Cluster shard channels this process is subscribed to (what=channels), and the"
    " shards (slots) they lie on (what=shards).",
    ["what"],
    multiprocess_mode="livesum",
    registry=REGISTRY,
)
BROKER_OUTAGES = Histogram(
    "devtone_broker_outage_seconds",
    "Times this process stopped hearing some of its channels (a Redis connection or a"
    " cluster node lost, until subscribed again), and how long each lasted.",
    buckets=(0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0, 30.0, 60.0, 300.0),
    registry=REGISTRY,
)
BROKER_OUTAGE = Gauge(
    "devtone_broker_outage",
    "1 while this process has lost channels it needs (readers repair from the database).",
    multiprocess_mode="livemax",
    registry=REGISTRY,
)
DATABASE_WAITS_ABANDONED = Counter(
    "devtone_database_waits_abandoned",
    "Waits on PostgreSQL given up (the request answers 503): timeout (no answer within"
    " the limit) or breaker_open (it failed one a moment ago, so this one failed at once).",
    ["reason"],
    registry=REGISTRY,
)
CATCH_UP_READS = Counter(
    "devtone_catch_up_reads",
    "Database reads of a reader's gap: backlog on open, after MISSED, after a seq gap.",
    ["reason"],
    registry=REGISTRY,
)
CATCH_UP_QUERIES = Counter(
    "devtone_catch_up_queries",
    "Queries run for streams' catch-up pages; streams asking for the same page at once"
    " share one (feeds/catch_up.py), so a reconnect storm shows far fewer than reads.",
    registry=REGISTRY,
)

# Children bound once: `labels()` is a dict lookup under a lock, and these are touched for
# every entry written to every reader.
DELIVERED_SSE = ENTRIES_DELIVERED.labels("conversation", "sse")
DELIVERED_LONGPOLL = ENTRIES_DELIVERED.labels("conversation", "longpoll")
COMMIT_TO_WRITE_SSE = COMMIT_TO_WRITE.labels("sse")
COMMIT_TO_WRITE_LONGPOLL = COMMIT_TO_WRITE.labels("longpoll")


def multiprocess_dir() -> str | None:
    """The directory of multiprocess mode, or None in single-process mode."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def _registry() -> CollectorRegistry:
    if multiprocess_dir() is None:
        return REGISTRY
    # A fresh registry per scrape, as the multiprocess docs say: it reads every process's
    # files now, and never registers the metrics above (they would count twice).
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


def exposition() -> tuple[bytes, str]:
    """The Prometheus text of every devtone metric, and its content type."""
    return generate_latest(_registry()), CONTENT_TYPE_LATEST


def samples() -> dict[str, list[tuple[dict[str, str], float]]]:
    """Every sample by name, `[(labels, value)…]`, across processes in multiprocess mode."""
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in _registry().collect():
        for sample in family.samples:
            found.setdefault(sample.name, []).append((dict(sample.labels), sample.value))
    return found


def total(found: dict[str, Any], name: str, **labels: str) -> float:
    """The sum of `name`'s samples whose labels include `labels`."""
    return sum(
        value
        for sample_labels, value in found.get(name, [])
        if all(sample_labels.get(k) == v for k, v in labels.items())
    )
