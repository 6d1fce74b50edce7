"""One connection to one Redis Cluster master, subscribed to what its owner wants there.

The owner (ClusterBroker) says which shard channels this node should carry (`wanted`, under
the owner's lock) and pokes the listener when that changes; the listener SSUBSCRIBEs and
SUNSUBSCRIBEs to match, tells the owner when Redis confirmed a channel, hands it what
arrives, and reports any failure. It never reconnects behind the owner's back: a failed
connection is thrown away, the owner is told (its readers missed something), and a new
one subscribes afresh. It polls its socket and a wake-up socket together, so a new
channel is subscribed at once, not at the next poll. Imports nothing of devtone but the
realtime layer.
"""

from __future__ import annotations

import select
import socket
import threading
import time
from collections import Counter, defaultdict
from typing import Any, Protocol

import redis
from redis.backoff import NoBackoff
from redis.client import PubSub
from redis.retry import Retry

from devtone.realtime.publish_queue import reconnect_delay

CONNECT_TIMEOUT = 1.0  # a listener's connect
NODE_RECONNECT_CAP = 1.0  # a failed node is retried at least this often: its replica may be up
POLL_INTERVAL = 0.25  # how often a listener looks up from its socket
PING_AFTER = 5.0  # a quiet connection is pinged after this long...
PONG_TIMEOUT = 5.0  # ...and counted dead if nothing comes back in this long


class SlotMoved(Exception):
    """Redis unsubscribed a channel by itself: its slot is no longer this node's."""


class ListenerOwner(Protocol):
    """What a listener needs of the broker that owns it."""

    lock: threading.Lock
    stopping: threading.Event
    credentials: dict[str, str | None]

    def retire(self, listener: NodeListener) -> bool:
        """Whether `listener` may stop now: it carries nothing."""

    def node_failed(self, listener: NodeListener, error: BaseException) -> None:
        """`listener`'s connection failed: its channels are lost."""

    def confirmed(self, name: str, node: str) -> None:
        """Redis confirmed the SSUBSCRIBE of `name` on `node`."""

    def heard(self, name: str, data: bytes) -> None:
        """`data` arrived on the Redis channel `name`."""


class NodeListener:
    """One connection to one master, subscribed to the channels it owns that are wanted."""

    def __init__(self, owner: ListenerOwner, node: Any):
        self.owner = owner
        self.name: str = node.name
        self.host: str = node.host
        self.port: int = node.port
        self.wanted: set[str] = set()  # under owner.lock
        self.thread = threading.Thread(
            target=self._run, name=f"devtone-cluster-listener-{self.name}", daemon=True
        )
        self._dirty = True
        self._wake_in, self._wake_out = socket.socketpair()
        self._wake_in.setblocking(False)
        self._wake_out.setblocking(False)

    def start(self) -> None:
        """Connect and listen, in a thread (a greenlet under gevent) of its own."""
        self.thread.start()

    def poke(self) -> None:
        """The wanted channels changed (or the broker closes): look at once."""
        self._dirty = True
        try:
            self._wake_out.send(b"!")
        except OSError:
            pass  # its buffer is full: a wake is pending anyway

    def _run(self) -> None:
        owner = self.owner
        attempt = 0
        try:
            while not owner.stopping.is_set() and not owner.retire(self):
                pubsub: PubSub | None = None
                try:
                    pubsub = self._connect()
                    attempt = 0 if self._pump(pubsub) else attempt
                    continue  # it carries nothing now
                except Exception as error:  # a bug must not end delivery either: log, retry
                    owner.node_failed(self, error)
                finally:
                    if pubsub is not None:
                        _close_quietly(pubsub)
                if owner.stopping.wait(reconnect_delay(attempt, NODE_RECONNECT_CAP)):
                    return
                attempt += 1
        finally:
            self._wake_in.close()
            self._wake_out.close()

    def _connect(self) -> PubSub:
        credentials = {k: v for k, v in self.owner.credentials.items() if v is not None}
        client = redis.Redis(
            host=self.host,
            port=self.port,
            socket_connect_timeout=CONNECT_TIMEOUT,
            socket_timeout=CONNECT_TIMEOUT,
            retry=Retry(NoBackoff(), 0),
            **credentials,
        )
        return client.pubsub()

    def _pump(self, pubsub: PubSub) -> bool:
        """Subscribe what is wanted and deliver what arrives until nothing is wanted;
        True once something was confirmed. Raises on any failure."""
        state = _Connection()
        poller: Any = None  # built once the connection is open (the first SSUBSCRIBE)
        self._dirty = True  # a new connection subscribes to everything wanted
        last_heard = time.monotonic()
        pinged_at: float | None = None
        while not self.owner.stopping.is_set():
            if self._dirty:
                self._dirty = False
                with self.owner.lock:
                    wanted = set(self.wanted)
                if not wanted:
                    break
                state.ask(pubsub, wanted)
            while (message := pubsub.get_message(timeout=0)) is not None:
                last_heard, pinged_at = time.monotonic(), None
                self._handle(state, message)
            if poller is None:
                # poll, not select: select() refuses a descriptor past FD_SETSIZE (1,024)
                # (gevent's calls the real one first), and a worker holding a thousand
                # streams opens its Redis connections past it.
                poller = select.poll()
                poller.register(pubsub.connection._sock, select.POLLIN)
                poller.register(self._wake_in, select.POLLIN)
            ready = {fd for fd, _ in poller.poll(POLL_INTERVAL * 1000)}
            if self._wake_in.fileno() in ready:
                _drain(self._wake_in)
            now = time.monotonic()
            if pinged_at is not None and now - pinged_at > PONG_TIMEOUT:
                # A half-open TCP connection looks quiet forever; only a reply proves it.
                raise redis.ConnectionError(f"{self.name} did not answer PING")
            if pinged_at is None and now - last_heard > PING_AFTER:
                pubsub.ping()
                pinged_at = now
        return state.confirmed_any

    def _handle(self, state: _Connection, message: dict[str, Any]) -> None:
        kind, name = message["type"], _text(message.get("channel"))
        if kind == "smessage":
            self.owner.heard(name, message["data"])
        elif kind == "ssubscribe":
            if state.settled_on(name):
                self.owner.confirmed(name, self.name)
        elif kind == "sunsubscribe" and not state.settled_off(name):
            raise SlotMoved(f"Redis unsubscribed {name}")


