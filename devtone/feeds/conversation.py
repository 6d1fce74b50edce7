"""One conversation's readers: the SSE stream and the long-poll wait, both by cursor.

Order of work, so nothing falls between the backlog and the live feed: subscribe first,
then read the backlog from the database, then drain the subscription, dropping what
the backlog already sent (seq <= cursor) and reading any gap from the database. No
database connection is held while waiting: the domain ends its transaction on return.

A stream sends the conversation (`event: conversation`, no `id:`) whenever it changed
in a way the log says (a status entry: joined, closed, reopened) or outside the log (a
mark), so no page has to fetch it again after an entry.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, closing
from dataclasses import replace
from typing import Any

from flask import Flask

from devtone import metrics
from devtone.domain import announce, conversations
from devtone.domain.api_tokens import on_team_side
from devtone.domain.models import AGENTS_ONLY_KINDS
from devtone.domain.shapes import seen_by_visitor
from devtone.feeds import catch_up_of, connection_log, typing_board_of
from devtone.feeds.heads import HeadWatcher
from devtone.feeds.loop import frame, shared_frame
from devtone.feeds.typing_board import TypingBoard
from devtone.realtime.broker import ENDED, MISSED, Broker, Subscription
from devtone.realtime.stream_slots import StreamSlots

#: A long-poll that starts this soon after the other side's typing was heard answers with
#: it at once: it may have come while the client was between two requests (a client waits
#: a second after a quick empty answer). At most one answer repeats an event.
TYPING_JUST_NOW = 1.5


class ConversationReader:
    """The loop's reader of one conversation's log: backlog, live entries, repairs."""

    kind = "conversation"
    due_at = None  # no timer of its own: the process's head watcher repairs it
    # A process holds one of these per open stream: slots, and nothing kept that the
    # stream needs only once (its channels, its hello), keep each stream small.
    __slots__ = ("app", "heads", "conversation_id", "cursor", "connection", "visitor_view")

    def __init__(
        self,
        app: Flask,
        heads: HeadWatcher,
        conversation_id: int,
        cursor: int,
        visitor_view: bool = False,
    ):
        self.app = app
        self.heads = heads
        self.conversation_id = conversation_id
        self.cursor = cursor
        # The visitor's stream skips notes (notes.py): its cursor moves past them unsent.
        self.visitor_view = visitor_view
        self.connection: connection_log.Connection | None = None  # set by the loop

    @property
    def channels(self) -> list[str]:
        """The conversation's channel."""
        return [announce.conversation_channel(self.conversation_id)]

    @property
    def hello(self) -> dict[str, Any]:
        """The cursor the stream starts from."""
        return {"cursor": self.cursor}

    def opened(self, subscribed_at: float) -> Iterator[bytes]:
        """The backlog after the cursor; then the other side's typing, if they are typing
        now: a stream that reconnected in the middle of it would otherwise hide it until
        their next keystroke two seconds on (typing has no `id:`, so no resume replays it)."""
        yield from self.read()
        other = "agent" if self.visitor_view else "visitor"
        typing = typing_board_of(self.app).typing_now(self.conversation_id, other)
        if typing is not None:
            yield frame("typing", typing)

    def watching(self, subscription: Subscription) -> AbstractContextManager[Any]:
        """A lost publish is repaired by the process's head watcher: at its next tick it
        sees this stream behind the log's head and wakes it with MISSED."""
        return self.heads.watching(self.conversation_id, subscription, lambda: self.cursor)

    def missed(self, now: float) -> Iterator[bytes]:
        """Read what the broker may have dropped."""
        return self.read("missed")

    def due(self, now: float) -> Iterator[bytes]:
        """Never runs (`due_at` is None)."""
        return iter(())

    def beat(self, now: float) -> Iterator[bytes]:
        """Nothing after a ping: the head watcher repairs on its own tick."""
        return iter(())

    def read(self, reason: str = "backlog") -> Iterator[bytes]:
        """Every entry after the cursor, from the database, page by page; then the
        conversation, if a status entry among them changed it."""
        metrics.CATCH_UP_READS.labels(reason).inc()
        changed = None
        while True:
            # Shared with the streams asking for the same page at once (a reconnect storm).
            page = catch_up_of(self.app).page(self.conversation_id, self.cursor, self.visitor_view)
            for message in page.messages:
                yield self._frame(message)
                if message["kind"] == "status":
                    changed = page.conversation
            # Past the notes a visitor's page skipped: the head watcher then sees this
            # stream up to date, and the next entry is next, not a gap.
            self.cursor = max(self.cursor, page.cursor)
            if len(page.messages) < conversations.PAGE_MAX:
                break
        if changed is not None:
            yield frame("conversation", changed)

    def live(self, item: dict[str, Any], now: float) -> Iterator[bytes]:
        """A published change: an entry (sent if next, a gap repaired, a repeat dropped),
        or news that is not in the log (a mark, typing), passed on as it is."""
        message = item.get("message")
        if message is None:
            yield from _news(item, self.visitor_view)
            return
        seq = message["seq"]
        if seq <= self.cursor:
            return
        if seq == self.cursor + 1:
            self.cursor = seq
            if self.visitor_view and message["kind"] in AGENTS_ONLY_KINDS:
                return  # never sent to the visitor; the cursor moves past it all the same
            self.connection.delivered += 1
            metrics.DELIVERED_SSE.inc()
            _observe_commit(item, metrics.COMMIT_TO_WRITE_SSE)
            # Every local subscriber shares this item: encode it once, not once each.
            yield shared_frame(item, "frame", "message", message, id=seq)
            if message["kind"] == "status":
                yield _conversation_frame(item, self.visitor_view)
        else:
            yield from self.read("gap")

    def _frame(self, message: dict[str, Any]) -> bytes:
        self.cursor = message["seq"]
        self.connection.delivered += 1
        metrics.DELIVERED_SSE.inc()
        return frame("message", message, id=message["seq"])


