"""The agents' dashboard feed: a snapshot, then upserts and statistics as they change.

Every dashboard reader subscribes to EVERY_CHANNEL: each change to any conversation is
published once, on that conversation's channel, and carries the conversation's new
shape, which is the dashboard's upsert. Snapshots are costly (a few queries), so one
process takes at most one at a time and shares it with every reader that can use it:
a snapshot is good for a reader if its queries started after the reader's moment of
interest (its subscription, or the change it heard of), because what committed before
is then in it and what commits after reaches the reader through its subscription.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing, nullcontext
from datetime import UTC, datetime
from typing import Any

from flask import Flask

from devtone import dashboard, metrics
from devtone.agents import AgentIdentity
from devtone.models import isoformat
from devtone.realtime import connection_log, sse
from devtone.realtime.broker import ENDED, EVERY_CHANNEL, MISSED, Broker
from devtone.realtime.stream_limits import Slot

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
        self._latest: tuple[float, dashboard.Snapshot] | None = None

    def take(self, newer_than: float) -> dashboard.Snapshot:
        """A snapshot whose queries started after `newer_than` (this cache's clock)."""
        with self._lock:  # readers arriving meanwhile wait, then share the result
            if self._latest is not None and self._latest[0] > newer_than:
                return self._latest[1]
            started = self._clock()
            with self._app.app_context():
                snapshot = dashboard.take_snapshot()
            self._latest = (started, snapshot)
            return snapshot

    @property
    def clock(self) -> Callable[[], float]:
        """The clock `take` compares against."""
        return self._clock


def dashboard_events(
    snapshots: SnapshotCache,
    broker: Broker,
    hello: dict[str, Any],
    heartbeat: float,
    retry_ms: int,
    still_allowed: Callable[[], bool] = lambda: True,
    caller: AgentIdentity | None = None,
    slot: Slot | None = None,
) -> Iterator[bytes]:
    """The SSE frames of the dashboard feed: hello, snapshot, then changes, until the client goes.

    At each heartbeat the stream compares a (shared) recent snapshot with the versions it
    has sent and sends what is newer, so a lost publish is repaired within two heartbeats;
    and it asks `still_allowed()`, so a deactivated agent's feed ends.
    """
    clock = snapshots.clock
    subscription = broker.subscribe([EVERY_CHANNEL])
    connection = connection_log.Connection("dashboard", "sse", caller)
    subscribed_at = clock()
    with closing(subscription), connection, slot or nullcontext():
        yield _frame("hello", {**hello, "time": _now(), "tier": "sse"}, retry=retry_ms)
        feed = _Feed(snapshots.take(newer_than=subscribed_at), connection)
        feed.sent()
        yield _frame("snapshot", feed.snapshot.as_json())
        next_beat = clock() + heartbeat
        while True:
            now = clock()
            wake_at = next_beat if feed.stats_due is None else min(next_beat, feed.stats_at)
            item = subscription.get(timeout=wake_at - now)
            now = clock()
            if item is ENDED:
                connection.reason = connection_log.SERVER_SHUTDOWN
                return
            if item is MISSED:
                yield from feed.resend(snapshots.take(newer_than=now))
            elif item is not None:
                yield from feed.change(item, now)
            if feed.stats_due is not None and now >= feed.stats_at:
                yield from feed.stats(snapshots.take(newer_than=feed.stats_due), now)
            if now >= next_beat:
                if not still_allowed():
                    connection.reason = connection_log.AGENT_DEACTIVATED
                    return  # the browser reconnects, and is refused
                next_beat = now + heartbeat
                yield _frame("ping", {"time": _now()})
                yield from feed.repair(snapshots.take(newer_than=now - heartbeat))


class _Feed:
    """What one dashboard stream has sent: versions by conversation, the latest stats."""

    def __init__(self, snapshot: dashboard.Snapshot, connection: connection_log.Connection):
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
            yield _shared_frame(item, "dashboard_frame", "conversation", conversation)
            if self.stats_due is None:
                self.stats_due = now

    def stats(self, snapshot: dashboard.Snapshot, now: float) -> Iterator[bytes]:
        """The statistics after the pending changes, if they differ from the last sent."""
        self.stats_due = None
        self.stats_sent_at = now
        if snapshot.stats != self.sent_stats:
            self.sent_stats = snapshot.stats
            yield _frame("stats", snapshot.stats)

    def repair(self, snapshot: dashboard.Snapshot) -> Iterator[bytes]:
        """Upserts of what `snapshot` shows newer than what was sent, and its stats if they
        differ. Never the whole snapshot: it may be up to a heartbeat old, and would drop
        from the client's list a conversation that started after it."""
        for conversation in snapshot.conversations:
            if conversation["version"] > self.versions.get(conversation["id"], 0):
                self.versions[conversation["id"]] = conversation["version"]
                self.sent()
                yield _frame("conversation", conversation)
        if snapshot.stats != self.sent_stats:
            self.sent_stats = snapshot.stats
            yield _frame("stats", snapshot.stats)

    def resend(self, snapshot: dashboard.Snapshot) -> Iterator[bytes]:
        """A whole fresh snapshot (after MISSED): the client replaces its list with it."""
        self.snapshot = snapshot
        # What the client holds from now on: the snapshot (newer than anything sent).
        self.versions = {c["id"]: c["version"] for c in snapshot.conversations}
        self.sent_stats = snapshot.stats
        self.sent()
        yield _frame("snapshot", snapshot.as_json())


def wait_for_snapshot(
    snapshots: SnapshotCache,
    broker: Broker,
    etag: str | None,
    wait: float,
    caller: AgentIdentity | None = None,
) -> dashboard.Snapshot:
    """Long-poll: the snapshot as soon as its etag differs from `etag`, or after `wait` s."""
    clock = snapshots.clock
    if wait <= 0:
        return snapshots.take(newer_than=clock())
    subscription = broker.subscribe([EVERY_CHANNEL])
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


def _shared_frame(item: dict[str, Any], key: str, event: str, data: Any) -> bytes:
    # Encoded once per item for every stream of the process (see streams.py).
    frame = item.get(key)
    if frame is None:
        frame = item[key] = _frame(event, data)
    return frame


def _frame(event: str, data: Any, **fields: Any) -> bytes:
    return sse.encode(event, data, **fields).encode()


def _now() -> str:
    return isoformat(datetime.now(UTC))
