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
import random
from collections.abc import Callable, Sequence
from typing import Any

from bench.accounting import Ledger
from bench.adapters import Adapter, Channel
from bench.client import HttpConnection, SseStream, clock
from bench.load import (
    Log,
    Plan,
    Posters,
    Reader,
    attach,
    create_channels,
    drain,
    open_streams,
    until,
    warm_up,
)
from bench.measure import CpuMeter, idle_cpu, memory, memory_growth, stream_health
from bench.procs import fd_count
from bench.servers import Server


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
    tasks: list[asyncio.Task[None]] = []
    try:
        await posters.once_each(channels[:1] * 4)  # warm the POST path before the baseline
        await asyncio.sleep(0.5)
        before = memory(server)
        tasks = [asyncio.create_task(loop.run()) for loop in loops]
        await until(lambda: all(loop.requests for loop in loops), plan.open_timeout)
        await asyncio.sleep(plan.settle_seconds)  # let every first request reach its wait
        await warm_up(posters, loops, plan.warmup_timeout, log)
        await asyncio.sleep(0.5)  # every loop back in its next wait
        waiting = sum(loop.in_flight for loop in loops)
        result["waiting"] = waiting
        # What a waiting long-poll costs, as a held stream's PSS is measured: the growth
        # from before the loops started, over the requests waiting now.
        result["memory"] = memory_growth(before, memory(server), waiting)
        log(f"  memory: {result['memory']['per_stream_kib']:.1f} KiB PSS per waiting long-poll")
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
