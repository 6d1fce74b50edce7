"""Open streams and long-poll waits of this process, counted per conversation and in all.

Concurrent counts, not rates: a slot is taken before a stream (or a long-poll wait) opens
and given back when it ends. Counted per process, because what runs out is per process:
a gevent worker's connections (gunicorn's worker_connections) and its memory. A refused
client is told to come back after one poll interval: it polls meanwhile (a poll holds no
slot), then tries its stream again.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from types import TracebackType

from devtone import errors
from devtone.realtime.shared_slots import SharedStreamCounts


class StreamSlots:
    """How many streams may be open at once: per conversation (across processes, where a
    Redis is shared), in this process, and, apart, in the reserve kept for agents."""

    def __init__(
        self,
        per_conversation: int,
        total: int,
        retry_after: int,
        reserved: int = 0,
        shared: SharedStreamCounts | None = None,
    ):
        self.per_conversation = per_conversation
        self.total = total
        self.reserved = reserved
        self.retry_after = retry_after
        self._shared = shared
        self._lock = threading.Lock()
        self._open = 0
        self._open_reserved = 0
        self._by_conversation: dict[int, int] = {}  # only conversations with open slots

    @property
    def open(self) -> int:
        """Slots held now in this process (the reserve's included)."""
        return self._open + self._open_reserved

    def open_on(self, conversation_id: int) -> int:
        """Slots held now on one conversation in this process."""
        return self._by_conversation.get(conversation_id, 0)

    def acquire(self, conversation_id: int | None, *, reserved: bool = False) -> Slot:
        """A slot for one more stream, or TooManyRequests (code too_many_streams).

        `reserved` streams (agents': the dashboard, the monitor, a transcript) come from
        a pool of their own, which the others can never fill; they are not counted per
        conversation. The others count in the process (`None`: only there) and on their
        conversation, across processes when the counts are shared.
        """
        if reserved:
            with self._lock:
                if self._open_reserved >= self.reserved:
                    raise self._refusal("This server has too many open agent streams")
                self._open_reserved += 1
            return Slot(self, None, reserved=True)
        with self._lock:
            if self._open >= self.total:
                raise self._refusal("This server has too many open streams")
            if conversation_id is not None:
                held = self._by_conversation.get(conversation_id, 0)
                if held >= self.per_conversation:
                    raise self._refusal("This conversation has too many open streams")
                self._by_conversation[conversation_id] = held + 1
            self._open += 1
        slot = Slot(self, conversation_id)
        if conversation_id is not None and self._shared is not None:
            taken = self._shared.take(conversation_id, self.per_conversation)
            if taken is False:
                slot.release()
                raise self._refusal("This conversation has too many open streams")
            slot._shared = taken is True
        return slot

    def acquire_for_wait(
        self, conversation_id: int | None, wait: float, *, reserved: bool = False
    ) -> Slot | AbstractContextManager[None]:
        """A long-poll that waits holds a connection like a stream, and counts like one; one
        that answers at once (`wait` 0: the poll tier) holds nothing."""
        return self.acquire(conversation_id, reserved=reserved) if wait else nullcontext()

    def _release(self, conversation_id: int | None, reserved: bool, shared: bool) -> None:
        if shared:
            self._shared.give_back(conversation_id)
        with self._lock:
            if reserved:
                self._open_reserved -= 1
                return
            self._open -= 1
            if conversation_id is None:
                return
            held = self._by_conversation.pop(conversation_id) - 1
            if held > 0:
                self._by_conversation[conversation_id] = held

    def _refusal(self, what: str) -> errors.TooManyRequests:
        return errors.TooManyRequests(
            # Not shown to people: a client that gets it falls back to polling quietly.
            "{what}; poll, and try again in {seconds} s.",
            retry_after=self.retry_after,
            what=what,
            seconds=self.retry_after,
            code="too_many_streams",
        )


class Slot:
    """One held slot; `release()` (or leaving a `with` block) gives it back, once."""

    __slots__ = ("_conversation_id", "_reserved", "_shared", "_slots")

    def __init__(self, slots: StreamSlots, conversation_id: int | None, reserved: bool = False):
        self._slots: StreamSlots | None = slots
        self._conversation_id = conversation_id
        self._reserved = reserved
        self._shared = False  # whether the count across processes holds this one too

    def release(self) -> None:
        """Give the slot back; later calls do nothing."""
        slots, self._slots = self._slots, None
        if slots is not None:
            slots._release(self._conversation_id, self._reserved, self._shared)

    def __enter__(self) -> Slot:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()


def given_back_if_never_run(slot: Slot, stream: Iterator[bytes]) -> Iterator[bytes]:
    """`stream` (a generator that releases `slot` itself when it ends), with the slot also
    given back when the generator is dropped without ever running (a HEAD request, a
    client gone before the server started writing): its `finally` never runs then."""
    weakref.finalize(stream, slot.release)
    return stream
