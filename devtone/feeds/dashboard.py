"""The agents' dashboard feed: a snapshot, then upserts and statistics as they change.

Every dashboard reader subscribes to HEADS: each change to any conversation is published
once, on that conversation's channel, with its head (the conversation's new shape, its
last message cut to a preview), which is the dashboard's upsert. A broker that shards
carries heads on channels of their own, so a dashboard never pulls every entry.

Snapshots are costly (a few queries), so one process takes at most one at a time and
shares it with every reader that can use it: a snapshot is good for a reader if its
queries started after the reader's moment of interest (its subscription, or the change
it heard of), because what committed before is then in it and what commits after
reaches the reader through its subscription.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, closing, nullcontext
from typing import Any

from flask import Flask

from devtone import metrics
from devtone.domain.agents import AgentIdentity
from devtone.domain.api_tokens import TokenIdentity
from devtone.domain.snapshots import Snapshot, take_snapshot
from devtone.feeds import connection_log
from devtone.feeds.loop import frame, shared_frame
from devtone.realtime.broker import ENDED, HEADS, MISSED, Broker, Subscription

#: Statistics follow a burst of changes at most this often per reader.
STATS_INTERVAL = 1.0

_DELIVERED_SSE = metrics.ENTRIES_DELIVERED.labels("dashboard", "sse")
_DELIVERED_LONGPOLL = metrics.ENTRIES_DELIVERED.labels("dashboard", "longpoll")


class SnapshotCache:
    """The process's latest dashboard snapshot and when its queries started."""

    def __init__(self, app: Flask, clock: Callable[[], float] = time.monotonic):
        self._app = app
        self._clock = clock
        self._lock = threading.Lock()
        self._latest: tuple[float, Snapshot] | None = None

    def take(self, newer_than: float) -> Snapshot:
        """A snapshot whose queries started after `newer_than` (this cache's clock)."""
        with self._lock:  # readers arriving meanwhile wait, then share the result
            if self._latest is not None and self._latest[0] > newer_than:
                return self._latest[1]
            started = self._clock()
            with self._app.app_context():
                snapshot = take_snapshot()
            self._latest = (started, snapshot)
            return snapshot

    @property
    def clock(self) -> Callable[[], float]:
        """The clock `take` compares against."""
        return self._clock


class DashboardReader:
    """The loop's reader of the dashboard feed: a snapshot, then upserts and statistics.

    At each heartbeat it compares a (shared) recent snapshot with the versions it has
    sent and sends what is newer, so a lost publish is repaired within two heartbeats.
    """

    kind = "dashboard"
    conversation_id = None
    channels = [HEADS]

    def __init__(self, snapshots: SnapshotCache, hello: dict[str, Any], heartbeat: float):
        self.snapshots = snapshots
        self.hello = hello
        self.heartbeat = heartbeat
        self.connection: connection_log.Connection | None = None  # set by the loop
        self.feed: _Feed | None = None

    @property
    def due_at(self) -> float | None:
        """When the pending statistics may go; None while nothing changed."""
        if self.feed is None or self.feed.stats_due is None:
            return None
        return self.feed.stats_at

    def opened(self, subscribed_at: float) -> Iterator[bytes]:
        """A snapshot that holds everything committed before the subscription."""
        self.feed = _Feed(self.snapshots.take(newer_than=subscribed_at), self.connection)
        self.feed.sent()
        yield frame("snapshot", self.feed.snapshot.as_json())

    def watching(self, subscription: Subscription) -> AbstractContextManager[Any]:
        """Nothing: the heartbeat's repair is the feed's own (`beat`)."""
        return nullcontext()

    def live(self, item: dict[str, Any], now: float) -> Iterator[bytes]:
        """A conversation's upsert."""
        return self.feed.change(item, now)

    def missed(self, now: float) -> Iterator[bytes]:
        """A whole fresh snapshot."""
        return self.feed.resend(self.snapshots.take(newer_than=now))

    def due(self, now: float) -> Iterator[bytes]:
        """The statistics after the pending changes."""
        return self.feed.stats(self.snapshots.take(newer_than=self.feed.stats_due), now)

    def beat(self, now: float) -> Iterator[bytes]:
        """Upserts of what a recent snapshot shows newer than what was sent."""
        return self.feed.repair(self.snapshots.take(newer_than=now - self.heartbeat))


