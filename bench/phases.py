"""The benchmark's phases, each bounded in time, on one freshly started server.

- `sse_pairs`: N streams on N/2 channels; memory per stream, idle CPU, then messages to
  random channels at a target rate (1-to-1 chat).
- `sse_broadcast`: N streams on one channel; the post rate doubles step by step until
  deliveries fall behind: the fan-out ceiling in deliveries per second.
- `longpoll_pairs`: N long-poll loops on N/2 conversations at the same target rate.

Every phase first *warms up*: one message per channel until every reader has read one
(the reference sends nothing at all before the first event, so this is also how we know
its streams are subscribed). Those messages are below each reader's `floor` and are not
measured. Then the ledger (bench/accounting.py) records every measured read.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import statistics
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from bench.accounting import Latency, Ledger
from bench.adapters import Adapter, Channel
from bench.client import HttpConnection, SseStream, clock, open_stream
from bench.procs import CpuSample, client_cpu_seconds, fd_count, pss_kib
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
            "post_rtt_ms": _latency_dict(Latency.of(self.rtts)),
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
                await _until(lambda: stream.hello or not stream.open, 10.0)

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


async def _until(predicate: Callable[[], bool], timeout: float, step: float = 0.05) -> bool:
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


# -- measurements ------------------------------------------------------------------------


def memory(server: Server) -> dict[str, int]:
    """PSS in KiB of the server's tree and of the shared processes it leans on (Redis)."""
    tree = sum(pss_kib(pid) or 0 for pid in server.tree())
    shared = sum(pss_kib(pid) or 0 for pid in server.shared_pids())
    return {"tree_kib": tree, "shared_kib": shared}


def memory_growth(before: dict[str, int], after: dict[str, int], streams: int) -> dict[str, Any]:
    """PSS growth per held stream, of the tree alone and with the shared processes."""
    tree = after["tree_kib"] - before["tree_kib"]
    shared = after["shared_kib"] - before["shared_kib"]

    def per(kib: int) -> float:
        return kib / streams if streams else math.nan

    return {
        "before": before,
        "after": after,
        "streams": streams,
        "tree_growth_kib": tree,
        "shared_growth_kib": shared,
        "per_stream_kib": per(tree + shared),
        "per_stream_tree_kib": per(tree),
        "per_stream_shared_kib": per(shared),
    }


class CpuMeter:
    """Server tree and client CPU over a span, as % of one core."""

    def __init__(self, server: Server):
        self.server = server
        self.start = CpuSample.take(server.tree())
        self.client_start = client_cpu_seconds()

    def read(self) -> dict[str, Any]:
        """CPU since the meter started."""
        end = CpuSample.take(self.server.tree())
        per_pid = end.percent_since(self.start)
        wall = end.at - self.start.at
        client = 100.0 * (client_cpu_seconds() - self.client_start) / wall if wall > 0 else 0.0
        return {
            "seconds": wall,
            "server_pct": sum(per_pid.values()),
            "per_process_pct": {str(pid): pct for pid, pct in per_pid.items()},
            "client_pct": client,
        }


async def idle_cpu(server: Server, seconds: float) -> dict[str, Any]:
    """Server CPU with every stream open and quiet, in one-second samples.

    The median sample is the figure "between heartbeats"; the mean includes them.
    """
    samples: list[float] = []
    meter = CpuMeter(server)
    previous = CpuSample.take(server.tree())
    for _ in range(max(1, round(seconds))):
        await asyncio.sleep(1.0)
        current = CpuSample.take(server.tree())
        samples.append(sum(current.percent_since(previous).values()))
        previous = current
    total = meter.read()
    return {
        "seconds": total["seconds"],
        "median_pct": statistics.median(samples),
        "mean_pct": total["server_pct"],
        "max_pct": max(samples),
        "client_pct": total["client_pct"],
        "samples_pct": [round(s, 2) for s in samples],
    }


def _latency_dict(latency: Latency) -> dict[str, float]:
    return {k: v for k, v in latency.__dict__.items()}


def stream_health(streams: Sequence[SseStream]) -> dict[str, Any]:
    """How many streams are open, ready, and why the others are not."""
    reasons = Counter(s.error or "open, no message" for s in streams if not (s.open and s.ready))
    return {
        "requested": len(streams),
        "open": sum(1 for s in streams if s.open),
        "ready": sum(1 for s in streams if s.open and s.ready),
        "failures": dict(reasons.most_common(5)),
    }


# -- phases ------------------------------------------------------------------------------


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


