"""`reconnect_storm`: a deploy restarts devtone's worker under N open streams.

N streams on N/2 conversations (two per conversation, as `sse_pairs`) are open and warm.
Then, as a deploy does, gunicorn is told to reload (SIGHUP: a new worker starts, the old
one ends its streams at once); while every stream is down, each conversation gets a few
messages; then every stream reconnects at the same instant with its Last-Event-ID, as
browsers do after `retry`, and more messages are posted while they come back.

Reported: when the last stream said hello again (`back_s`) and when the last one had read
every message posted while it was down (`complete_s`), both from the reconnect; the
ledger's missing, duplicate and out-of-order over everything posted after the warm-up; and
the new worker's catch-up reads against its catch-up queries (scraped from `/metrics`)
beside the distinct (conversation, cursor) pairs the reconnects asked for.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import re
import signal
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from bench.accounting import Ledger
from bench.adapters import Adapter, Channel
from bench.client import HttpConnection, SseStream, clock, open_stream
from bench.load import Log, Plan, Posters, create_channels, drain, open_streams, until, warm_up
from bench.servers import METRICS_TOKEN, Server
from bench.wire import Event, request_bytes

#: Messages posted to every conversation while its streams are down.
WHILE_DOWN = 2
#: Posts while the streams come back: this many per second, for this long.
DURING_RATE = 100.0
DURING_SECONDS = 3.0
#: Bounds: the old worker ending its streams, and every stream back and complete.
DOWN_TIMEOUT = 30.0
BACK_TIMEOUT = 60.0


async def reconnect_storm(
    server: Server, adapter: Adapter, plan: Plan, log: Log, result: dict[str, Any]
) -> dict[str, Any]:
    """N warm streams, a worker restart, every stream back at once with its Last-Event-ID."""
    result.update({"transport": "sse", "shape": "reconnect_storm", "n": plan.n})
    if server.kind != "devtone":
        result["error"] = "the storm restarts devtone's gunicorn worker; devtone only"
        return result
    channels = await create_channels(adapter, max(1, plan.n // 2))
    posters = Posters(adapter, plan.posters)
    streams: list[SseStream] = []
    try:
        assignment = [c for c in channels for _ in (0, 1)][: plan.n]
        streams = await open_streams(server, adapter, assignment, plan, log)
        await warm_up(posters, streams, plan.warmup_timeout, log)
        ledger = Ledger()
        last: dict[int, int] = {}  # the stream's Last-Event-ID, as EventSource keeps it
        acked: dict[str, int] = {}  # the highest key acknowledged, by channel
        warm = [s for s in streams if s.ready and s.open]
        for stream in warm:
            ledger.subscribe(stream.index, stream.channel.key)
            last[stream.index] = stream.floor
            stream.record = _tracking(ledger.recorder(stream.index), last, stream.index)

        def on_ack(channel: Channel, key: int, sent: float) -> None:
            ledger.sent(channel.key, key, sent)
            acked[channel.key] = max(acked.get(channel.key, 0), key)

        log(f"  storm: restarting the worker under {len(warm):,} streams (SIGHUP)")
        restarted = clock()
        assert server.process is not None
        os.kill(server.process.pid, signal.SIGHUP)
        down = await until(lambda: not any(s.open for s in warm), DOWN_TIMEOUT)
        result["down_s"] = clock() - restarted
        if not down:
            result["error"] = f"streams still open {DOWN_TIMEOUT:.0f} s after the reload"
            return result
        server.process.tree()  # the new worker, so stopping the server stops it too
        posted = await _post_each(adapter, posters, channels * WHILE_DOWN, on_ack)
        due = {channel: acked.get(channel, 0) for channel in {s.channel.key for s in warm}}
        log(
            f"  storm: streams down in {result['down_s']:.1f} s; {posted:,} messages"
            f" posted meanwhile; {len(warm):,} streams reconnect now"
        )
        pairs = {(s.channel.key, last[s.index]) for s in warm}
        reconnected = [_again(adapter, s, last) for s in warm]
        started = clock()
        pick = random.Random(2)
        during = asyncio.ensure_future(
            posters.at_rate(DURING_RATE, DURING_SECONDS, lambda: pick.choice(channels), on_ack)
        )
        await asyncio.gather(*(open_stream(adapter.host, adapter.port, s) for s in reconnected))
        back = await until(lambda: all(s.hello for s in reconnected), BACK_TIMEOUT, 0.01)
        back_s = clock() - started
        complete = await until(
            lambda: all(last[s.index] >= due[s.channel.key] for s in reconnected),
            BACK_TIMEOUT,
            0.01,
        )
        complete_s = clock() - started
        during_stats = await during
        await drain(ledger, plan)
        summary = ledger.summary()
        scraped = await _catch_up_counts(adapter)
        result["storm"] = {
            "streams": len(reconnected),
            "back": sum(s.hello for s in reconnected),
            "back_s": back_s if back else None,
            "complete_s": complete_s if complete else None,
            "failed": sum(1 for s in reconnected if s.error and not s.hello),
            "failures": dict(
                Counter(s.error[:120] for s in reconnected if s.error and not s.hello).most_common(
                    3
                )
            ),
            "posted_while_down": posted,
            "posted_during": during_stats.as_dict(),
            "distinct_pairs": len(pairs),
            **scraped,
            "delivery": summary.as_dict(),
        }
        log(
            f"  storm: {result['storm']['back']:,}/{len(reconnected):,} back in {back_s:.2f} s,"
            f" complete in {complete_s:.2f} s; catch-up queries {scraped.get('queries', '?')}"
            f" for {len(pairs):,} distinct (conversation, cursor) pairs,"
            f" {scraped.get('reads', '?')} reads; {summary.missing} missing,"
            f" {summary.duplicate} duplicate, {summary.out_of_order} out of order"
        )
        streams = streams + reconnected
        return result
    finally:
        for stream in streams:
            stream.close()
        posters.close()


async def _post_each(
    adapter: Adapter,
    posters: Posters,
    channels: list[Channel],
    on_ack: Callable[[Channel, int, float], None],
) -> int:
    """One message to each entry of `channels`, as fast as the posters go; how many stored."""
    queue = list(reversed(channels))
    numbers = itertools.count(10_000_000)  # client_ids apart from the posters' own
    stored = 0

    async def work(connection: HttpConnection) -> None:
        nonlocal stored
        while queue:
            channel = queue.pop()
            try:
                key, sent = await adapter.post(connection, channel, next(numbers))
            except Exception:  # noqa: S112 - a lost post is simply not due
                continue
            on_ack(channel, key, sent)
            stored += 1

    await asyncio.gather(*(work(c) for c in posters.connections))
    return stored


def _tracking(
    record: Callable[[int, float], None], last: dict[int, int], index: int
) -> Callable[[int, float], None]:
    """The ledger's recorder, also keeping the stream's last id for its reconnect."""

    def track(key: int, now: float) -> None:
        record(key, now)
        last[index] = key

    return track


def _again(adapter: Adapter, old: SseStream, last: dict[int, int]) -> SseStream:
    """`old`'s stream opened again with its Last-Event-ID (devtone's URL and token)."""
    channel = old.channel
    request = request_bytes(
        "GET",
        f"/api/conversations/{channel.id}/events?token={channel.token}",
        adapter.authority,
        {"Accept": "text/event-stream", "Last-Event-ID": str(last[old.index])},
    )

    def on_event(stream: SseStream, event: Event, now: float) -> None:
        key = adapter.key_of(event)
        if key is not None:
            if key > stream.floor and stream.record is not None:
                stream.record(key, now)
        elif event.type == "hello":
            stream.hello = True

    stream = SseStream(old.index, channel, request, on_event)
    stream.ready, stream.floor, stream.record = True, old.floor, old.record
    return stream


async def _catch_up_counts(adapter: Adapter) -> dict[str, Any]:
    """The new worker's catch-up reads (by reason) and queries, from its /metrics."""
    connection = HttpConnection(adapter.host, adapter.port)
    try:
        head, body, _ = await connection.request(
            "GET", "/metrics", {"Authorization": f"Bearer {METRICS_TOKEN}"}
        )
    except Exception as error:  # reported, not fatal: the storm's own figures stand
        return {"metrics_error": f"{type(error).__name__}: {error}"}
    finally:
        connection.close()
    if head.status != 200:
        return {"metrics_error": f"GET /metrics: HTTP {head.status}"}
    text = body.decode()
    reads = {
        reason: float(value)
        for reason, value in re.findall(
            r'^devtone_catch_up_reads_total\{reason="(\w+)"\} (\S+)$', text, re.M
        )
    }
    queries = re.search(r"^devtone_catch_up_queries_total (\S+)$", text, re.M)
    return {
        "reads_by_reason": reads,
        "reads": round(sum(reads.values())),
        "queries": round(float(queries.group(1))) if queries else None,
    }


