"""A circuit breaker for a service that can hang: after failures, stop asking it for a while.

A hung Redis answers nothing until a timeout; asking it again for every message would make
every caller pay that timeout, and pile them up. The breaker opens after `threshold`
failures in a row: callers then skip the service (its work is best effort, and the
database repairs what it misses). When the pause is over, one caller tries again (the
probe): success closes the breaker, failure opens it for twice as long, up to a cap.
This module imports nothing of devtone.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class Breaker:
    """Closed (calls go through) or open (skip the service until the pause is over)."""

    def __init__(
        self,
        threshold: int = 3,
        pause: float = 1.0,
        pause_cap: float = 30.0,
        on_open: Callable[[float], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.threshold = threshold
        self.first_pause = pause
        self.pause_cap = pause_cap
        self.on_open = on_open  # told the pause; e.g. a warning and a metric
        self.clock = clock
        self.opened = 0  # how many times it opened
        self._lock = threading.Lock()
        self._failures = 0
        self._pause = pause
        self._retry_at: float | None = None  # set while open

    @property
    def is_open(self) -> bool:
        """Whether callers should skip the service now (no side effect, no lock)."""
        retry_at = self._retry_at
        return retry_at is not None and self.clock() < retry_at

    @property
    def is_closed(self) -> bool:
        """Whether the service is trusted: no failure since the last success."""
        return self._retry_at is None

    def allows(self) -> bool:
        """Whether this caller may ask the service now.

        While open: no, until the pause is over; then this caller alone is the probe (the
        pause is re-armed for everyone else until it reports).
        """
        if self._retry_at is None:
            return True
        with self._lock:
            now = self.clock()
            if self._retry_at is None:
                return True
            if now < self._retry_at:
                return False
            self._retry_at = now + self._pause
            return True

    def succeeded(self) -> None:
        """The service answered: close."""
        if self._failures or self._retry_at is not None:
            with self._lock:
                self._failures = 0
                self._pause = self.first_pause
                self._retry_at = None

    def failed(self) -> None:
        """The service failed or timed out: open after `threshold` in a row, or after a
        failed probe (for twice the last pause)."""
        with self._lock:
            self._failures += 1
            if self._retry_at is not None:
                # A failed probe: the service is still away; wait longer next time.
                self._pause = min(self.pause_cap, self._pause * 2)
            elif self._failures < self.threshold:
                return
            self._retry_at = self.clock() + self._pause
            self.opened += 1
            pause = self._pause
        if self.on_open is not None:
            self.on_open(pause)
