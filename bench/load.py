"""The load the phases share: their plan, opening streams, warming up, posting, draining."""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from bench.accounting import Latency, Ledger
from bench.adapters import Adapter, Channel
from bench.client import HttpConnection, SseStream, clock, open_stream
from bench.measure import latency_dict
from bench.servers import Server
from bench.wire import Event

Log = Callable[[str], None]


@dataclass(frozen=True)
class Plan:
    """Sizes and time bounds of the phases."""

    n: int
    pairs_rate: float = 500.0
    pairs_seconds: float = 10.0
    ramp_first: int = 2_000  # deliveries/s of the first broadcast step (at least N: 1 msg/s)
    ramp_last: int = 256_000
    ramp_step_seconds: float = 3.0
    idle_seconds: float = 15.0
    drain_seconds: float = 10.0
    drain_stall_seconds: float = 3.0
    posters: int = 32
    open_concurrency: int = 200
    settle_seconds: float = 2.0
    # The few-publishers shape (bench/paced.py): 4 connections, one post in flight per
    # conversation; broadcast wants 50 msg/s but at most 50,000 deliveries/s (5,000
    # streams: 10 msg/s).
    paced_rate: float = 500.0
    paced_seconds: float = 6.0
    paced_broadcast_rate: float = 50.0
    paced_broadcast_deliveries: float = 50_000.0
    paced_posters: int = 4

    def paced_broadcast_wanted(self) -> float:
        """Broadcast messages a second wanted at N streams."""
        return min(self.paced_broadcast_rate, self.paced_broadcast_deliveries / max(1, self.n))

    def ramp(self) -> list[int]:
        """Broadcast steps in deliveries per second: doubling, from max(first, N)."""
        targets = [max(self.ramp_first, self.n)]
        while targets[-1] * 2 <= self.ramp_last:
            targets.append(targets[-1] * 2)
        return targets

    @property
    def open_timeout(self) -> float:
        """How long opening N streams may take."""
        return 30.0 + self.n / 200

    @property
    def phase_timeout(self) -> float:
        """The bound on a whole phase, whatever the server does."""
        return 240.0 + 0.04 * self.n

    @property
    def warmup_timeout(self) -> float:
        """How long every reader may take to read its first message."""
        return 20.0 + self.n / 250


class Reader(Protocol):
    """An SSE stream or a long-poll loop, as the warm-up and the ledger see it."""

    index: int
    channel: Channel
    ready: bool
    floor: int
    record: Callable[[int, float], None] | None

    @property
    def open(self) -> bool:
        """Whether it can still read."""


# -- posting ---------------------------------------------------------------------------


@dataclass
class PostStats:
    """What a burst of posts did."""

    target_rate: float = 0.0
    issued: int = 0
    acked: int = 0
    behind: int = 0  # tickets dropped because every connection was busy: the server lagged
    errors: int = 0
    last_error: str = ""
    started: float = 0.0
    last_ack: float = 0.0
    rtts: list[float] = field(default_factory=list)

    @property
    def achieved_rate(self) -> float:
        """Acknowledged posts per second, from the first ticket to the last answer."""
        span = self.last_ack - self.started
        return self.acked / span if span > 0 and self.acked else 0.0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "target_rate": self.target_rate,
            "issued": self.issued,
            "acked": self.acked,
            "behind": self.behind,
            "errors": self.errors,
            "last_error": self.last_error,
            "achieved_rate": self.achieved_rate,
            "post_rtt_ms": latency_dict(Latency.of(self.rtts)),
        }


