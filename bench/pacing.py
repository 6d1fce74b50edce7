"""The few-publishers load: a few keep-alive connections, one post in flight per conversation.

Real traffic never keeps two messages of one conversation in flight: a person types the
next line after the previous one was sent, an agent's client drains its outbox in order.
So here messages fall due on a plan (`post_times`: `rate` a second, evenly spaced), each
to the conversation `choose()` names, and a `Pacer` hands them to the connections (4 by
default) in the order they fell due, holding a conversation's next message back until its
previous one was acknowledged. When the server is slower than the plan, messages wait in
the client (their lag is reported); whatever is still waiting when the window ends is
dropped and counted as `behind`, so the achieved rate is what the server absorbed.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from bench.accounting import Latency
from bench.adapters import Channel
from bench.client import HttpConnection, clock
from bench.load import Posters, PostStats
from bench.measure import latency_dict


def post_times(rate: float, seconds: float) -> list[float]:
    """When each message of the window falls due, in seconds from its start: `i / rate`."""
    if rate <= 0 or seconds <= 0:
        return []
    count = max(1, round(rate * seconds))
    return [i / rate for i in range(count)]


class Pacer:
    """Which conversation posts next: one post in flight per conversation, due order kept.

    Pure bookkeeping (no clock, no I/O): `due` adds a message, `take` hands the next one
    whose conversation has nothing in flight, `done` says its post was answered.
    """

    def __init__(self) -> None:
        self._waiting: dict[Hashable, deque[tuple[Channel, float]]] = {}
        self._ready: deque[Hashable] = deque()  # conversations free to post, oldest first
        self._busy: set[Hashable] = set()

    def due(self, channel: Channel, at: float) -> None:
        """Message for `channel`, due at `at`, joins the line behind that channel's others."""
        queue = self._waiting.setdefault(channel.key, deque())
        if not queue and channel.key not in self._busy:
            self._ready.append(channel.key)
        queue.append((channel, at))

    def take(self) -> tuple[Channel, float] | None:
        """The next message to post and when it fell due; None when none may go now."""
        if not self._ready:
            return None
        key = self._ready.popleft()
        self._busy.add(key)
        return self._waiting[key].popleft()

    def done(self, channel: Channel) -> None:
        """The post on `channel` was answered (or failed): its next message may go."""
        self._busy.discard(channel.key)
        if self._waiting.get(channel.key):
            self._ready.append(channel.key)

    def drop_waiting(self) -> int:
        """Forget every message not yet handed out (the window ended); how many."""
        dropped = sum(len(q) for q in self._waiting.values())
        self._waiting.clear()
        self._ready.clear()
        return dropped

    @property
    def has_ready(self) -> bool:
        """Whether `take` would hand out a message."""
        return bool(self._ready)

    @property
    def in_flight(self) -> int:
        """Posts handed out and not answered yet."""
        return len(self._busy)


@dataclass
class PacedStats(PostStats):
    """PostStats, plus how late posts left against their plan (the client-side backlog)."""

    lags: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        data = super().as_dict()
        data["start_lag_ms"] = latency_dict(Latency.of(self.lags))
        return data


class PacedPosters(Posters):
    """A few keep-alive connections posting on a plan, one post in flight per conversation."""

    async def paced(
        self,
        rate: float,
        seconds: float,
        choose: Callable[[], Channel],
        on_ack: Callable[[Channel, int, float], None],
    ) -> PacedStats:
        """Post `rate` messages a second for `seconds`, to `choose()`'s conversations."""
        stats = PacedStats(target_rate=rate)
        pacer = Pacer()
        changed = asyncio.Condition()
        closed = False

        async def work(connection: HttpConnection) -> None:
            while True:
                async with changed:
                    await changed.wait_for(lambda: pacer.has_ready or closed)
                    item = pacer.take()
                if item is None:
                    return  # closed, and nothing left to hand out
                channel, due = item
                stats.lags.append(max(0.0, clock() - due))
                result = await self._post(connection, channel, stats)
                if result is not None:
                    on_ack(channel, *result)
                async with changed:
                    pacer.done(channel)
                    changed.notify_all()

        workers = [asyncio.create_task(work(c)) for c in self.connections]
        stats.started = start = clock()
        try:
            for offset in post_times(rate, seconds):
                delay = start + offset - clock()
                if delay > 0:
                    await asyncio.sleep(delay)
                async with changed:
                    pacer.due(choose(), start + offset)
                    stats.issued += 1
                    changed.notify(1)
            await asyncio.sleep(max(0.0, start + seconds - clock()))
            async with changed:
                stats.behind = pacer.drop_waiting()
                closed = True
                changed.notify_all()
            await asyncio.wait_for(asyncio.gather(*workers), timeout=60)
        finally:
            for worker in workers:
                worker.cancel()
        stats.issued -= stats.behind
        return stats
