"""The per-process heartbeat repair: one query per tick for every watched conversation.

Publishing is at most once, so a reader may never hear of an entry. Instead of each
stream asking the database at its own heartbeat (10,000 streams, 10,000 queries), the
process asks once per tick for the heads (`last_seq`) of every conversation someone here
is watching, and wakes only the readers whose cursor is behind; they read the gap.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask

from devtone.domain import conversations
from devtone.realtime.broker import Subscription

log = logging.getLogger(__name__)


class HeadWatcher:
    """Checks the heads of watched conversations every `interval` seconds."""

    def __init__(self, app: Flask, interval: float):
        self.app = app
        self.interval = interval
        self._lock = threading.Lock()
        # subscription -> (conversation id, the reader's cursor, read when checked)
        self._watched: dict[Subscription, tuple[int, Callable[[], int]]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.ticks = 0

    @contextmanager
    def watching(
        self, conversation_id: int, subscription: Subscription, cursor: Callable[[], int]
    ) -> Iterator[None]:
        """Repair `subscription` from the database while the block runs."""
        with self._lock:
            self._watched[subscription] = (conversation_id, cursor)
            self._start()
        try:
            yield
        finally:
            with self._lock:
                self._watched.pop(subscription, None)

    def watched_count(self) -> int:
        """How many readers this process repairs."""
        with self._lock:
            return len(self._watched)

    def tick(self) -> int:
        """Wake every reader behind its conversation's head; return how many woke."""
        with self._lock:
            watched = list(self._watched.items())
        if not watched:
            return 0
        with self.app.app_context():
            heads = conversations.heads({conversation_id for _, (conversation_id, _) in watched})
        woken = 0
        for subscription, (conversation_id, cursor) in watched:
            head = heads.get(conversation_id, 0)
            # A reader whose queue already holds the head is slow, not missing anything:
            # it reaches the head by reading its queue (any gap before it is read then).
            # Woken, it would read the database as well; under load that was every
            # stream of a busy conversation at each tick (a broadcast's 1,000 reads).
            if head > cursor() and not _queued(subscription, head):
                subscription.mark_missed()
                woken += 1
        self.ticks += 1
        return woken

    def close(self) -> None:
        """Stop ticking (the thread ends at its next wake-up)."""
        self._stop.set()

    def _start(self) -> None:
        # Lazily, on the first reader: the app factory starts no thread or greenlet.
        if self._thread is None and not self._stop.is_set():
            self._thread = threading.Thread(target=self._run, name="devtone-heads", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        # Under gevent's monkey-patching this thread is a greenlet.
        while not self._stop.wait(self.interval):
            try:
                self.tick()
            except Exception:  # a database restarting must not end the repairs for good
                log.exception("heartbeat catch-up check failed; retrying next tick")


def _queued(subscription: Subscription, head: int) -> bool:
    """Whether `subscription` still holds, unread, the entry at `head` or a later one."""
    return subscription.holds(lambda item: _seq(item) >= head)


def _seq(item: dict[str, Any]) -> int:
    """The log position a published item brings a reader to (0: none, e.g. a mark)."""
    message = item.get("message")
    return message["seq"] if message is not None else 0
