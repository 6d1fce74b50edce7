"""SSE streams and long-poll waits: backlog by cursor, then live entries.

Order of work, so nothing falls between the backlog and the live feed: subscribe first,
then read the backlog from the database, then drain the subscription, dropping what
the backlog already sent (seq <= cursor) and reading any gap from the database. No
database connection is held while waiting: the domain ends its transaction on return.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import closing, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Flask

from devtone import conversations, metrics
from devtone.models import isoformat
from devtone.realtime import broker_of, connection_log, heads_of, sse
from devtone.realtime.broker import ENDED, MISSED, Broker
from devtone.realtime.heads import HeadWatcher
from devtone.realtime.stream_limits import Slot


@dataclass(frozen=True)
class StreamSettings:
    """Timings of one stream."""

    heartbeat: float
    retry_ms: int


def conversation_events(
    app: Flask,
    conversation_id: int,
    cursor: int,
    settings: StreamSettings,
    clock: Callable[[], float] = time.monotonic,
    still_allowed: Callable[[], bool] | None = None,
    caller: conversations.Caller | None = None,
    slot: Slot | None = None,
) -> Iterator[bytes]:
    """The SSE frames of one conversation from `cursor` on, until the client goes.

    Runs after the view has returned, outside any request: it holds no request or app
    context while it waits, and enters the app only to read the database. `still_allowed`
    (for agents) is asked at each heartbeat: a deactivated agent's stream ends.
    """
    broker, heads = broker_of(app), heads_of(app)
    subscription = broker.subscribe([conversations.conversation_channel(conversation_id)])
    connection = connection_log.Connection("conversation", "sse", caller, conversation_id)
    catch_up = _CatchUp(app, conversation_id, cursor, connection)
    # The stream-limit slot is given back here, not by a wrapping generator: each layer of
    # generators is C stack every waiting greenlet keeps (1.3 KiB a stream, measured).
    with closing(subscription), connection, slot or nullcontext():
        yield _frame(
            "hello",
            {
                "time": _now(),
                "tier": "sse",
                "cursor": cursor,
                "heartbeat_ms": round(settings.heartbeat * 1000),
            },
            retry=settings.retry_ms,
        )
        yield from catch_up.read()
        # A lost publish is repaired by the process's head watcher: at its next tick it
        # sees this stream behind the log's head and wakes it with MISSED.
        with heads.watching(conversation_id, subscription, lambda: catch_up.cursor):
            next_beat = clock() + settings.heartbeat
            while True:
                item = subscription.get(timeout=next_beat - clock())
                if item is None:
                    if still_allowed is not None and not still_allowed():
                        connection.reason = connection_log.AGENT_DEACTIVATED
                        return  # the browser reconnects, and is refused
                    next_beat = clock() + settings.heartbeat
                    yield _frame("ping", {"time": _now()})
                elif item is MISSED:
                    yield from catch_up.read("missed")
                elif item is ENDED:
                    # The process is shutting down: finish the response cleanly, so the
                    # browser reconnects (elsewhere) with Last-Event-ID after `retry` ms.
                    connection.reason = connection_log.SERVER_SHUTDOWN
                    return
                else:
                    yield from catch_up.live(item)


class _CatchUp:
    """The stream's cursor, and reads of the log after it."""

    def __init__(
        self, app: Flask, conversation_id: int, cursor: int, connection: connection_log.Connection
    ):
        self.app = app
        self.conversation_id = conversation_id
        self.cursor = cursor
        self.connection = connection

    def read(self, reason: str = "backlog") -> Iterator[bytes]:
        """Every entry after the cursor, from the database, page by page."""
        metrics.CATCH_UP_READS.labels(reason).inc()
        while True:
            with self.app.app_context():
                page = conversations.messages_after(self.conversation_id, None, self.cursor)
            yield from map(self._frame, page.messages)
            if len(page.messages) < conversations.PAGE_MAX:
                return

    def live(self, item: dict[str, Any]) -> Iterator[bytes]:
        """A published change: an entry (sent if next, a gap repaired, a repeat dropped),
        or news that is not in the log (a read mark, typing), passed on as it is."""
        if "message" not in item:
            yield from _news(item)
            return
        seq = item["message"]["seq"]
        if seq <= self.cursor:
            return
        if seq == self.cursor + 1:
            # Every local subscriber shares this item: encode it once, not once each.
            frame = item.get("frame")
            if frame is None:
                frame = item["frame"] = _frame("message", item["message"], id=seq)
            self.cursor = seq
            self.connection.delivered += 1
            metrics.DELIVERED_SSE.inc()
            _observe_commit(item, metrics.COMMIT_TO_WRITE_SSE)
            yield frame
        else:
            yield from self.read("gap")

    def _frame(self, message: dict[str, Any]) -> bytes:
        self.cursor = message["seq"]
        self.connection.delivered += 1
        metrics.DELIVERED_SSE.inc()
        return _frame("message", message, id=message["seq"])


