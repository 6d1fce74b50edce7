"""The publisher of a sharded broker: envelopes to the masters of their slots, in order.

A post queues its envelope (publish_queue.py) and returns. The one sender groups a batch by
the master that owns each envelope's slot, as the cluster client knows the slots now, and
sends each group as one pipeline of SPUBLISH to that master. A master that fails opens its
own breaker: its envelopes are dropped for a while, the others' go on. Every failure, and
every drop at an open breaker, asks the owner to read the topology again: the failed
master's replica may have been promoted. Publishing is at most once; readers repair from
the database. Imports nothing of devtone but the realtime layer.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import redis
from redis.cluster import RedisCluster
from redis.exceptions import RedisClusterException

from devtone.realtime.breaker import Breaker
from devtone.realtime.publish_queue import PublishQueue, Throttle

logger = logging.getLogger(__name__)

BREAKER_THRESHOLD = 3  # a master's publish failures in a row that open its breaker...
BREAKER_PAUSE = 1.0  # ...for this long at first, doubling...
BREAKER_PAUSE_CAP = 5.0  # ...up to this
WARN_EVERY = 30.0

_REDIS_ERRORS = (redis.RedisError, RedisClusterException, OSError)


class ShardedPublisher:
    """Sends envelopes `(channel, slot, payload)` to their slots' masters, one pipeline each."""

    def __init__(
        self,
        cluster: Callable[[], RedisCluster],
        timeout: float,
        on_dropped: Callable[[str, int], None] | None,
        on_breaker_open: Callable[[], None] | None,
        on_failed: Callable[[], None],
    ):
        self._cluster = cluster  # the client, built on first use by the owner
        self.timeout = timeout
        self.on_dropped = on_dropped
        self.on_breaker_open = on_breaker_open
        self.on_failed = on_failed  # the topology may have changed
        self.dropped = 0
        self.publish_failures = 0
        self._lock = threading.Lock()
        self._breakers: dict[str, Breaker] = {}
        self._queue: PublishQueue[tuple[str, int, str]] = PublishQueue(
            self._send, "devtone-cluster-publisher"
        )
        self._publish_warnings = Throttle(WARN_EVERY, logger)

    def put(self, channel: str, slot: int, payload: str) -> None:
        """Queue `payload` for the Redis channel `channel` (on `slot`); never waits."""
        if not self._queue.put((channel, slot, payload)):
            self._dropped("queue_full", 1)

    def flush(self, timeout: float) -> bool:
        """Wait until what was queued has been sent or dropped; False on timeout."""
        return self._queue.flush(timeout)

    def close(self, timeout: float) -> None:
        """Send what is queued (for up to `timeout` seconds), then stop."""
        self._queue.close(timeout)

    def _send(self, batch: list[tuple[str, int, str]]) -> None:
        try:
            cluster = self._cluster()
        except _REDIS_ERRORS as error:
            self._publish_failed(len(batch), error)
            return
        by_node: dict[str, tuple[Any, list[tuple[str, str]]]] = {}
        for name, slot, payload in batch:
            try:
                node = cluster.nodes_manager.get_node_from_slot(slot)
            except _REDIS_ERRORS as error:
                self._publish_failed(1, error)
                continue
            by_node.setdefault(node.name, (node, []))[1].append((name, payload))
        for node_name, (node, envelopes) in by_node.items():
            breaker = self._breaker(node_name)
            if not breaker.allows():
                self._dropped("breaker_open", len(envelopes))
                # The node may have been replaced meanwhile: its replica promoted.
                self.on_failed()
                continue
            try:
                pipeline = cluster.get_redis_connection(node).pipeline(transaction=False)
                for name, payload in envelopes:
                    pipeline.execute_command("SPUBLISH", name, payload)
                answers = pipeline.execute(raise_on_error=False)
            except _REDIS_ERRORS as error:
                breaker.failed()
                self._publish_failed(len(envelopes), error)
                continue
            breaker.succeeded()
            moved = sum(isinstance(answer, Exception) for answer in answers)
            if moved:
                # MOVED: the slot changed hands; those envelopes are lost, readers repair.
                self._publish_failed(moved, redis.ResponseError(f"{moved} answered MOVED"))

    def _breaker(self, node: str) -> Breaker:
        breaker = self._breakers.get(node)
        if breaker is None:
            breaker = self._breakers.setdefault(
                node,
                Breaker(BREAKER_THRESHOLD, BREAKER_PAUSE, BREAKER_PAUSE_CAP, on_open=self._opened),
            )
        return breaker

    def _opened(self, pause: float) -> None:
        self._publish_warnings.warning(
            "A Redis Cluster node is not answering publishes: skipping it for %.1f s", pause
        )
        if self.on_breaker_open is not None:
            self.on_breaker_open()

    def _publish_failed(self, count: int, error: BaseException) -> None:
        with self._lock:
            self.publish_failures += 1
        self._dropped("failed", count)
        self.on_failed()
        self._publish_warnings.warning(
            "Redis Cluster publish failed, readers will repair: %s: %s", type(error).__name__, error
        )

    def _dropped(self, reason: str, count: int) -> None:
        with self._lock:
            self.dropped += count
        if self.on_dropped is not None:
            self.on_dropped(reason, count)