def _observe_commit(item: dict[str, Any], histogram: Any) -> None:
    # announce.publish stamps each item once with its commit's wall time.
    committed_at = item.get("committed_at")
    if committed_at is not None:
        histogram.observe(max(0.0, time.time() - committed_at))


def _news(item: dict[str, Any], visitor_view: bool) -> Iterator[bytes]:
    """The frame of a change outside the log; no `id:`, so a resume never replays it."""
    if "typing" in item:
        # Shared by every local subscriber, like an entry's frame.
        yield shared_frame(item, "typing_frame", "typing", item["typing"])
    elif "conversation" in item:
        yield _conversation_frame(item, visitor_view)


def _conversation_frame(item: dict[str, Any], visitor_view: bool) -> bytes:
    """The item's conversation as its reader may see it (a visitor's, without the labels);
    one frame per kind of reader, shared by every local subscriber of that kind."""
    if visitor_view:
        shaped = seen_by_visitor(item["conversation"])
        return shared_frame(item, "visitor_conversation_frame", "conversation", shaped)
    return shared_frame(item, "conversation_frame", "conversation", item["conversation"])


def wait_for_messages(
    conversation_id: int,
    caller: conversations.Caller,
    after: int,
    limit: int,
    wait: float,
    broker: Broker,
    heads: HeadWatcher,
    slots: StreamSlots,
    board: TypingBoard,
    clock: Callable[[], float] = time.monotonic,
) -> conversations.Page:
    """Long-poll: the page after `after` as soon as it is not empty, or empty after `wait` s.

    A client that is up to date costs one query to start waiting (its token and the
    log's head, read together); woken by the next entry, it is answered from the
    published item (the entry and the conversation after it) without a query. The other
    side's typing answers it too (with `typing`), as a stream would pass it on; any other
    answer, and a poll's (`wait` 0), carries the other side's typing if it is typing now
    (`board`). While it waits it holds one of `slots`, like a stream (TooManyRequests when
    none is free).
    """
    other = _other_side(caller)
    missed = board.typing_now(conversation_id, other, within=TYPING_JUST_NOW) if wait > 0 else None
    if missed is not None:
        page = conversations.messages_after(conversation_id, caller, after, limit)
        return replace(page, typing=missed)
    page = _wait(conversation_id, caller, after, limit, wait, broker, heads, slots, clock)
    if page.typing is None:
        page = replace(page, typing=board.typing_now(conversation_id, other))
    return page


