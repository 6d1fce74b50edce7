"""One timer for the whole process: wakes each waiting subscription at its deadline.

A subscription that waited with a timeout of its own made and cancelled a gevent
`Timeout` at every `get` (a libev timer, ~4 µs of a ~30 µs broadcast delivery, and a
few hundred bytes per waiting stream). A stream's deadline is its next heartbeat, the
same for every `get` between two heartbeats, so the process keeps one heap of
deadlines instead, and one thread (a greenlet under gevent) that rings each when due.
This module imports nothing of devtone.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import math
import os
import threading
import time
from typing import Protocol

log = logging.getLogger(__name__)

#: Deadlines are rounded up to this grid, so the `get`s of one wait (each computes its
#: deadline again from the same heartbeat) share one alarm; none rings early.
GRAIN = 0.001


class Sleeper(Protocol):
    """What an alarm wakes."""

    def ring(self, at: float) -> None:
        """The alarm set for `at` is due."""


def alarm_time(deadline: float) -> float:
    """When an alarm for `deadline` (time.monotonic) rings: at it, or up to GRAIN later."""
    return math.ceil(deadline / GRAIN) * GRAIN


class Alarms:
    """Deadlines on time.monotonic, each ringing its sleeper once when due."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._heap: list[tuple[float, int, Sleeper]] = []
        self._order = itertools.count()  # ties ring in the order they were set
        self._changed = threading.Event()
        self._thread: threading.Thread | None = None

    def set(self, at: float, sleeper: Sleeper) -> None:
        """Ring `sleeper` at `at` (an `alarm_time`) or as soon after as the process can."""
        with self._lock:
            heapq.heappush(self._heap, (at, next(self._order), sleeper))
            earliest = self._heap[0][0] == at
            if self._thread is None:
                # Lazily, on the first wait: importing starts no thread, and a gunicorn
                # worker starts its own after the fork (a greenlet, once patched).
                self._thread = threading.Thread(
                    target=self._run, name="devtone-alarms", daemon=True
                )
                self._thread.start()
        if earliest:
            self._changed.set()

    def pending(self) -> int:
        """How many alarms are set and not rung (stale ones included)."""
        with self._lock:
            return len(self._heap)

    def _run(self) -> None:
        while True:
            due: list[tuple[float, int, Sleeper]] = []
            with self._lock:
                now = time.monotonic()
                while self._heap and self._heap[0][0] <= now:
                    due.append(heapq.heappop(self._heap))
                delay = self._heap[0][0] - now if self._heap else None
                # Cleared under the lock: a `set` after it is seen at the wait below.
                self._changed.clear()
            for at, _, sleeper in due:
                try:
                    sleeper.ring(at)
                except Exception:  # one sleeper's failure must not stop every other's
                    log.exception("an alarm's sleeper failed")
            if not due:
                self._changed.wait(delay)


_alarms: tuple[int, Alarms] | None = None


def process_alarms() -> Alarms:
    """This process's alarms: one timer for every subscription of every broker.

    Made on first use, in the process that waits: a gunicorn worker imports devtone once
    it has patched threading for gevent, but its arbiter imported it before forking it,
    and a lock or event made then would block the whole worker.
    """
    global _alarms
    if _alarms is None or _alarms[0] != os.getpid():
        _alarms = (os.getpid(), Alarms())
    return _alarms[1]
