"""The broker interface and the in-process MemoryBroker.

A broker only wakes readers up: publishing is at most once, and a subscriber that may
have missed something is told so (it then reads the gap from the database). Queues are
bounded, so a slow reader never grows memory. For a graceful shutdown the broker can end
every subscription (`end_all`): its reader then finishes, and the client reconnects to
another process and resumes from its cursor. This module imports nothing of devtone.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from devtone.realtime.alarms import alarm_time, process_alarms


class _Missed:
    """Returned by `Subscription.get` when published items may have been dropped."""

    def __repr__(self) -> str:
        return "MISSED"


MISSED = _Missed()


class _Ended:
    """Returned by `Subscription.get` once the broker has ended the subscription."""

    def __repr__(self) -> str:
        return "ENDED"


ENDED = _Ended()


#: Subscribing to this channel means hearing every conversation's head: what a publish
#: names as one (the agents' dashboard feed). No publish names it as its channel.
HEADS = "*heads"


class Subscription:
    """What one reader receives from some channels: a bounded queue and a missed flag.

    A plain list and one Event, not a `queue.Queue`: a process holds one of these per
    open stream, and a Queue (a lock and three conditions) costs ten times the memory.
    Under gevent the Event is gevent's; unpatched (tests) it is thread-safe as well.
    A `get` waits on the Event without a timeout of its own: the process's alarms ring
    it at its deadline (alarms.py).
    """

    __slots__ = ("channels", "_broker", "_maxsize", "_items", "_wake", "_missed", "_alarm",
                 "closed", "ended", "__weakref__")  # fmt: skip

    def __init__(self, broker: Broker, channels: Iterable[str], maxsize: int):
        self.channels = frozenset(channels)
        self._broker = broker
        self._maxsize = maxsize
        self._items: list[dict[str, Any]] = []
        self._wake = threading.Event()
        self._missed = False
        self._alarm: float | None = None  # the alarm set for this reader, not yet rung
        self.closed = False
        self.ended = False

    def get(self, timeout: float) -> dict[str, Any] | _Missed | _Ended | None:
        """The next item, MISSED if some were dropped, ENDED from `end()` on, or None
        (after `timeout` seconds, or up to alarms.GRAIN later)."""
        deadline = time.monotonic() + max(0.0, timeout)
        at = alarm_time(deadline)
        while True:
            # Clear before looking, so a deliver() between the look and the wait still
            # wakes the wait instead of being slept through.
            self._wake.clear()
            if self.ended:
                return ENDED
            if self._missed:
                self._missed = False
                return MISSED
            if self._items:
                return self._items.pop(0)
            if time.monotonic() >= deadline:
                return None
            if self._alarm != at:
                # Once per deadline (a stream's next heartbeat), not once per get. An
                # alarm rings at or after `at`, so the check above then sees it passed.
                self._alarm = at
                process_alarms().set(at, self)
            self._wake.wait()

    def ring(self, at: float) -> None:
        """The alarm for `at` is due: wake the wait, unless it has a later alarm since."""
        if self._alarm == at:
            self._alarm = None
            self._wake.set()

    def holds(self, test: Callable[[dict[str, Any]], bool]) -> bool:
        """Whether an item still queued (not yet read) passes `test`."""
        return any(test(item) for item in self._items)

    def deliver(self, item: dict[str, Any]) -> None:
        """Queue `item`, or remember that this reader missed something if it is full."""
        if self.ended:
            return
        if len(self._items) >= self._maxsize:
            self._missed = True
        else:
            self._items.append(item)
        self._wake.set()

    def discard(self) -> None:
        """Keep nothing this subscription receives: it is held only so that the process
        hears its channels (observers see the items)."""
        self._maxsize = 0
        self._items.clear()

    def mark_missed(self) -> None:
        """Tell this reader it may have missed items (overflow, broker reconnect)."""
        self._missed = True
        self._wake.set()

    def end(self) -> None:
        """Finish this subscription (graceful shutdown): get() returns ENDED from now on."""
        self.ended = True
        # What is still queued is never read: the client resumes from its cursor elsewhere.
        self._items.clear()
        self._wake.set()

    def close(self) -> None:
        """Stop receiving; idempotent."""
        if not self.closed:
            self.closed = True
            self._alarm = None  # a pending alarm rings nothing now
            self._broker.unsubscribe(self)


class Broker(Protocol):
    """Publish to channels; subscribe to some of them."""

    hears_everything: bool
    """Whether this process hears every publish, whatever it subscribed to (an observer
    then sees all); False for a broker that carries only what its readers need."""

    def publish(
        self, channel: str, item: dict[str, Any], head: dict[str, Any] | None = None
    ) -> None:
        """Send `item` to every current subscriber of `channel`, at most once; with a
        `head` (the item's small summary), the subscribers of HEADS get the change too."""

    def subscribe(self, channels: Iterable[str]) -> Subscription:
        """A new subscription to `channels`; close it when done."""

    def unsubscribe(self, subscription: Subscription) -> None:
        """Forget `subscription`."""

    def subscriber_count(self) -> int:
        """How many subscriptions are open in this process."""

    def observe(self, observer: Callable[[str, dict[str, Any]], None]) -> None:
        """Show `observer(channel, item)` every item this process receives, on any channel;
        an observer is no subscription (it is not counted, ended or told it missed)."""

    def watch_outages(self, watcher: Callable[[str, dict[str, object]], None]) -> None:
        """Tell `watcher(event, fields)` when this process stops hearing some of its
        channels ("broker_outage") and when it hears them all again ("broker_back", with
        `duration_ms`)."""

    def losses(self) -> int | None:
        """A count that moves whenever this process may have lost a publish it should
        have heard (a listener reconnect, a publish dropped here); None while it hears
        nothing at all. Lets a shared catch-up read refuse reuse on any broker trouble."""

    def end_all(self) -> None:
        """End every open subscription (get() → ENDED) and forget it."""

    def ping(self) -> bool:
        """Whether the broker can deliver right now (for /readyz)."""

    def close(self) -> None:
        """Release whatever the broker holds; subscribers left are told they missed."""


class FanOut:
    """This process's subscriptions by channel: who gets what a broker receives."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_channel: dict[str, set[Subscription]] = {}
        self._observers: list[Callable[[str, dict[str, Any]], None]] = []

    def observe(self, observer: Callable[[str, dict[str, Any]], None]) -> None:
        """Show `observer` every item delivered from now on."""
        with self._lock:
            self._observers.append(observer)

    def add(self, subscription: Subscription) -> None:
        """Start delivering `subscription`'s channels to it."""
        with self._lock:
            for channel in subscription.channels:
                self._by_channel.setdefault(channel, set()).add(subscription)

    def remove(self, subscription: Subscription) -> None:
        """Forget `subscription` and any channel left without subscribers."""
        with self._lock:
            for channel in subscription.channels:
                subscribers = self._by_channel.get(channel)
                if subscribers is not None:
                    subscribers.discard(subscription)
                    if not subscribers:
                        del self._by_channel[channel]

    def deliver(
        self, channel: str, item: dict[str, Any], head: dict[str, Any] | None = None
    ) -> None:
        """Hand `item` to every subscriber of `channel`, and `head` (if any) to every
        subscriber of HEADS (bounded queues); observers see the item."""
        with self._lock:
            subscribers = list(self._by_channel.get(channel, ()))
            heads = list(self._by_channel.get(HEADS, ())) if head is not None else ()
            observers = list(self._observers)
        for observer in observers:
            observer(channel, item)
        for subscription in subscribers:
            subscription.deliver(item)
        for subscription in heads:
            subscription.deliver(head)

    def deliver_head(self, head: dict[str, Any]) -> None:
        """Hand `head` to every subscriber of HEADS (a broker that carries heads apart)."""
        with self._lock:
            subscribers = list(self._by_channel.get(HEADS, ()))
        for subscription in subscribers:
            subscription.deliver(head)

    def subscribers_of(self, channel: str) -> list[Subscription]:
        """The subscriptions to `channel` right now."""
        with self._lock:
            return list(self._by_channel.get(channel, ()))

    def subscriptions(self) -> set[Subscription]:
        """Every subscription, once."""
        with self._lock:
            return {s for subs in self._by_channel.values() for s in subs}

    def take_all(self) -> set[Subscription]:
        """Every subscription, forgotten."""
        with self._lock:
            subscribers = {s for subs in self._by_channel.values() for s in subs}
            self._by_channel.clear()
        return subscribers


class MemoryBroker:
    """Pub/sub inside one process: the zero-setup default."""

    hears_everything = True

    def __init__(self, queue_size: int = 256):
        self.queue_size = queue_size
        self._fan_out = FanOut()

    def publish(
        self, channel: str, item: dict[str, Any], head: dict[str, Any] | None = None
    ) -> None:
        """Deliver `item` to every subscriber of `channel` in this process, and to those of
        HEADS if it has a head (in one process the whole item costs nothing more)."""
        self._fan_out.deliver(channel, item, item if head is not None else None)

    def subscribe(self, channels: Iterable[str]) -> Subscription:
        """A bounded subscription to `channels`."""
        subscription = Subscription(self, channels, self.queue_size)
        self._fan_out.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        """Forget `subscription`."""
        self._fan_out.remove(subscription)

    def subscriber_count(self) -> int:
        """How many subscriptions are open."""
        return len(self._fan_out.subscriptions())

    def observe(self, observer: Callable[[str, dict[str, Any]], None]) -> None:
        """Show `observer(channel, item)` every item published from now on."""
        self._fan_out.observe(observer)

    def watch_outages(self, watcher: Callable[[str, dict[str, object]], None]) -> None:
        """Nothing to tell: an in-process broker has no outage."""

    def ping(self) -> bool:
        """Always: the in-process broker cannot be unreachable."""
        return True

    def losses(self) -> int | None:
        """Always 0: an in-process publish reaches every observer (a full queue drops an
        item for its subscriber only, who is told it missed)."""
        return 0

    def end_all(self) -> None:
        """End every subscription so its stream finishes (graceful shutdown); forget them."""
        for subscription in self._fan_out.take_all():
            subscription.end()

    def close(self) -> None:
        """Tell every subscriber it may have missed items and forget them all."""
        for subscription in self._fan_out.take_all():
            subscription.mark_missed()
