"""Merged catch-up reads: streams that ask for the same page at once share one query.

After a deploy thousands of streams reconnect together, each with its Last-Event-ID, and
after a Redis reconnect every stream of the process is told MISSED at once. Each reads the
log after its cursor; most ask for a page another stream of the same conversation asks for
too. `CatchUp.page` gives them one query per (conversation, cursor, visitor view).

Why a shared page is complete for a stream (DESIGN.md §1: the database is the truth, the
broker only wakes). A stream subscribes first and then asks; what is committed after it
asked is published after that, so reaches it live (or, if the publish is lost, the head
watcher repairs it, as for any stream). What it must get from the page is everything
committed before it asked. Two ways to share keep that true:

- **A query that starts after the stream asked** sees everything committed before. The
  first asker of a page (the leader) yields one loop turn before querying, so every stream
  woken in the same turn (a burst of reconnects, a broker reconnect's MISSED) asks first
  and joins it. Under gevent with SQLite a query never yields, so only this merges there.
- **A page whose query started before the stream asked** is reused only if nothing was
  heard on the conversation's channel since the query started (`broker.observe` drops the
  page at the first item), the broker lost nothing meanwhile (`broker.losses()`: a
  listener reconnect, a publish dropped here, or not listening at all refuses every reuse),
  and the query started less than `reuse_for` (1 s) ago. An entry the page lacks was
  committed after the query started; its publish is heard before the stream subscribed (the
  page is dropped first), or after (the stream gets it live). The one case left is a
  publish lost where this process cannot see it (another process's Redis trouble): then,
  as for a publish lost after subscribing, the next entry is a gap read at once and the
  head watcher reads it within a tick. The short window bounds how often that can happen.

A failed shared query raises its error in every stream that waited on it, as each one's
own query would have. A waiter never waits longer than `wait_for`; past it, or when the
leader was killed, it queries on its own. Nothing is kept per stream: one record per page
being read, each forgotten `reuse_for` after its query started.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from flask import Flask

from devtone import metrics
from devtone.domain import announce, conversations
from devtone.realtime.broker import Broker

#: How long after its query started a page may serve a stream that asked later.
REUSE_FOR = 1.0
#: The longest a stream waits on another's query before it reads on its own.
WAIT_FOR = 30.0


def one_turn() -> None:
    """Let every greenlet that is ready run once (gevent's patched sleep), so those woken
    together ask before the leader queries; unpatched (threads) it only yields the GIL."""
    time.sleep(0)


class _Read:
    """One query's page, shared by the streams that asked for it."""

    __slots__ = ("open", "started_at", "losses", "done", "page", "error", "abandoned", "waiters")

    def __init__(self) -> None:
        self.open = True  # gathering askers: its query has not started
        self.started_at = 0.0
        self.losses: int | None = None
        self.done = threading.Event()
        self.page: conversations.Page | None = None
        self.error: Exception | None = None
        self.abandoned = False  # the leader was killed: waiters read on their own
        self.waiters = 0


class _Pages:
    """The reads of one conversation's channel, by (cursor, visitor view)."""

    __slots__ = ("reads", "touched")

    def __init__(self, now: float) -> None:
        self.reads: dict[tuple[int, bool], _Read] = {}
        self.touched = now


class CatchUp:
    """This process's catch-up reads, merged by (conversation, cursor, visitor view)."""

    def __init__(
        self,
        app: Flask,
        broker: Broker,
        reuse_for: float = REUSE_FOR,
        wait_for: float = WAIT_FOR,
        clock: Callable[[], float] = time.monotonic,
        gather: Callable[[], None] = one_turn,
    ):
        self.app = app
        self.broker = broker
        self.reuse_for = reuse_for
        self.wait_for = wait_for
        self.clock = clock
        self.gather = gather
        self._lock = threading.Lock()
        # channel -> its reads; oldest touched first, so the sweep stops at the first young one
        self._by_channel: dict[str, _Pages] = {}
        self._attached = False

    def page(self, conversation_id: int, cursor: int, visitor_view: bool) -> conversations.Page:
        """The page after `cursor`, as `conversations.messages_after` reads it for a reader
        that authorised its caller when it opened; shared when safe (module docstring)."""
        self._attach()
        channel = announce.conversation_channel(conversation_id)
        key = (cursor, visitor_view)
        with self._lock:
            now = self.clock()
            self._sweep(now)
            pages = self._by_channel.get(channel)
            shared = pages.reads.get(key) if pages is not None else None
            if shared is not None and self._usable(shared, now):
                shared.waiters += 1
            else:
                shared = None
                mine = _Read()
                # Re-inserted, so the most recently touched channel is swept last.
                pages = self._by_channel.pop(channel, None) or _Pages(now)
                pages.reads[key] = mine
                pages.touched = now
                self._by_channel[channel] = pages
        if shared is not None:
            return self._wait(shared, conversation_id, cursor, visitor_view)
        return self._lead(mine, channel, key, conversation_id)

    def heard(self, channel: str, item: Any) -> None:
        """An item this process received: pages of its channel whose query already started
        may lack what it announces, so no later asker may reuse them."""
        if channel not in self._by_channel:  # most items: no page kept (no lock taken)
            return
        with self._lock:
            pages = self._by_channel.get(channel)
            if pages is None:
                return
            for key in [k for k, read in pages.reads.items() if not read.open]:
                del pages.reads[key]
            if not pages.reads:
                del self._by_channel[channel]

    def waiting(self, conversation_id: int) -> int:
        """How many streams wait on another's read of the conversation right now."""
        with self._lock:
            pages = self._by_channel.get(announce.conversation_channel(conversation_id))
            return sum(read.waiters for read in pages.reads.values()) if pages else 0

    def _usable(self, read: _Read, now: float) -> bool:
        # Gathering: its query starts after this asker asked, so it sees all it needs.
        if read.open:
            return True
        # Started before this asker asked: see the module's docstring.
        losses = self.broker.losses()
        return (
            read.error is None
            and not read.abandoned
            and losses is not None
            and read.losses == losses
            and now - read.started_at <= self.reuse_for
        )

    def _lead(
        self, read: _Read, channel: str, key: tuple[int, bool], conversation_id: int
    ) -> conversations.Page:
        cursor, visitor_view = key
        try:
            self.gather()
            with self._lock:
                read.open = False
                read.started_at = self.clock()
                read.losses = self.broker.losses()
            page = self._query(conversation_id, cursor, visitor_view)
        except Exception as error:
            read.error = error
            self._forget(channel, key, read)
            raise
        except BaseException:  # killed (GreenletExit) or closed: not the waiters' error
            read.abandoned = True
            self._forget(channel, key, read)
            raise
        else:
            read.page = page
            return page
        finally:
            read.done.set()

    def _wait(
        self, read: _Read, conversation_id: int, cursor: int, visitor_view: bool
    ) -> conversations.Page:
        try:
            answered = read.done.wait(self.wait_for)
        finally:
            with self._lock:
                read.waiters -= 1
        if not answered or read.abandoned:
            return self._query(conversation_id, cursor, visitor_view)
        if read.error is not None:
            raise read.error
        return read.page

    def _query(self, conversation_id: int, cursor: int, visitor_view: bool) -> conversations.Page:
        metrics.CATCH_UP_QUERIES.inc()
        with self.app.app_context():
            return conversations.messages_after(
                conversation_id, None, cursor, visitor_view=visitor_view
            )

    def _forget(self, channel: str, key: tuple[int, bool], read: _Read) -> None:
        with self._lock:
            pages = self._by_channel.get(channel)
            if pages is not None and pages.reads.get(key) is read:
                del pages.reads[key]
                if not pages.reads:
                    del self._by_channel[channel]

    def _sweep(self, now: float) -> None:
        # Under the lock. A read still gathering or running may go too: its waiters hold it,
        # and a later asker only starts a read of its own.
        while self._by_channel:
            channel, pages = next(iter(self._by_channel.items()))
            if now - pages.touched <= self.reuse_for:
                return
            del self._by_channel[channel]

    def _attach(self) -> None:
        # On first use, so building the app connects to nothing (Redis's listener starts).
        # Observing before any page is kept: a page must never miss the item that drops it.
        if self._attached:
            return
        with self._lock:
            if not self._attached:
                self.broker.observe(self.heard)
                self._attached = True
