"""What each side has received, seen and is doing: the marks and typing.

Neither is an entry of the log. The marks (delivered, seen) move counters on the
conversation's row (unread, "Delivered", "Seen") through the log's one write path, under
its lock like any write;
typing is never stored, only announced, at most once per interval per side.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app

from devtone.domain import announce, conversations, fields, log_writer
from devtone.domain.agents import AgentIdentity
from devtone.errors import Invalid
from devtone.extensions import db

TYPING_KEY = "devtone.typing"


def init_app(app: Flask) -> None:
    """Give `app` its process's typing throttle."""
    app.extensions[TYPING_KEY] = TypingThrottle(app.config["TYPING_INTERVAL"])


def mark_read(conversation_id: int, caller: conversations.Caller, seq: object) -> dict[str, Any]:
    """Move the caller's side's seen mark up to `seq` (POST …/read); return the conversation."""
    seq = fields.clean_seq(seq)
    written = conversations.write(
        conversation_id, log_writer.move_marks, caller, None, seq, {"seen": "seq"}
    )
    return conversations.seen_by(caller, written[0].conversation)


def move_marks(
    conversation_id: int, caller: conversations.Caller, marks: dict[str, object]
) -> dict[str, Any]:
    """Move the caller's side's `delivered` and `seen` marks forward (either may be left
    out, not both); return the conversation. Never back; seen implies delivered; past the
    log's last entry is Invalid."""
    unknown = sorted(set(marks) - {"delivered", "seen"})
    if unknown:
        raise Invalid("{field} is not a mark.", field=unknown[0], code="unknown_field")
    if not marks:
        raise Invalid("Give delivered, seen or both.", field="seen", code="required")
    delivered, seen = (
        fields.clean_seq(marks[name], name) if name in marks else None
        for name in ("delivered", "seen")
    )
    written = conversations.write(conversation_id, log_writer.move_marks, caller, delivered, seen)
    return conversations.seen_by(caller, written[0].conversation)


def announce_typing(conversation_id: int, caller: conversations.Caller, typing: object) -> None:
    """Tell the other side that `caller` is (or stopped) typing; never stored.

    Throttled per conversation and side, so a fast typist costs one event per interval.
    """
    typing = fields.clean_flag(typing, "typing")
    try:
        conversation = conversations.load(conversation_id, caller)
        name = caller.name if isinstance(caller, AgentIdentity) else conversation.visitor_name
    finally:
        db.session.close()
    sender = "agent" if isinstance(caller, AgentIdentity) else "visitor"
    throttle = current_app.extensions[TYPING_KEY]
    if throttle.admit(conversation_id, sender, typing):
        event = {"conversation_id": conversation_id, "sender": sender, "name": name}
        announce.publish(conversation_id, {"typing": {**event, "typing": typing}})


class TypingThrottle:
    """Admits a typing announcement unless the same one was admitted less than `interval`
    ago, and at most `burst` announcements per side in any `interval`-long window.

    A change (typing → stopped → typing) passes, so "stopped" is never held back and a
    person who sends and types on is shown typing at once; the burst bounds a client that
    flips true/false as fast as it can. Per process; bounded, since entries older than the
    expiry are forgotten.
    """

    def __init__(
        self,
        interval: float = 2.0,
        expiry: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        burst: int = 4,
    ):
        self.interval = interval
        self.expiry = max(expiry, interval)
        self.burst = burst
        self._clock = clock
        self._lock = threading.Lock()
        # (conversation, side) -> (last admitted at, its state, window start, admitted in it)
        self._last: dict[tuple[int, str], tuple[float, bool, float, int]] = {}

    def admit(self, conversation_id: int, sender: str, typing: bool) -> bool:
        """Whether to announce this typing state now."""
        now = self._clock()
        key = (conversation_id, sender)
        with self._lock:
            last = self._last.get(key)
            if last is None:
                at, state, window, count = -float("inf"), not typing, now, 0
            else:
                at, state, window, count = last
            if state == typing and now - at < self.interval:
                return False
            if now - window >= self.interval:
                window, count = now, 0
            if count >= self.burst:
                return False
            self._last[key] = (now, typing, window, count + 1)
            if len(self._last) > 1024:
                self._forget_before(now - self.expiry)
            return True

    def _forget_before(self, moment: float) -> None:
        for key in [key for key, (at, *_) in self._last.items() if at < moment]:
            del self._last[key]