class Posters:
    """A pool of keep-alive connections that post messages, at a rate or all at once."""

    def __init__(self, adapter: Adapter, size: int):
        self.adapter = adapter
        self.connections = [HttpConnection(adapter.host, adapter.port) for _ in range(size)]
        self._counter = 0

    def close(self) -> None:
        """Close every connection."""
        for connection in self.connections:
            connection.close()

    def _next(self) -> int:
        self._counter += 1
        return self._counter

    async def _post(
        self, connection: HttpConnection, channel: Channel, stats: PostStats
    ) -> tuple[int, float] | None:
        try:
            key, sent = await self.adapter.post(connection, channel, self._next())
        except Exception as e:
            stats.errors += 1
            stats.last_error = f"{type(e).__name__}: {e}"[:300]
            return None
        now = clock()
        stats.acked += 1
        stats.last_ack = now
        stats.rtts.append(now - sent)
        return key, sent

    async def once_each(self, channels: Sequence[Channel]) -> dict[str, int]:
        """Post one message to each channel; return the keys acknowledged, by channel key."""
        keys: dict[str, int] = {}
        stats = PostStats()
        queue: asyncio.Queue[Channel] = asyncio.Queue()
        for channel in channels:
            queue.put_nowait(channel)

        async def work(connection: HttpConnection) -> None:
            while not queue.empty():
                channel = queue.get_nowait()
                result = await self._post(connection, channel, stats)
                if result is not None:
                    keys[channel.key] = max(keys.get(channel.key, 0), result[0])

        await asyncio.gather(*(work(c) for c in self.connections))
        return keys

    async def at_rate(
        self,
        rate: float,
        seconds: float,
        choose: Callable[[], Channel],
        on_ack: Callable[[Channel, int, float], None],
    ) -> PostStats:
        """Post `rate` messages a second for `seconds` (open loop), to `choose()`'s channels."""
        stats = PostStats(target_rate=rate)
        queue: asyncio.Queue[Channel | None] = asyncio.Queue(maxsize=2 * len(self.connections))

        async def work(connection: HttpConnection) -> None:
            while (channel := await queue.get()) is not None:
                result = await self._post(connection, channel, stats)
                if result is not None:
                    on_ack(channel, *result)

        workers = [asyncio.create_task(work(c)) for c in self.connections]
        total = max(1, round(rate * seconds))
        stats.started = start = clock()
        try:
            while stats.issued < total:
                due = min(total, math.floor((clock() - start) * rate) + 1)
                while stats.issued < due:
                    stats.issued += 1
                    try:
                        queue.put_nowait(choose())
                    except asyncio.QueueFull:
                        stats.behind += 1
                await asyncio.sleep(max(0.0, start + stats.issued / rate - clock()))
            for _ in workers:
                await queue.put(None)
            await asyncio.wait_for(asyncio.gather(*workers), timeout=60)
        finally:
            for worker in workers:
                worker.cancel()
        stats.issued -= stats.behind
        return stats


# -- readers ---------------------------------------------------------------------------


def _on_event(adapter: Adapter) -> Callable[[SseStream, Event, float], None]:
    """The per-event callback of every stream: warm-up, then the ledger."""
    key_of = adapter.key_of

    def on_event(stream: SseStream, event: Event, now: float) -> None:
        key = key_of(event)
        if key is not None:
            if stream.record is None:
                stream.ready = True
            elif key > stream.floor:
                stream.record(key, now)
        elif event.type == "ping":
            stream.pings += 1
        elif event.type == "hello":
            stream.hello = True

    return on_event


async def open_streams(
    server: Server, adapter: Adapter, channels: Sequence[Channel], plan: Plan, log: Log
) -> list[SseStream]:
    """Open one SSE stream per entry of `channels`, a bounded number at a time."""
    on_event = _on_event(adapter)
    streams = [
        SseStream(i, channel, adapter.stream_request(channel), on_event)
        for i, channel in enumerate(channels)
    ]
    gate = asyncio.Semaphore(plan.open_concurrency)

    async def one(stream: SseStream) -> None:
        async with gate:
            if await open_stream(adapter.host, adapter.port, stream) and adapter.has_hello:
                # Hold the gate until the server has answered, so the accept queue and
                # the server's first iterations are not flooded all at once.
                await until(lambda: stream.hello or not stream.open, 10.0)

    started = clock()
    task = asyncio.ensure_future(asyncio.gather(*(one(s) for s in streams)))
    try:
        await asyncio.wait_for(asyncio.shield(task), plan.open_timeout)
    except TimeoutError:
        log(f"  opening streams: time bound of {plan.open_timeout:.0f} s reached")
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    opened = sum(1 for s in streams if s.open)
    log(
        f"  {opened:,}/{len(streams):,} streams open in {clock() - started:.1f} s"
        + (f" ({sum(s.hello for s in streams):,} said hello)" if adapter.has_hello else "")
    )
    return streams


