"""Who is typing now, as this process hears it: what a poll answer shows.

Typing is never stored (DESIGN.md §1: the database is the truth of the log, and typing is
not in it), so a poll, which waits on nothing, would never see it. The board observes the
broker (every item this process receives: with Redis, every process hears every
announcement) and keeps each side's last typing event per conversation for `expiry`
seconds, the time a client shows "is typing…" without a new event. It attaches on first
use, so building the app connects to nothing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from devtone.realtime.broker import Broker

#: How long a typing event counts as "now" (the client's TYPING_EXPIRY_MS).
TYPING_EXPIRY = 5.0
#: Entries kept before the stale ones are swept.
SWEEP_AT = 1024


class TypingBoard:
    """The latest typing event of each (conversation, side), for `expiry` seconds."""

    def __init__(
        self,
        broker: Broker,
        expiry: float = TYPING_EXPIRY,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._broker = broker
        self.expiry = expiry
        self.clock = clock
        self._lock = threading.Lock()
        self._attached = False
        # (conversation id, side) -> (heard at, the typing event)
        self._events: dict[tuple[int, str], tuple[float, dict[str, Any]]] = {}

    def typing_now(
        self, conversation_id: int, side: str, within: float | None = None
    ) -> dict[str, Any] | None:
        """`side`'s typing event if it says typing and was heard less than `within` seconds
        ago (default: the expiry), else None."""
        self._attach()
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

    def _attach(self) -> None:
        with self._lock:
            if self._attached:
                return
            self._attached = True
        self._broker.observe(self.heard)
