"""The few-publishers phases (issue 20): 4 connections, one post in flight per conversation.

- `paced_pairs`: N SSE streams on N/2 conversations, 500 msg/s wanted.
- `paced_broadcast`: N SSE streams on one conversation, 50 msg/s wanted (at most 50,000
  deliveries/s: 10 msg/s at 5,000 streams); the first reader of each message is timed too.
- `paced_longpoll`: N long-poll loops on N/2 conversations, 500 msg/s wanted.

Each one: fresh server, warm-up (as in bench/phases.py), the paced load of
bench/pacing.py for `plan.paced_seconds`, a drain, and the ledger's verdict.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Sequence
from typing import Any

from bench.accounting import Ledger
from bench.adapters import Adapter, Channel
from bench.load import Log, Plan, Reader, attach, create_channels, drain, open_streams, until
from bench.load import warm_up as warm
from bench.measure import CpuMeter, latency_dict, stream_health
from bench.pacing import PacedPosters
from bench.phases import LongPollLoop
from bench.servers import Server


async def paced_pairs(
    server: Server, adapter: Adapter, plan: Plan, log: Log, result: dict[str, Any]
) -> dict[str, Any]:
    """N SSE streams on N/2 conversations; 500 msg/s wanted, one in flight per conversation."""
    result.update({"transport": "sse", "shape": "paced_pairs", "n": plan.n})
    channels = await create_channels(adapter, max(1, plan.n // 2))
    posters = PacedPosters(adapter, plan.paced_posters)
    try:
        assignment = [c for c in channels for _ in (0, 1)][: plan.n]
        streams = await open_streams(server, adapter, assignment, plan, log)
        try:
            await warm(posters, streams, plan.warmup_timeout, log)
            result["streams"] = stream_health(streams)
            pick = random.Random(1)
            result.update(
                await _load(server, posters, streams, plan.paced_rate, plan, log, pick.choice)
            )
            result["streams_after"] = stream_health(streams)
        finally:
            for stream in streams:
                stream.close()
    finally:
        posters.close()
    return result


async def paced_broadcast(
    server: Server, adapter: Adapter, plan: Plan, log: Log, result: dict[str, Any]
) -> dict[str, Any]:
    """N SSE streams on one conversation; 50 msg/s wanted, each post after the previous ack."""
    result.update({"transport": "sse", "shape": "paced_broadcast", "n": plan.n})
    (channel,) = await create_channels(adapter, 1)
    posters = PacedPosters(adapter, plan.paced_posters)
    try:
        streams = await open_streams(server, adapter, [channel] * plan.n, plan, log)
        try:
            await warm(posters, streams, plan.warmup_timeout, log)
            result["streams"] = stream_health(streams)
            if result["streams"]["ready"] == 0:
                result["error"] = "no stream is ready"
                return result
            rate = plan.paced_broadcast_wanted()
            result.update(await _load(server, posters, streams, rate, plan, log, lambda _: channel))
            result["streams_after"] = stream_health(streams)
        finally:
            for stream in streams:
                stream.close()
    finally:
        posters.close()
    return result


async def paced_longpoll(
    server: Server, adapter: Adapter, plan: Plan, log: Log, result: dict[str, Any]
) -> dict[str, Any]:
    """N long-poll loops on N/2 conversations; 500 msg/s wanted, one in flight per one."""
    result.update({"transport": "longpoll", "shape": "paced_pairs", "n": plan.n})
    channels = await create_channels(adapter, max(1, plan.n // 2))
    posters = PacedPosters(adapter, plan.paced_posters)
    loops = [
        LongPollLoop(i, channel, adapter, wait=25)
        for i, channel in enumerate(c for c in channels for _ in (0, 1))
    ][: plan.n]
    tasks = [asyncio.create_task(loop.run()) for loop in loops]
    try:
        await until(lambda: all(loop.requests for loop in loops), plan.open_timeout)
        await asyncio.sleep(1.0)  # let every first request reach its wait
        await warm(posters, loops, plan.warmup_timeout, log)
        await asyncio.sleep(0.5)  # every loop back in its next wait
        result["readers"] = {
            "requested": len(loops),
            "ready": sum(loop.ready for loop in loops),
            "waiting": sum(loop.in_flight for loop in loops),
        }
        log(f"  long-poll: {result['readers']['waiting']:,} requests waiting")
        pick = random.Random(1)
        result.update(await _load(server, posters, loops, plan.paced_rate, plan, log, pick.choice))
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


async def _load(
    server: Server,
    posters: PacedPosters,
    readers: Sequence[Reader],
    rate: float,
    plan: Plan,
    log: Log,
    choose: Callable[[list[Channel]], Channel],
) -> dict[str, Any]:
    """The paced load on the ready readers' conversations; every delivery judged."""
    ledger = Ledger()
    attach(ledger, readers)
    channels = list({r.channel.key: r.channel for r in readers if r.record is not None}.values())
    if not channels:
        return {"error": "no reader is ready"}
    log(
        f"  paced: {rate:.0f} msg/s wanted for {plan.paced_seconds:.0f} s over"
        f" {len(posters.connections)} connections"
    )
    meter = CpuMeter(server)
    stats = await posters.paced(
        rate,
        plan.paced_seconds,
        lambda: choose(channels),
        lambda channel, key, sent: ledger.sent(channel.key, key, sent),
    )
    cpu = meter.read()
    drained = await drain(ledger, plan)
    summary = ledger.summary()
    first = ledger.first_reads()
    log(
        f"  paced: {stats.achieved_rate:.0f} msg/s achieved ({stats.acked:,} stored,"
        f" {stats.behind:,} behind, {stats.errors:,} errors);"
        f" p50 {summary.latency.p50:.1f} ms, p99 {summary.latency.p99:.1f} ms,"
        f" first reader p50 {first.p50:.1f} ms; {summary.delivery_rate:,.0f} deliveries/s;"
        f" {summary.missing} missing, {summary.duplicate} duplicate,"
        f" {summary.out_of_order} out of order; server CPU {cpu['server_pct']:.0f} %,"
        f" client {cpu['client_pct']:.0f} %"
    )
    return {
        "posts": stats.as_dict(),
        "delivery": summary.as_dict(),
        "first_reader": latency_dict(first),
        "deliveries_per_s": summary.delivery_rate,
        "cpu": cpu,
        "drain_seconds": drained,
    }