async def sse_pairs(
    server: Server, adapter: Adapter, plan: Plan, log: Log, result: dict[str, Any]
) -> dict[str, Any]:
    """N streams on N/2 channels: held streams, PSS per stream, idle CPU, pairs at a rate.

    Fills `result` as it goes, so a phase cut short by its time bound still reports.
    """
    result.update({"transport": "sse", "shape": "pairs", "n": plan.n})
    channels = await create_channels(adapter, max(1, plan.n // 2))
    posters = Posters(adapter, plan.posters)
    try:
        await posters.once_each(channels[:1] * 4)  # warm the POST path before the baseline
        await asyncio.sleep(0.5)
        before = memory(server)
        assignment = [c for c in channels for _ in (0, 1)][: plan.n]
        streams = await open_streams(server, adapter, assignment, plan, log)
        try:
            await warm_up(posters, streams, plan.warmup_timeout, log)
            await asyncio.sleep(plan.settle_seconds)
            health = stream_health(streams)
            result["streams"] = health
            result["memory"] = memory_growth(before, memory(server), health["ready"])
            result["server_fds"] = sum(fd_count(pid) or 0 for pid in server.tree())
            log(
                f"  memory: {result['memory']['per_stream_kib']:.1f} KiB PSS per stream"
                f" (server {result['memory']['per_stream_tree_kib']:.1f}"
                f" + shared {result['memory']['per_stream_shared_kib']:.1f})"
            )
            if plan.idle_seconds > 0:
                log(f"  idle: {plan.idle_seconds:.0f} s with {health['ready']:,} quiet streams")
                result["idle"] = await idle_cpu(server, plan.idle_seconds)
                log(
                    f"  idle CPU: median {result['idle']['median_pct']:.2f} % of a core,"
                    f" mean {result['idle']['mean_pct']:.2f} %"
                )
            result["pairs"] = await _pairs_load(server, posters, streams, plan, log)
            result["streams_after"] = stream_health(streams)
        finally:
            for stream in streams:
                stream.close()
    finally:
        posters.close()
    return result


async def _pairs_load(
    server: Server, posters: Posters, readers: Sequence[Reader], plan: Plan, log: Log
) -> dict[str, Any]:
    """Messages to random channels at the target rate; every reader's deliveries judged."""
    ledger = Ledger()
    attach(ledger, readers)
    channels = list({r.channel.key: r.channel for r in readers if r.record is not None}.values())
    if not channels:
        return {"error": "no reader is ready"}
    pick = random.Random(1)
    log(f"  pairs: {plan.pairs_rate:.0f} msg/s for {plan.pairs_seconds:.0f} s")
    meter = CpuMeter(server)
    stats = await posters.at_rate(
        plan.pairs_rate,
        plan.pairs_seconds,
        lambda: pick.choice(channels),
        lambda channel, key, sent: ledger.sent(channel.key, key, sent),
    )
    cpu = meter.read()
    drained = await drain(ledger, plan)
    summary = ledger.summary()
    log(
        f"  pairs: {stats.achieved_rate:.0f} msg/s achieved ({stats.acked:,} stored,"
        f" {stats.behind:,} behind, {stats.errors:,} errors);"
        f" p50 {summary.latency.p50:.1f} ms, p99 {summary.latency.p99:.1f} ms;"
        f" {summary.missing} missing, {summary.duplicate} duplicate,"
        f" {summary.out_of_order} out of order; server CPU {cpu['server_pct']:.0f} %,"
        f" client {cpu['client_pct']:.0f} %"
    )
    return {
        "posts": stats.as_dict(),
        "delivery": summary.as_dict(),
        "cpu": cpu,
        "drain_seconds": drained,
    }


async def sse_broadcast(
    server: Server, adapter: Adapter, plan: Plan, log: Log, result: dict[str, Any]
) -> dict[str, Any]:
    """N streams on one channel; the post rate doubles until deliveries fall behind."""
    result.update({"transport": "sse", "shape": "broadcast", "n": plan.n})
    (channel,) = await create_channels(adapter, 1)
    posters = Posters(adapter, plan.posters)
    try:
        streams = await open_streams(server, adapter, [channel] * plan.n, plan, log)
        try:
            await warm_up(posters, streams, plan.warmup_timeout, log)
            result["streams"] = stream_health(streams)
            held = result["streams"]["ready"]
            if held == 0:
                result["error"] = "no stream is ready"
                return result
            result.update(await _ramp(server, posters, streams, channel, held, plan, log))
            result["streams_after"] = stream_health(streams)
        finally:
            for stream in streams:
                stream.close()
    finally:
        posters.close()
    return result


async def _ramp(
    server: Server,
    posters: Posters,
    streams: Sequence[SseStream],
    channel: Channel,
    held: int,
    plan: Plan,
    log: Log,
) -> dict[str, Any]:
    ledger = Ledger()
    attach(ledger, streams)
    steps: list[dict[str, Any]] = []
    fell_behind_at: int | None = None
    for target in plan.ramp():
        rate = target / held
        meter = CpuMeter(server)
        started = clock()
        stats = await posters.at_rate(
            rate,
            plan.ramp_step_seconds,
            lambda: channel,
            lambda ch, key, sent: ledger.sent(ch.key, key, sent),
        )
        ended = clock()
        cpu = meter.read()
        await drain(ledger, plan)
        summary = ledger.summary(sent_from=started, sent_until=ended)
        last = summary.last_read or ended
        delivered_rate = summary.delivered / (max(last, ended) - started)
        behind = (
            summary.missing > 0
            or stats.behind > 0
            or delivered_rate < 0.9 * target
            or summary.latency.p99 > 1000
        )
        steps.append(
            {
                "target_deliveries_per_s": target,
                "post_rate": rate,
                "posts": stats.as_dict(),
                "delivery": summary.as_dict(),
                "deliveries_per_s": delivered_rate,
                "cpu": cpu,
                "behind": behind,
            }
        )
        log(
            f"  broadcast step {target:>7,}/s target: {delivered_rate:>8,.0f} deliveries/s,"
            f" p99 {summary.latency.p99:7.1f} ms, {summary.missing} missing,"
            f" server CPU {cpu['server_pct']:.0f} %, client {cpu['client_pct']:.0f} %"
            + ("  <- behind" if behind else "")
        )
        if behind:
            fell_behind_at = target
            break
    total = ledger.summary()
    return {
        "steps": steps,
        "ceiling_deliveries_per_s": max(s["deliveries_per_s"] for s in steps),
        "fell_behind_at": fell_behind_at,
        "delivery": total.as_dict(),
    }


class LongPollLoop:
    """One long-poll reader: `GET …/messages?after=cursor&wait=S`, again and again."""

    def __init__(self, index: int, channel: Channel, adapter: Adapter, wait: int):
        self.index = index
        self.channel = channel
        self.adapter = adapter
        self.wait = wait
        self.connection = HttpConnection(adapter.host, adapter.port)
        self.cursor = 0
        self.ready = False
        self.floor = 0
        self.record: Callable[[int, float], None] | None = None
        self.requests = 0
        self.errors = 0
        self.last_error = ""
        self.in_flight = False
        self.stopped = False

    @property
    def open(self) -> bool:
        """Whether the loop still runs."""
        return not self.stopped

    async def run(self) -> None:
        """Poll until cancelled; each answer's entries are read at the same instant."""
        while not self.stopped:
            self.in_flight = True
            self.requests += 1
            try:
                page = await self.adapter.poll(
                    self.connection, self.channel, self.cursor, self.wait
                )
            except Exception as e:
                self.errors += 1
                self.last_error = f"{type(e).__name__}: {e}"[:200]
                await asyncio.sleep(0.5)
                continue
            finally:
                self.in_flight = False
            now = clock()
            for key in page.keys:
                if self.record is None:
                    self.ready = True
                elif key > self.floor:
                    self.record(key, now)
            self.cursor = max(self.cursor, page.cursor)

    def stop(self) -> None:
        """Stop after this request and close the connection."""
        self.stopped = True
        self.connection.close()


async def longpoll_pairs(
    server: Server, adapter: Adapter, plan: Plan, log: Log, result: dict[str, Any]
) -> dict[str, Any]:
    """N long-poll loops on N/2 conversations; messages to random ones at the target rate."""
    result.update({"transport": "longpoll", "shape": "pairs", "n": plan.n})
    channels = await create_channels(adapter, max(1, plan.n // 2))
    posters = Posters(adapter, plan.posters)
    loops = [
        LongPollLoop(i, channel, adapter, wait=25)
        for i, channel in enumerate(c for c in channels for _ in (0, 1))
    ][: plan.n]
    tasks = [asyncio.create_task(loop.run()) for loop in loops]
    try:
        await _until(lambda: all(loop.requests for loop in loops), plan.open_timeout)
        await asyncio.sleep(plan.settle_seconds)  # let every first request reach its wait
        await warm_up(posters, loops, plan.warmup_timeout, log)
        await asyncio.sleep(0.5)  # every loop back in its next wait
        waiting = sum(loop.in_flight for loop in loops)
        result["waiting"] = waiting
        result["readers"] = {
            "requested": len(loops),
            "ready": sum(loop.ready for loop in loops),
            "waiting": waiting,
        }
        log(f"  long-poll: {waiting:,} requests waiting")
        result["pairs"] = await _pairs_load(server, posters, loops, plan, log)
        result["readers"]["errors"] = sum(loop.errors for loop in loops)
        result["readers"]["requests"] = sum(loop.requests for loop in loops)
    finally:
        for loop in loops:
            loop.stop()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        posters.close()
    return result