def table(records: Iterable[dict[str, Any]]) -> str:
    """The storms' Markdown table, one row per run; empty when no storm ran."""
    lines = [
        "| server | N | back (s) | complete (s) | catch-up queries | distinct pairs | reads"
        " | missing / dup / out of order |",
        "|---|---:|---:|---:|---:|---:|---:|:-:|",
    ]
    for record in records:
        storm = record.get("storm") if record.get("shape") == "reconnect_storm" else None
        if storm is None:
            continue
        delivery = storm.get("delivery", {})
        faults = " / ".join(
            str(delivery.get(k, "?")) for k in ("missing", "duplicate", "out_of_order")
        )
        lines.append(
            f"| {record['label']} | {record['n']:,} | {_seconds(storm.get('back_s'))}"
            f" | {_seconds(storm.get('complete_s'))} | {_count(storm.get('queries'))}"
            f" | {storm['distinct_pairs']:,} | {_count(storm.get('reads'))} | {faults} |"
        )
    if len(lines) == 2:
        return ""
    return "Reconnect storm (target: queries ≤ distinct pairs, complete ≤ 10 s)\n\n" + (
        "\n".join(lines) + "\n"
    )


def _seconds(value: float | None) -> str:
    return "not all" if value is None else f"{value:.2f}"


def _count(value: int | None) -> str:
    return "–" if value is None else f"{value:,}"