class _Connection:
    """What one listener connection asked of Redis and what Redis has confirmed."""

    def __init__(self) -> None:
        self.on: set[str] = set()  # channels whose last command here was SSUBSCRIBE
        self.asked_on: Counter[str] = Counter()  # SSUBSCRIBEs not yet confirmed
        self.asked_off: Counter[str] = Counter()  # SUNSUBSCRIBEs not yet confirmed
        self.confirmed_any = False

    def ask(self, pubsub: PubSub, wanted: set[str]) -> None:
        """Subscribe what is wanted and not asked for; unsubscribe what is no longer."""
        for names in _by_slot(wanted - self.on):
            pubsub.ssubscribe(*names)
            self.asked_on.update(names)
            self.on.update(names)
        for names in _by_slot(self.on - wanted):
            pubsub.sunsubscribe(*names)
            self.asked_off.update(names)
            self.on.difference_update(names)

    def settled_on(self, name: str) -> bool:
        """An SSUBSCRIBE of `name` was confirmed: whether `name` is now subscribed with
        nothing else asked of it (an earlier subscribe and unsubscribe may be in flight)."""
        _settle(self.asked_on, name)
        settled = name in self.on and not self.asked_on[name] and not self.asked_off[name]
        self.confirmed_any = self.confirmed_any or settled
        return settled

    def settled_off(self, name: str) -> bool:
        """An SUNSUBSCRIBE of `name` was confirmed: False if nobody here asked for it."""
        if not self.asked_off[name]:
            return False
        _settle(self.asked_off, name)
        return True


def _by_slot(names: set[str]) -> list[list[str]]:
    """`names` grouped by the slot of their hash tag (one SSUBSCRIBE per slot)."""
    groups: defaultdict[str, list[str]] = defaultdict(list)
    for name in names:
        groups[name[name.index("{") : name.index("}")]].append(name)
    return list(groups.values())


def _settle(counts: Counter[str], name: str) -> None:
    counts[name] -= 1
    if counts[name] <= 0:
        del counts[name]


def _text(value: bytes | str | None) -> str:
    return value.decode() if isinstance(value, bytes) else (value or "")


def _drain(wake: socket.socket) -> None:
    try:
        while wake.recv(4096):
            pass
    except OSError:
        pass  # nothing more to read


def _close_quietly(pubsub: PubSub) -> None:
    try:
        pubsub.close()
    except (redis.RedisError, OSError):
        pass  # the connection is being thrown away; nothing to tell anyone