def _wait(
    conversation_id: int,
    caller: conversations.Caller,
    after: int,
    limit: int,
    wait: float,
    broker: Broker,
    heads: HeadWatcher,
    slots: StreamSlots,
    clock: Callable[[], float],
) -> conversations.Page:
    if wait <= 0:
        return conversations.messages_after(conversation_id, caller, after, limit)
    # Subscribe before looking at the head: an entry committed after the look is then
    # published to us, and one committed before it is seen by it.
    subscription = broker.subscribe([announce.conversation_channel(conversation_id)])
    connection = connection_log.Connection("conversation", "longpoll", caller, conversation_id)
    visitor = _side(caller) == "visitor"
    with closing(subscription), connection:
        if conversations.authorized_head(conversation_id, caller) > after:
            found = conversations.messages_after(
                conversation_id, None, after, limit, visitor_view=visitor
            )
            if found.messages or not visitor:
                return _answer(connection, found)
            after = found.cursor  # only notes came: wait after them, as if up to date
        deadline = clock() + wait
        # The slot is taken only once the caller is let in: a stranger's refusal must not
        # depend on how busy the conversation is (a 429 would say that it exists).
        # An agent's wait comes from the agents' reserve, a visitor's counts on the
        # conversation.
        with (
            slots.acquire(conversation_id, reserved=on_team_side(caller)),
            heads.watching(conversation_id, subscription, lambda: after),
        ):
            while (remaining := deadline - clock()) > 0:
                item = subscription.get(timeout=remaining)
                if item is ENDED:
                    connection.reason = connection_log.SERVER_SHUTDOWN
                    break  # shutting down: answer now, the client asks again elsewhere
                page = _woken_by(item, conversation_id, caller, after, limit)
                if _skipped(page, after):
                    after = page.cursor  # a note, unseen by the visitor: wait on after it
                elif page is not None:
                    return _answer(connection, page)
        found = conversations.messages_after(
            conversation_id, None, after, limit, visitor_view=visitor
        )
        return _answer(connection, found, empty=connection_log.TIMEOUT)


def _woken_by(
    item: dict[str, Any] | object | None,
    conversation_id: int,
    caller: conversations.Caller,
    after: int,
    limit: int,
) -> conversations.Page | None:
    """What a waiting long-poll answers after `item` (None: wait on; see `_skipped`
    for a visitor's page that only moves the cursor past notes)."""
    if item is None:
        return None
    visitor = _side(caller) == "visitor"
    if _is_typing(item):
        typing = item["typing"]
        if typing.get("sender") == _side(caller):
            return None  # one's own typing is no news to oneself
        # Typing carries no conversation: read it (typing comes at most once per interval
        # per side, so this query is rare).
        found = conversations.messages_after(
            conversation_id, None, after, limit, visitor_view=visitor
        )
        return replace(found, typing=typing)
    if item is not MISSED and _next_entry_or_news(item, after, _side(caller)):
        # The entry after the cursor, or a mark ("Seen" need not wait), answered from the
        # published item without a query.
        message = item.get("message")
        conversation = seen_by_visitor(item["conversation"]) if visitor else item["conversation"]
        if message is None:
            return conversations.Page([], after, conversation)
        if visitor and message["kind"] in AGENTS_ONLY_KINDS:
            return conversations.Page([], message["seq"], conversation)
        _observe_commit(item, metrics.COMMIT_TO_WRITE_LONGPOLL)
        return conversations.Page([message], message["seq"], conversation)
    if item is not MISSED and "message" not in item:
        return None  # the caller's own marks
    if item is MISSED or item["message"]["seq"] > after:  # a repair, or a gap
        metrics.CATCH_UP_READS.labels("missed" if item is MISSED else "gap").inc()
        found = conversations.messages_after(
            conversation_id, None, after, limit, visitor_view=visitor
        )
        if found.messages or found.cursor > after:
            return found
    return None


def _skipped(page: conversations.Page | None, after: int) -> bool:
    """Whether `page` only moves a visitor's cursor past notes: nothing to answer."""
    return page is not None and not page.messages and page.typing is None and page.cursor > after


def _answer(
    connection: connection_log.Connection,
    page: conversations.Page,
    empty: str = connection_log.ANSWERED,
) -> conversations.Page:
    """Count what a long-poll answers with; `empty` is why it ends if with no entry."""
    delivered = len(page.messages)
    connection.delivered += delivered
    if delivered:
        metrics.DELIVERED_LONGPOLL.inc(delivered)
    if connection.reason is None:
        connection.reason = connection_log.ANSWERED if delivered else empty
    return page


def _side(caller: conversations.Caller) -> str:
    # An API token reads as the team does: the agent side of the log.
    return "agent" if on_team_side(caller) else "visitor"


def _other_side(caller: conversations.Caller) -> str:
    return "visitor" if on_team_side(caller) else "agent"


def _is_typing(item: Any) -> bool:
    return isinstance(item, dict) and "typing" in item


def _next_entry_or_news(item: dict[str, Any], after: int, side: str) -> bool:
    message = item.get("message")
    if message is not None:
        return message["seq"] == after + 1
    # A change outside the log; the caller's own side's marks are no news to it (answering
    # would only leave the caller a moment without a waiting request).
    return "conversation" in item and item.get("marks_of") != side
