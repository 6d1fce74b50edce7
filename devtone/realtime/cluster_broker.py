"""ClusterBroker: sharded pub/sub on a Redis Cluster; a process hears only what its readers need.

Every channel travels on a Redis shard channel of its own (`SPUBLISH`), whose hash tag
puts it on one of K slots (shards.py). A process subscribes (`SSUBSCRIBE`) to a channel
while one of its readers needs it and leaves it when the last one goes, on one
connection per cluster node: a process serving half the conversations receives half the
entries, where RedisBroker's one channel brings every process everything. Dashboards
subscribe to HEADS: each shard's heads channel, which carries a small summary per change.

The node that owns a slot can change: a master fails and its replica is promoted, or an
operator moves slots. Whatever a node's subscribers may have missed meanwhile is repaired
as in RedisBroker: once a channel is subscribed again (on its new owner), its
subscriptions are told MISSED and read the gap from the database. Nothing here hides a
reconnect: redis-py's ClusterPubSub resubscribes on its own, which would leave readers
unaware of the gap until their next heartbeat, so each node's listener here is a plain
redis-py PubSub that this module tears down and rebuilds.

Three kinds of thread (greenlets under gevent): the publisher (cluster_publisher.py), one
keeper that reads the cluster's topology and says which node carries which channel, and a
listener per master (node_listener.py). redis-py's RedisCluster is the only client of the
topology. This module imports nothing of devtone but the realtime layer.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.cluster import ClusterNode, RedisCluster
from redis.exceptions import RedisClusterException
from redis.retry import Retry

from devtone.realtime.broker import HEADS, FanOut, Subscription
from devtone.realtime.cluster_publisher import ShardedPublisher
from devtone.realtime.node_listener import NodeListener
from devtone.realtime.publish_queue import Outages, Throttle
from devtone.realtime.shards import HEADS_NAME, Shards

logger = logging.getLogger(__name__)

COMMAND_TIMEOUT = 0.25  # each publish or ping, as RedisBroker's
SUBSCRIBE_WAIT = 3.0  # how long subscribe() waits for Redis to confirm its channels
REFRESH_EVERY = 0.5  # the topology is read again at most this often
KEEP_EVERY = 1.0  # the keeper looks again at least this often while something is unplaced
WARN_EVERY = 30.0
JOIN_TIMEOUT = 3.0

_REDIS_ERRORS = (redis.RedisError, RedisClusterException, OSError)


class _Wire:
    """One Redis shard channel this process listens on, for one of its channels."""

    __slots__ = ("name", "slot", "channel", "node", "readers", "confirmed", "lost", "late")

    def __init__(self, name: str, slot: int, channel: str):
        self.name = name
        self.slot = slot
        self.channel = channel  # the broker channel it carries (or HEADS)
        self.node: str | None = None  # the node it is subscribed through
        self.readers = 0
        self.confirmed = threading.Event()  # Redis confirmed the SSUBSCRIBE on `node`
        self.lost = False  # it was confirmed, then lost: its readers missed something
        self.late = False  # a subscribe() stopped waiting for its confirmation


class ClusterBroker:
    """Pub/sub across processes on a Redis Cluster, sharded, subscribed per channel."""

    hears_everything = False

    def __init__(
        self,
        nodes: list[tuple[str, int]],
        *,
        username: str | None = None,
        password: str | None = None,
        queue_size: int = 256,
        prefix: str = "devtone:events",
        shards: int = 64,
        timeout: float = COMMAND_TIMEOUT,
        on_dropped: Callable[[str, int], None] | None = None,
        on_breaker_open: Callable[[], None] | None = None,
        on_received: Callable[[str], None] | None = None,
        on_channels: Callable[[int, int], None] | None = None,
    ):
        self.startup_nodes = nodes
        self.queue_size = queue_size
        self.shards = Shards(prefix, shards)
        self.timeout = timeout
        # Observers, e.g. metrics (this module knows none): publishes dropped, by why; a
        # node's breaker opened; an item ("item" or "head") received; channels and shards
        # subscribed now.
        self.on_received = on_received
        self.on_channels = on_channels
        self.outages = Outages()
        self.reconnects = 0  # channels lost and subscribed again
        self.credentials = {"username": username, "password": password}
        self.lock = threading.Lock()  # wires, listeners, counters
        self._fan_out = FanOut()
        self._wires: dict[str, _Wire] = {}
        self._unplaced: set[str] = set()  # wires no node carries yet
        self._lost = 0  # wires with `lost` set
        self._held: Counter[int] = Counter()  # confirmed wires, by slot (shard)
        self._listeners: dict[str, NodeListener] = {}
        self._cluster: RedisCluster | None = None
        self._cluster_lock = threading.Lock()
        self._publisher = ShardedPublisher(
            self._client, timeout, on_dropped, on_breaker_open, on_failed=self._topology_changed
        )
        self._keeper: threading.Thread | None = None
        self._keeper_wake = threading.Event()
        self._refresh_wanted = False
        self.stopping = threading.Event()
        self._closed = False
        self._listen_warnings = Throttle(WARN_EVERY, logger)

    # -- the Broker interface ------------------------------------------------------------

    def publish(
        self, channel: str, item: dict[str, Any], head: dict[str, Any] | None = None
    ) -> None:
        """Queue `item` for `channel`'s subscribers in every process (and `head` for the
        dashboards') and return at once; never raises for Redis."""
        payload = json.dumps(item, separators=(",", ":"))  # not JSON is a bug: it raises
        if self._closed:
            return
        shard = self.shards.shard_of(channel)
        slot = self.shards.slots[shard]
        self._publisher.put(self.shards.wire_in(shard, channel), slot, payload)
        if head is not None:
            summary = json.dumps(head, separators=(",", ":"))
            self._publisher.put(self.shards.wire_in(shard, HEADS_NAME), slot, summary)

    def subscribe(self, channels: Iterable[str]) -> Subscription:
        """A bounded subscription to `channels`; returns once Redis confirmed them (or
        after SUBSCRIBE_WAIT: it is then told MISSED when they are confirmed)."""
        if self._closed:
            raise RuntimeError("this ClusterBroker is closed")
        subscription = Subscription(self, channels, self.queue_size)
        waits: list[_Wire] = []
        with self.lock:
            self._fan_out.add(subscription)
            for channel, name in self._names_of(subscription):
                wire = self._wires.get(name)
                if wire is None:
                    wire = self._wires[name] = _Wire(name, self._slot_of(channel, name), channel)
                    self._unplaced.add(name)
                wire.readers += 1
                if not wire.confirmed.is_set():
                    waits.append(wire)
        if waits:
            self._wake_keeper()
            deadline = time.monotonic() + SUBSCRIBE_WAIT
            for wire in waits:
                if not wire.confirmed.wait(max(0.0, deadline - time.monotonic())):
                    with self.lock:
                        wire.late = not wire.confirmed.is_set()
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        """Forget `subscription`; a channel left without readers is left on Redis too."""
        with self.lock:
            self._fan_out.remove(subscription)
            for _, name in self._names_of(subscription):
                wire = self._wires.get(name)
                if wire is not None:
                    wire.readers -= 1
                    if wire.readers <= 0:
                        self._drop(wire)
        self._count_channels()

    def subscriber_count(self) -> int:
        """How many subscriptions are open in this process."""
        return len(self._fan_out.subscriptions())

    def observe(self, observer: Callable[[str, dict[str, Any]], None]) -> None:
        """Show `observer(channel, item)` every item this process receives: only those of
        the channels its readers subscribed to (hears_everything is False)."""
        self._fan_out.observe(observer)

    def watch_outages(self, watcher: Callable[[str, dict[str, object]], None]) -> None:
        """Tell `watcher` when channels are lost and when they are all back (Outages)."""
        self.outages.watch(watcher)

    @property
    def dropped(self) -> int:
        """Publishes dropped here (full queue, failed node, open breaker)."""
        return self._publisher.dropped

    def losses(self) -> int | None:
        """Channels lost plus publishes dropped here; None while a channel is lost."""
        if self._closed or self._lost:
            return None
        return self.reconnects + self.dropped

    def end_all(self) -> None:
        """End every subscription so its stream finishes (graceful shutdown); forget them."""
        for subscription in self._fan_out.take_all():
            subscription.end()

    def ping(self) -> bool:
        """Whether every master answers within the command timeout (for /readyz)."""
        if self._closed:
            return False
        try:
            return bool(self._client().ping(target_nodes=RedisCluster.PRIMARIES))
        except _REDIS_ERRORS:
            return False

    def close(self) -> None:
        """Send what is queued (briefly), stop the threads, close the connections, tell
        subscribers they missed; idempotent."""
        with self.lock:
            if self._closed:
                return
            self._closed = True
            listeners = list(self._listeners.values())
        self.stopping.set()
        self._publisher.close(JOIN_TIMEOUT)
        self._wake_keeper()
        for listener in listeners:
            listener.poke()
        for thread in [self._keeper, *(listener.thread for listener in listeners)]:
            if thread is not None and thread is not threading.current_thread():
                thread.join(JOIN_TIMEOUT)
        if self._cluster is not None:
            self._cluster.close()
        for subscription in self._fan_out.take_all():
            subscription.mark_missed()

    # -- operations ----------------------------------------------------------------------

    def flush(self, timeout: float) -> bool:
        """Wait until what was published so far has left this process; False on timeout."""
        return self._publisher.flush(timeout)

    def channels(self) -> dict[str, int]:
        """What this process holds: channels subscribed, shards among them, channels lost."""
        with self.lock:
            return {
                "channels": sum(self._held.values()),
                "shards": len(self._held),
                "lost": self._lost,
            }

    # -- channels and nodes --------------------------------------------------------------

    def _names_of(self, subscription: Subscription) -> Iterator[tuple[str, str]]:
        """Each channel of `subscription` with the Redis channels that carry it."""
        for channel in subscription.channels:
            names = self.shards.heads() if channel == HEADS else [self.shards.wire(channel)]
            for name in names:
                yield channel, name

    def _slot_of(self, channel: str, name: str) -> int:
        if channel == HEADS:
            return self.shards.slots[self.shards.heads().index(name)]
        return self.shards.slots[self.shards.shard_of(channel)]

    def _drop(self, wire: _Wire) -> None:
        # Under self.lock: nobody reads the wire any more.
        del self._wires[wire.name]
        self._unplaced.discard(wire.name)
        if wire.confirmed.is_set():
            self._unhold(wire)
        if wire.lost:
            self._lost -= 1
        listener = self._listeners.get(wire.node) if wire.node else None
        if listener is not None:
            listener.wanted.discard(wire.name)
            listener.poke()
        if not self._lost:
            self._all_back()

    def _lose(self, wire: _Wire) -> None:
        # Under self.lock: the wire's subscription is gone; publishes may be missed.
        if wire.confirmed.is_set():
            wire.confirmed.clear()
            self._unhold(wire)
        if not wire.lost:
            wire.lost = True
            self._lost += 1
            self.reconnects += 1

    def _unhold(self, wire: _Wire) -> None:
        # Under self.lock.
        self._held[wire.slot] -= 1
        if self._held[wire.slot] <= 0:
            del self._held[wire.slot]

    def confirmed(self, name: str, node: str) -> None:
        """A listener's SSUBSCRIBE of `name` on `node` was confirmed."""
        with self.lock:
            wire = self._wires.get(name)
            if wire is None or wire.node != node or wire.confirmed.is_set():
                return
            wire.confirmed.set()
            self._held[wire.slot] += 1
            missed = wire.lost or wire.late
            if wire.lost:
                self._lost -= 1
            wire.lost = wire.late = False
            subscribers = self._fan_out.subscribers_of(wire.channel) if missed else []
            back = not self._lost
        # Whatever was published while the channel was not subscribed is lost to them.
        for subscription in subscribers:
            subscription.mark_missed()
        if back:
            self._all_back()
        self._count_channels()

    def node_failed(self, listener: NodeListener, error: BaseException) -> None:
        """`listener`'s connection failed: its channels are lost until subscribed again."""
        with self.lock:
            lost = [self._wires[name] for name in listener.wanted if name in self._wires]
            for wire in lost:
                self._lose(wire)
            self._refresh_wanted = True
        if lost:
            self.outages.started(node=listener.name, channels=len(lost))
        self._listen_warnings.warning(
            "Redis Cluster node %s unavailable (%d channels lost; readers will repair): %s: %s",
            listener.name, len(lost), type(error).__name__, error,
        )  # fmt: skip
        self._wake_keeper()
        self._count_channels()

    def _all_back(self) -> None:
        self.outages.ended(channels=len(self._wires))

    def _count_channels(self) -> None:
        if self.on_channels is not None:
            held = self.channels()
            self.on_channels(held["channels"], held["shards"])

    # -- the keeper: which node carries which channel ------------------------------------

    def _client(self) -> RedisCluster:
        """The cluster client, built on first use (building it reads the topology)."""
        with self._cluster_lock:
            if self._cluster is None:
                self._cluster = RedisCluster(
                    startup_nodes=[ClusterNode(host, port) for host, port in self.startup_nodes],
                    socket_timeout=self.timeout,
                    socket_connect_timeout=self.timeout,
                    # No retries: a retried publish could arrive twice, and a failure must
                    # reach this module, which repairs it, instead of being hidden.
                    retry=Retry(NoBackoff(), 0),
                    **{k: v for k, v in self.credentials.items() if v is not None},
                )
            return self._cluster

    def _wake_keeper(self) -> None:
        if self._keeper is None:
            with self.lock:
                if self._keeper is None and not self._closed:
                    self._keeper = threading.Thread(
                        target=self._keep, name="devtone-cluster-keeper", daemon=True
                    )
                    self._keeper.start()
        self._keeper_wake.set()

    def _keep(self) -> None:
        refreshed_at = float("-inf")
        while not self.stopping.is_set():
            self._keeper_wake.wait(KEEP_EVERY)
            self._keeper_wake.clear()
            if self.stopping.is_set():
                return
            try:
                cluster = self._client()
                everything = False
                if self._refresh_wanted:
                    wait = refreshed_at + REFRESH_EVERY - time.monotonic()
                    if wait > 0:
                        self.stopping.wait(wait)
                    self._refresh_wanted = False
                    refreshed_at = time.monotonic()
                    cluster.nodes_manager.initialize()
                    everything = True
                self._place(cluster, everything)
            except _REDIS_ERRORS as error:
                self._refresh_wanted = True
                self._listen_warnings.warning(
                    "Redis Cluster topology unavailable: %s: %s", type(error).__name__, error
                )
                self.stopping.wait(REFRESH_EVERY)
                self._keeper_wake.set()  # try again

    def _place(self, cluster: RedisCluster, everything: bool) -> None:
        """Give each unplaced wire (every wire, after a topology read) to its slot's node."""
        with self.lock:
            names = list(self._wires) if everything else list(self._unplaced)
            for name in names:
                wire = self._wires[name]
                try:
                    node = cluster.nodes_manager.get_node_from_slot(wire.slot)
                except _REDIS_ERRORS:
                    self._refresh_wanted = True  # a slot nobody serves yet
                    continue
                self._unplaced.discard(name)
                if node.name == wire.node:
                    continue
                if wire.node is not None:
                    # The slot moved: the old node's subscription is no longer heard.
                    self._lose(wire)
                    old = self._listeners.get(wire.node)
                    if old is not None:
                        old.wanted.discard(name)
                        old.poke()
                wire.node = node.name
                listener = self._listeners.get(node.name)
                if listener is None:
                    listener = self._listeners[node.name] = NodeListener(self, node)
                    listener.start()
                listener.wanted.add(name)
                listener.poke()
            lost = self._lost
        if lost:
            self.outages.started(channels=lost)

    def _topology_changed(self) -> None:
        """A publish found a node failing or a slot moved: read the topology again."""
        self._refresh_wanted = True
        self._wake_keeper()

    def retire(self, listener: NodeListener) -> bool:
        """Whether `listener` may stop: it carries nothing (or the broker closed)."""
        with self.lock:
            if listener.wanted and not self._closed:
                return False
            if self._listeners.get(listener.name) is listener:
                del self._listeners[listener.name]
            return True

    def heard(self, name: str, data: bytes) -> None:
        """A listener received `data` on the Redis channel `name`."""
        wire = self._wires.get(name)
        if wire is None:
            return  # no reader left for it
        try:
            item = json.loads(data)
        except ValueError:
            self._listen_warnings.warning("Dropped a malformed message on %s: %.200r", name, data)
            return
        if wire.channel == HEADS:
            kind = "head"
            self._fan_out.deliver_head(item)
        else:
            kind = "item"
            self._fan_out.deliver(wire.channel, item)
        if self.on_received is not None:
            self.on_received(kind)
