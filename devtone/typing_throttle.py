"""Typing indicators: at most one announcement per interval per conversation and side."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TypingThrottle:
    """Admits a typing announcement unless the same one was admitted less than `interval` ago.

    A change (typing → stopped) always passes, so "stopped typing" is never held back.
    Per process; bounded, since entries older than the expiry are forgotten.
    """

    def __init__(
        self,
        interval: float = 2.0,
        expiry: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.interval = interval
        self.expiry = expiry
        self._clock = clock
        self._lock = threading.Lock()
        self._last: dict[tuple[int, str], tuple[float, bool]] = {}

    def admit(self, conversation_id: int, sender: str, typing: bool) -> bool:
        """Whether to announce this typing state now."""
        now = self._clock()
        key = (conversation_id, sender)
        with self._lock:
            last = self._last.get(key)
            if last is not None and last[1] == typing and now - last[0] < self.interval:
                return False
            self._last[key] = (now, typing)
            if len(self._last) > 1024:
                self._forget_before(now - self.expiry)
            return True

    def _forget_before(self, moment: float) -> None:
        for key in [key for key, (at, _) in self._last.items() if at < moment]:
            del self._last[key]