def _observe_commit(item: dict[str, Any], histogram: Any) -> None:
    # conversation_log.publish stamps each item once with its commit's wall time.
    committed_at = item.get("committed_at")
    if committed_at is not None:
        histogram.observe(max(0.0, time.time() - committed_at))


def _news(item: dict[str, Any]) -> Iterator[bytes]:
    """The frame of a change outside the log; no `id:`, so a resume never replays it."""
    for event in ("typing", "conversation"):
        if event in item:
            # Shared by every local subscriber, like an entry's frame.
            key = f"{event}_frame"
            frame = item.get(key)
            if frame is None:
                frame = item[key] = _frame(event, item[event])
            yield frame
            return


def _frame(event: str, data: Any, **fields: Any) -> bytes:
    # Bytes, so the WSGI server writes them as they are (see direct_passthrough).
    return sse.encode(event, data, **fields).encode()


def _now() -> str:
    return isoformat(datetime.now(UTC))


def wait_for_messages(
    conversation_id: int,
    caller: conversations.Caller,
    after: int,
    limit: int,
    wait: float,
    broker: Broker,
    heads: HeadWatcher,
    clock: Callable[[], float] = time.monotonic,
) -> conversations.Page:
    """Long-poll: the page after `after` as soon as it is not empty, or empty after `wait` s.

    A client that is up to date costs one query to start waiting (its token and the
    log's head, read together); woken by the next entry, it is answered from the
    published item (the entry and the conversation after it) without a query.
    """
    if wait <= 0:
        return conversations.messages_after(conversation_id, caller, after, limit)
    # Subscribe before looking at the head: an entry committed after the look is then
    # published to us, and one committed before it is seen by it.
    subscription = broker.subscribe([conversations.conversation_channel(conversation_id)])
    connection = connection_log.Connection("conversation", "longpoll", caller, conversation_id)
    with closing(subscription), connection:
        if conversations.authorized_head(conversation_id, caller) > after:
            found = conversations.messages_after(conversation_id, None, after, limit)
            return _answer(connection, found)
        deadline = clock() + wait
        with heads.watching(conversation_id, subscription, lambda: after):
            while (remaining := deadline - clock()) > 0:
                item = subscription.get(timeout=remaining)
                if item is ENDED:
                    connection.reason = connection_log.SERVER_SHUTDOWN
                    break  # shutting down: answer now, the client asks again elsewhere
                if item is None or _is_typing(item):
                    continue  # typing is for streams only
                if item is not MISSED and _next_entry_or_news(item, after):
                    # The entry after the cursor, or a read mark ("Seen" need not wait),
                    # answered from the published item without a query.
                    message = item.get("message")
                    if message is None:
                        page = conversations.Page([], after, item["conversation"])
                        return _answer(connection, page)
                    _observe_commit(item, metrics.COMMIT_TO_WRITE_LONGPOLL)
                    page = conversations.Page([message], message["seq"], item["conversation"])
                    return _answer(connection, page)
                if item is MISSED or item["message"]["seq"] > after:  # a repair, or a gap
                    metrics.CATCH_UP_READS.labels("missed" if item is MISSED else "gap").inc()
                    found = conversations.messages_after(conversation_id, None, after, limit)
                    if found.messages:
                        return _answer(connection, found)
        found = conversations.messages_after(conversation_id, None, after, limit)
        return _answer(connection, found, empty=connection_log.TIMEOUT)


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


def _is_typing(item: Any) -> bool:
    return isinstance(item, dict) and "typing" in item


def _next_entry_or_news(item: dict[str, Any], after: int) -> bool:
    message = item.get("message")
    return message["seq"] == after + 1 if message is not None else "conversation" in item