async def until(predicate: Callable[[], bool], timeout: float, step: float = 0.05) -> bool:
    """Whether `predicate()` became true within `timeout` seconds, checked every `step`."""
    deadline = clock() + timeout
    while not predicate():
        if clock() >= deadline:
            return False
        await asyncio.sleep(step)
    return True


async def warm_up(
    posters: Posters, readers: Sequence[Reader], timeout: float, log: Log
) -> dict[str, int]:
    """Post to every channel whose readers have not all read a message, until they have.

    Returns the warm-up floor of every channel (its highest warm-up key); readers get it.
    """
    by_channel: dict[str, list[Reader]] = {}
    channels: dict[str, Channel] = {}
    for reader in readers:
        by_channel.setdefault(reader.channel.key, []).append(reader)
        channels[reader.channel.key] = reader.channel
    floors: dict[str, int] = {}
    started = clock()
    deadline = started + timeout
    rounds = 0

    def waiting() -> list[str]:
        return [key for key, rs in by_channel.items() if any(r.open and not r.ready for r in rs)]

    pending = waiting()
    while pending and clock() < deadline:
        rounds += 1
        try:
            keys = await asyncio.wait_for(
                posters.once_each([channels[k] for k in pending]), max(1.0, deadline - clock())
            )
        except TimeoutError:
            log("  warm-up: the posts did not finish within the time bound")
            break
        for key, value in keys.items():
            floors[key] = max(floors.get(key, 0), value)
        # Wait while readers keep becoming ready, at most a few seconds per round.
        before = -1
        round_end = min(deadline, clock() + 5.0)
        while clock() < round_end:
            ready = sum(r.ready for r in readers)
            if ready == len(readers) or ready == before:
                break
            before = ready
            await asyncio.sleep(0.5)
        pending = waiting()
    for reader in readers:
        reader.floor = floors.get(reader.channel.key, 0)
    ready = sum(1 for r in readers if r.ready and r.open)
    log(
        f"  warm-up: {ready:,}/{len(readers):,} readers received a message"
        f" ({rounds} round{'s' if rounds != 1 else ''}, {clock() - started:.1f} s)"
    )
    return floors


def attach(ledger: Ledger, readers: Iterable[Reader]) -> None:
    """Start measuring: every ready reader records into `ledger` from now on."""
    for reader in readers:
        if reader.ready and reader.open:
            ledger.subscribe(reader.index, reader.channel.key)
            reader.record = ledger.recorder(reader.index)


async def drain(ledger: Ledger, plan: Plan) -> float:
    """Wait until every expected pair is read, reading stalls, or the time bound; seconds."""
    started = clock()
    deadline = started + plan.drain_seconds
    last_reads, last_progress = ledger.reads(), started
    while ledger.outstanding() > 0 and clock() < deadline:
        await asyncio.sleep(0.1)
        reads = ledger.reads()
        if reads != last_reads:
            last_reads, last_progress = reads, clock()
        elif clock() - last_progress > plan.drain_stall_seconds:
            break
    return clock() - started


# -- channels ----------------------------------------------------------------------------


async def create_channels(
    adapter: Adapter, count: int, concurrency: int = 16, timeout: float = 120.0
) -> list[Channel]:
    """`count` new channels (devtone: conversations through the API)."""
    connections = [HttpConnection(adapter.host, adapter.port) for _ in range(concurrency)]
    channels: list[Channel | None] = [None] * count
    indices = iter(range(count))

    async def work(connection: HttpConnection) -> None:
        for index in indices:
            channels[index] = await adapter.create_channel(connection, index)

    try:
        await asyncio.wait_for(asyncio.gather(*(work(c) for c in connections)), timeout)
    finally:
        for connection in connections:
            connection.close()
    return [c for c in channels if c is not None]
