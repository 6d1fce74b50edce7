"""The admin monitor's feed: the metrics' figures, their last ten minutes and the latest
connection events.

A snapshot reads the metrics (every worker's, in multiprocess mode), this process's
history of them (monitor_history.py) and its recent connection events; its etag changes
when any of them does, so a new point of the history reaches long-poll too. The SSE
stream and the long-poll both look again every `interval` seconds: the figures are
counters with no publish of their own, and an admin's page needs to be about as fresh as
a second.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, closing, nullcontext
from typing import Any

from devtone import metrics
from devtone.feeds import connection_log
from devtone.feeds.loop import frame
from devtone.feeds.monitor_history import MonitorHistory
from devtone.realtime.broker import ENDED, Broker, Subscription

#: Seconds between two looks at the figures.
INTERVAL = 1.0
#: The monitor's channel, which only carries ENDED at shutdown.
CHANNEL = "monitor"

_TIERS = ("sse", "longpoll")


def take_snapshot(history: MonitorHistory) -> dict[str, Any]:
    """The figures, their history, this process's recent connection events, and an etag."""
    found = metrics.samples()
    figures = {
        # Conversations' streams by tier; the agents' dashboards apart (all tiers).
        "open_streams": _by(found, "devtone_open_streams", "tier", _TIERS, kind="conversation"),
        "open_dashboards": round(metrics.total(found, "devtone_open_streams", kind="dashboard")),
        "messages_posted": round(metrics.total(found, "devtone_messages_posted_total")),
        "entries_delivered": _by(
            found, "devtone_entries_delivered_total", "tier", _TIERS, kind="conversation"
        ),
        "tier_changes": _tier_changes(found),
        "commit_to_write": _latency(found),
        "broker_reconnects": round(metrics.total(found, "devtone_broker_reconnects_total")),
        "catch_up_reads": round(metrics.total(found, "devtone_catch_up_reads_total")),
        # Fewer than reads when streams share their catch-up pages (a reconnect storm).
        "catch_up_queries": round(metrics.total(found, "devtone_catch_up_queries_total")),
        "closed_by_reason": _labelled(found, "devtone_connections_closed_total", "reason"),
    }
    events = connection_log.recent()
    history.start()  # with the first look at the monitor, and kept going after it
    points = {"step_s": history.step, "span_s": history.span, "points": history.points()}
    seen = json.dumps([figures, events, points], sort_keys=True).encode()
    return {
        "figures": figures,
        "history": points,
        "events": events,
        "process": os.getpid(),
        "etag": hashlib.sha256(seen).hexdigest()[:16],
    }


class MonitorReader:
    """The loop's reader of the monitor: a snapshot, then one whenever it changed."""

    kind = "monitor"
    conversation_id = None
    #: Nobody publishes here: a monitor subscribes only to hear ENDED at shutdown.
    channels = [CHANNEL]

    def __init__(
        self,
        hello: dict[str, Any],
        clock: Callable[[], float],
        history: MonitorHistory,
        interval: float = INTERVAL,
    ):
        self.hello = hello
        self.clock = clock
        self.history = history
        self.interval = interval
        self.due_at: float | None = None
        self.sent: str | None = None
        self.connection: connection_log.Connection | None = None  # set by the loop

    def opened(self, subscribed_at: float) -> Iterator[bytes]:
        """The figures as they are now."""
        return self.due(self.clock())

    def watching(self, subscription: Subscription) -> AbstractContextManager[Any]:
        """Nothing to repair: every look reads the figures afresh."""
        return nullcontext()

    def live(self, item: dict[str, Any], now: float) -> Iterator[bytes]:
        """Nothing is published on the monitor's channel."""
        return iter(())

    def missed(self, now: float) -> Iterator[bytes]:
        """Look again at once."""
        return self.due(now)

    def due(self, now: float) -> Iterator[bytes]:
        """A look at the figures: a snapshot if they changed since the last one sent."""
        self.due_at = now + self.interval
        snapshot = take_snapshot(self.history)
        if snapshot["etag"] != self.sent:
            self.sent = snapshot["etag"]
            self.connection.delivered += 1
            yield frame("snapshot", snapshot)

    def beat(self, now: float) -> Iterator[bytes]:
        """Nothing after a ping."""
        return iter(())


def wait_for_monitor(
    broker: Broker,
    history: MonitorHistory,
    etag: str | None,
    wait: float,
    caller: object = None,
    clock: Callable[[], float] = time.monotonic,
    interval: float = INTERVAL,
) -> dict[str, Any]:
    """Long-poll: the snapshot as soon as its etag differs from `etag`, or after `wait` s."""
    snapshot = take_snapshot(history)
    if wait <= 0 or snapshot["etag"] != etag:
        return snapshot
    subscription = broker.subscribe([CHANNEL])
    connection = connection_log.Connection("monitor", "longpoll", caller)
    with closing(subscription), connection:
        deadline = clock() + wait
        while snapshot["etag"] == etag and (remaining := deadline - clock()) > 0:
            if subscription.get(timeout=min(interval, remaining)) is ENDED:
                connection.reason = connection_log.SERVER_SHUTDOWN
                break
            snapshot = take_snapshot(history)
        changed = snapshot["etag"] != etag
        connection.delivered += changed
        if connection.reason is None:
            connection.reason = connection_log.ANSWERED if changed else connection_log.TIMEOUT
        return snapshot


def _by(
    found: dict[str, Any], name: str, label: str, values: tuple[str, ...], **also: str
) -> dict[str, int]:
    return {value: round(metrics.total(found, name, **{label: value}, **also)) for value in values}


def _labelled(found: dict[str, Any], name: str, label: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for labels, value in found.get(name, []):
        counts[labels[label]] = counts.get(labels[label], 0) + round(value)
    return counts


def _tier_changes(found: dict[str, Any]) -> list[dict[str, Any]]:
    changes = [
        {"from": labels["from"], "to": labels["to"], "reason": labels["reason"], "count": round(v)}
        for labels, v in found.get("devtone_tier_changes_total", [])
        if v
    ]
    return sorted(changes, key=lambda c: (-c["count"], c["from"], c["to"], c["reason"]))


def _latency(found: dict[str, Any]) -> dict[str, Any]:
    """Count, mean and the bucket bounds holding the median and the 95th percentile (ms)."""
    count = metrics.total(found, "devtone_commit_to_write_seconds_count")
    total = metrics.total(found, "devtone_commit_to_write_seconds_sum")
    buckets: dict[float, float] = {}
    for labels, value in found.get("devtone_commit_to_write_seconds_bucket", []):
        bound = float(labels["le"])
        buckets[bound] = buckets.get(bound, 0.0) + value  # summed over tiers

    def bound_of(quantile: float) -> float | None:
        for bound, cumulative in sorted(buckets.items()):
            if count and cumulative >= quantile * count:
                return None if bound == float("inf") else round(bound * 1000, 1)
        return None

    return {
        "count": round(count),
        "mean_ms": round(total / count * 1000, 1) if count else None,
        "p50_ms": bound_of(0.5),
        "p95_ms": bound_of(0.95),
    }
