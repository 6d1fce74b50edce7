"""Who is typing now, as this process hears it: what a poll answer shows.

Typing is never stored (DESIGN.md §1: the database is the truth of the log, and typing is
not in it), so a poll, which waits on nothing, would never see it. The board observes the
broker (every item this process receives: with one Redis, every process hears every
announcement) and keeps each side's last typing event per conversation for `expiry`
seconds, the time a client shows "is typing…" without a new event. A sharded broker
brings a process only the channels its readers subscribed to, so there the board
subscribes to each conversation a poll asks about, and keeps it while polls keep asking
(`hold_for`): from the second poll on, it hears the typing. It attaches on first use, so
building the app connects to nothing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from devtone.domain import announce
from devtone.realtime.broker import Broker, Subscription

#: How long a typing event counts as "now" (the client's TYPING_EXPIRY_MS).
TYPING_EXPIRY = 5.0
#: Entries kept before the stale ones are swept.
SWEEP_AT = 1024
#: On a sharded broker, a conversation is heard this long after a poll last asked: two of
#: the poll tier's intervals (DEVTONE_POLL_INTERVAL's default), so a polling page is
#: always heard.
HOLD_FOR = 60.0


class TypingBoard:
    """The latest typing event of each (conversation, side), for `expiry` seconds."""

    def __init__(
        self,
        broker: Broker,
        expiry: float = TYPING_EXPIRY,
        clock: Callable[[], float] = time.monotonic,
        hold_for: float = HOLD_FOR,
    ):
        self._broker = broker
        self.expiry = expiry
        self.clock = clock
        self.hold_for = hold_for
        self._lock = threading.Lock()
        self._attached = False
        # (conversation id, side) -> (heard at, the typing event)
        self._events: dict[tuple[int, str], tuple[float, dict[str, Any]]] = {}
        # conversation id -> (asked at, its subscription), on a sharded broker only
        self._held: dict[int, tuple[float, Subscription]] = {}

    def typing_now(
        self, conversation_id: int, side: str, within: float | None = None
    ) -> dict[str, Any] | None:
        """`side`'s typing event if it says typing and was heard less than `within` seconds
        ago (default: the expiry), else None."""
        self._attach()
        if not self._broker.hears_everything:
            self._hold(conversation_id)
        with self._lock:
            heard = self._events.get((conversation_id, side))
        age = self.expiry if within is None else within
        if heard is None or self.clock() - heard[0] > age or not heard[1].get("typing"):
            return None
        return heard[1]

    def heard(self, channel: str, item: dict[str, Any]) -> None:
        """An item the broker delivered: remember it if it is typing."""
        event = item.get("typing") if isinstance(item, dict) else None
        if not isinstance(event, dict):
            return
        key = (event.get("conversation_id"), event.get("sender"))
        now = self.clock()
        with self._lock:
            self._events[key] = (now, event)
            if len(self._events) > SWEEP_AT:
                for stale in [k for k, (at, _) in self._events.items() if now - at > self.expiry]:
                    del self._events[stale]

    def _hold(self, conversation_id: int) -> None:
        """Keep hearing the conversation for `hold_for` more seconds; let go of those no
        poll asked about for that long."""
        now = self.clock()
        with self._lock:
            held = self._held.get(conversation_id)
            if held is not None:
                self._held[conversation_id] = (now, held[1])
            stale = [c for c, (at, _) in self._held.items() if now - at > self.hold_for]
            released = [self._held.pop(c)[1] for c in stale]
        for subscription in released:
            subscription.close()
        if held is None:
            # Only heard, never read: what it queues is dropped at once (size 0 keeps none).
            subscription = self._broker.subscribe([announce.conversation_channel(conversation_id)])
            subscription.discard()
            with self._lock:
                previous = self._held.setdefault(conversation_id, (now, subscription))
            if previous[1] is not subscription:
                subscription.close()  # another poll got there first

    def _attach(self) -> None:
        with self._lock:
            if self._attached:
                return
            self._attached = True
        self._broker.observe(self.heard)