class _Feed:
    """What one dashboard stream has sent: versions by conversation, the latest stats."""

    def __init__(self, snapshot: Snapshot, connection: connection_log.Connection):
        self.snapshot = snapshot
        self.connection = connection
        self.versions = {c["id"]: c["version"] for c in snapshot.conversations}
        self.sent_stats = snapshot.stats
        self.stats_due: float | None = None  # when the oldest change not in sent_stats came
        self.stats_sent_at = float("-inf")

    def sent(self) -> None:
        """Count a snapshot or upsert written to this stream."""
        self.connection.delivered += 1
        _DELIVERED_SSE.inc()

    @property
    def stats_at(self) -> float:
        """When the pending statistics may go (at most one `stats` per STATS_INTERVAL)."""
        return max(self.stats_due or 0.0, self.stats_sent_at + STATS_INTERVAL)

    def change(self, item: dict[str, Any], now: float) -> Iterator[bytes]:
        """A published change: the conversation's upsert (typing is for its transcript's
        own feed, not for every dashboard)."""
        conversation = item.get("conversation")
        if conversation is None:
            return
        if conversation["version"] > self.versions.get(conversation["id"], 0):
            self.versions[conversation["id"]] = conversation["version"]
            self.sent()
            if "mentions" in item:  # agents' eyes only: beside the visitor's shape
                conversation = {**conversation, "mentions": item["mentions"]}
            yield shared_frame(item, "dashboard_frame", "conversation", conversation)
            if self.stats_due is None:
                self.stats_due = now

    def stats(self, snapshot: Snapshot, now: float) -> Iterator[bytes]:
        """The statistics after the pending changes, if they differ from the last sent."""
        self.stats_due = None
        self.stats_sent_at = now
        if snapshot.stats != self.sent_stats:
            self.sent_stats = snapshot.stats
            yield frame("stats", snapshot.stats)

    def repair(self, snapshot: Snapshot) -> Iterator[bytes]:
        """Upserts of what `snapshot` shows newer than what was sent, and its stats if they
        differ. Never the whole snapshot: it may be up to a heartbeat old, and would drop
        from the client's list a conversation that started after it."""
        for conversation in snapshot.conversations:
            if conversation["version"] > self.versions.get(conversation["id"], 0):
                self.versions[conversation["id"]] = conversation["version"]
                self.sent()
                yield frame("conversation", conversation)
        if snapshot.stats != self.sent_stats:
            self.sent_stats = snapshot.stats
            yield frame("stats", snapshot.stats)

    def resend(self, snapshot: Snapshot) -> Iterator[bytes]:
        """A whole fresh snapshot (after MISSED): the client replaces its list with it."""
        self.snapshot = snapshot
        # What the client holds from now on: the snapshot (newer than anything sent).
        self.versions = {c["id"]: c["version"] for c in snapshot.conversations}
        self.sent_stats = snapshot.stats
        self.sent()
        yield frame("snapshot", snapshot.as_json())


def wait_for_snapshot(
    snapshots: SnapshotCache,
    broker: Broker,
    etag: str | None,
    wait: float,
    caller: AgentIdentity | TokenIdentity | None = None,
) -> Snapshot:
    """Long-poll: the snapshot as soon as its etag differs from `etag`, or after `wait` s."""
    clock = snapshots.clock
    if wait <= 0:
        return snapshots.take(newer_than=clock())
    subscription = broker.subscribe([HEADS])
    connection = connection_log.Connection("dashboard", "longpoll", caller)
    with closing(subscription), connection:
        snapshot = snapshots.take(newer_than=clock())
        deadline = clock() + wait
        while snapshot.etag == etag and (remaining := deadline - clock()) > 0:
            item = subscription.get(timeout=remaining)
            if item is ENDED:
                connection.reason = connection_log.SERVER_SHUTDOWN
                break
            if item is None or (item is not MISSED and "conversation" not in item):
                continue  # typing is no news to a snapshot
            # Every waiting reader woken by this change shares one snapshot: the first
            # to hear of it stamps the item, and they all ask for a snapshot after that.
            heard = clock() if item is MISSED else item.setdefault("heard_at", clock())
            snapshot = snapshots.take(newer_than=heard)
        changed = snapshot.etag != etag
        if changed:
            connection.delivered += 1
            _DELIVERED_LONGPOLL.inc()
        if connection.reason is None:
            connection.reason = connection_log.ANSWERED if changed else connection_log.TIMEOUT
        return snapshot
