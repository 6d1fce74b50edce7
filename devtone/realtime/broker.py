"""The broker interface and the in-process MemoryBroker.

A broker only wakes readers up: publishing is at most once, and a subscriber that may
have missed something is told so (it then reads the gap from the database). Queues are
bounded, so a slow reader never grows memory. For a graceful shutdown the broker can end
every subscription (`end_all`): its reader then finishes, and the client reconnects to
another process and resumes from its cursor. This module imports nothing of devtone.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterable
from typing import Any, Protocol


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


class Subscription:
    """What one reader receives from some channels: a bounded queue and a missed flag."""

    def __init__(self, broker: Broker, channels: Iterable[str], maxsize: int):
        self.channels = frozenset(channels)
        self._broker = broker
        self._queue: queue.Queue[Any] = queue.Queue(maxsize)
        self._missed = False
        self.closed = False
        self.ended = False

    def get(self, timeout: float) -> dict[str, Any] | _Missed | _Ended | None:
        """The next item, MISSED if some were dropped, ENDED from `end()` on, or None."""
        deadline = time.monotonic() + max(0.0, timeout)
        while True:
            # Checked before and after each wait: end() may come while the queue is full,
            # in which case what woke us is an ordinary item, not the ENDED marker.
            if self.ended:
                return ENDED
            if self._missed:
                self._missed = False
                return MISSED
            try:
                item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                return None
            if item is MISSED or item is ENDED:
                # A wake-up marker whose flag was already reported above: one repair
                # per mark_missed(), not two.
                continue
            if self._missed or self.ended:
                continue
            return item

    def deliver(self, item: dict[str, Any]) -> None:
        """Queue `item`, or remember that this reader missed something if it is full."""
        if self.ended:
            return
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            self._missed = True

    def mark_missed(self) -> None:
        """Tell this reader it may have missed items (overflow, broker reconnect)."""
        self._missed = True
        try:
            self._queue.put_nowait(MISSED)  # wakes a reader blocked in get()
        except queue.Full:
            pass  # a full queue wakes it anyway; the flag is read on the next get()

    def end(self) -> None:
        """Finish this subscription (graceful shutdown): get() returns ENDED from now on."""
        self.ended = True
        # What is still queued is never read (the client resumes from its cursor
        # elsewhere), so free it, which also makes room for the wake-up below.
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        try:
            self._queue.put_nowait(ENDED)  # wakes a reader blocked in get()
        except queue.Full:
            pass  # a racing deliver() filled it: that wakes the reader just as well

    def close(self) -> None:
        """Stop receiving; idempotent."""
        if not self.closed:
            self.closed = True
            self._broker.unsubscribe(self)


class Broker(Protocol):
    """Publish to channels; subscribe to some of them."""

    def publish(self, channel: str, item: dict[str, Any]) -> None:
        """Send `item` to every current subscriber of `channel`, at most once."""

    def subscribe(self, channels: Iterable[str]) -> Subscription:
        """A new subscription to `channels`; close it when done."""

    def unsubscribe(self, subscription: Subscription) -> None:
        """Forget `subscription`."""

    def subscriber_count(self) -> int:
        """How many subscriptions are open in this process."""

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

    def deliver(self, channel: str, item: dict[str, Any]) -> None:
        """Hand `item` to every subscriber of `channel` (each queue is bounded)."""
        with self._lock:
            subscribers = list(self._by_channel.get(channel, ()))
        for subscription in subscribers:
            subscription.deliver(item)

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

    def __init__(self, queue_size: int = 256):
        self.queue_size = queue_size
        self._fan_out = FanOut()

    def publish(self, channel: str, item: dict[str, Any]) -> None:
        """Deliver `item` to every subscriber of `channel` in this process."""
        self._fan_out.deliver(channel, item)

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

    def ping(self) -> bool:
        """Always: the in-process broker cannot be unreachable."""
        return True

    def end_all(self) -> None:
        """End every subscription so its stream finishes (graceful shutdown); forget them."""
        for subscription in self._fan_out.take_all():
            subscription.end()

    def close(self) -> None:
        """Tell every subscriber it may have missed items and forget them all."""
        for subscription in self._fan_out.take_all():
            subscription.mark_missed()
