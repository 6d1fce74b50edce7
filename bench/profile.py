"""Where a delivery's microseconds go: py-spy on devtone's worker under a steady load.

    python -m bench profile --shape pairs --rate 500 --seconds 20
    python -m bench profile --shape broadcast --n 1000 --rate 20 --seconds 20
    python -m bench profile --shape longpoll --rate 150 --seconds 20

Starts devtone (one gevent worker), opens the streams, warms up, then posts at a fixed
rate while `py-spy record --format raw` samples the worker (idle samples excluded, so the
shares are of busy CPU time). Prints the CPU per message and per delivery, and the frames
that take it: by package (self time), by function (self and inclusive time).
"""

from __future__ import annotations

import asyncio
import random
import re
import shutil
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import load, phases
from bench.accounting import Ledger
from bench.adapters import adapter_for
from bench.load import Plan, Posters
from bench.measure import CpuMeter
from bench.servers import BIN, HOST, DevtoneServer, Source

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>.*?)(?::(?P<line>\d+))?\)$")

# The package a leaf frame belongs to, by the first matching fragment of its file path
# (py-spy names files from the package on: "sqlalchemy/orm/session.py").
CATEGORIES: tuple[tuple[str, str], ...] = (
    ("devtone/realtime/sse.py", "devtone: SSE encoding"),
    ("devtone/realtime/broker.py", "devtone: broker (queues, fan-out)"),
    ("devtone/realtime/redis_broker.py", "devtone: Redis broker"),
    ("devtone/feeds/loop.py", "devtone: stream loop"),
    ("devtone/feeds/conversation.py", "devtone: conversation reader"),
    ("devtone/feeds/heads.py", "devtone: heartbeat repair"),
    ("devtone/domain/", "devtone: domain"),
    ("devtone/", "devtone: other"),
    ("sqlalchemy", "SQLAlchemy"),
    ("sqlite3/", "sqlite3 driver"),
    ("psycopg2/", "psycopg2"),
    ("redis/", "redis-py"),
    ("flask_sqlalchemy/", "Flask-SQLAlchemy"),
    ("flask/", "Flask"),
    ("werkzeug/", "Werkzeug"),
    ("gunicorn/", "gunicorn"),
    ("gevent/", "gevent (hub, sockets, queues)"),
    ("json/", "json"),
    ("logging/", "logging"),
    ("email_validator/", "email-validator"),
    ("queue.py", "stdlib queue"),
    ("threading.py", "stdlib threading"),
    ("socket.py", "stdlib socket"),
    ("<frozen", "stdlib (other)"),
)

# What the worker was doing, by the first of these frames found in the stack.
ACTIVITIES: tuple[tuple[str, str, str], ...] = (
    ("post_message", "devtone/web/api_conversations.py", "POST …/messages (store, seq, publish)"),
    ("stream", "devtone/feeds/loop.py", "SSE streams (read queue, encode, write)"),
    ("list_messages", "devtone/web/api_conversations.py", "long-poll GET …/messages"),
    ("start_conversation", "devtone/web/api_conversations.py", "POST /api/conversations"),
    ("_run", "devtone/feeds/heads.py", "heartbeat repair (one query per tick)"),
    ("__call__", "flask/app.py", "Flask around the views (context, routing, JSON response)"),
    ("handle", "gunicorn/workers/base_async.py", "gunicorn: parse requests, write responses"),
)


def category(file: str) -> str:
    """The package a source file belongs to (for the "by package" table)."""
    for fragment, name in CATEGORIES:
        if file.startswith(fragment) or "/" + fragment in file:
            return name
    if "/lib/python3" in file or "/" not in file:
        return "stdlib (other)"
    return "other"


@dataclass(frozen=True)
class Frame:
    """One frame of a sampled stack."""

    func: str
    file: str

    def named(self, func: str, file: str) -> bool:
        """Whether this is `func` (a method matches by its own name) defined in `file`."""
        return (self.func == func or self.func.endswith("." + func)) and self.file.endswith(file)

    @property
    def short(self) -> str:
        """`function (path from the package on)`."""
        path = self.file
        for marker in ("/site-packages/", "/work/main/", "/lib/python3.11/"):
            if marker in path:
                path = path.split(marker, 1)[1]
                break
        return f"{self.func} ({path})"


def parse_collapsed(lines: Iterable[str]) -> list[tuple[list[Frame], int]]:
    """py-spy's raw (collapsed) output: `root;…;leaf count` per line, root first."""
    stacks = []
    for line in lines:
        line = line.rstrip("\n")
        if not line or " " not in line:
            continue
        stack, _, count = line.rpartition(" ")
        frames = []
        for part in stack.split(";"):
            match = _FRAME.match(part)
            if match and match.group("file"):
                frames.append(Frame(match.group("func"), match.group("file")))
        if frames:
            stacks.append((frames, int(count)))
    return stacks


def activity(frames: list[Frame]) -> str:
    """What the worker was doing in this stack (see ACTIVITIES)."""
    for func, file, name in ACTIVITIES:
        if any(f.named(func, file) for f in frames):
            return name
    return "gevent hub and everything else"


@dataclass
class Shares:
    """Sample counts: self time per function and package, inclusive time per function."""

    total: int
    self_by_function: Counter[str]
    inclusive_by_function: Counter[str]
    self_by_category: Counter[str]
    by_activity: Counter[str]
    stacks: list[tuple[list[Frame], int]]

    @classmethod
    def of(cls, stacks: list[tuple[list[Frame], int]]) -> Shares:
        """Count every stack."""
        total = 0
        self_fn: Counter[str] = Counter()
        incl: Counter[str] = Counter()
        cat: Counter[str] = Counter()
        act: Counter[str] = Counter()
        for frames, count in stacks:
            total += count
            leaf = frames[-1]
            self_fn[leaf.short] += count
            cat[category(leaf.file)] += count
            act[activity(frames)] += count
            for name in {f.short for f in frames}:
                incl[name] += count
        return cls(total, self_fn, incl, cat, act, stacks)

    def children(self, func: str, file: str) -> Counter[str]:
        """Inclusive samples of each direct callee of `func` (in `file`); "(self)" for its own."""
        below: Counter[str] = Counter()
        for frames, count in self.stacks:
            for depth, frame in enumerate(frames):
                if frame.named(func, file):
                    callee = frames[depth + 1].short if depth + 1 < len(frames) else "(self)"
                    below[callee] += count
                    break
        return below


# Callers whose direct callees get a table of their own when they matter (≥ 5 %).
BREAKDOWNS: tuple[tuple[str, str, str], ...] = (
    ("post_message", "devtone/domain/conversations.py", "conversations.post_message"),
    ("stream", "devtone/feeds/loop.py", "loop.stream"),
    ("wait_for_messages", "devtone/feeds/conversation.py", "conversation.wait_for_messages"),
    ("messages_after", "devtone/domain/conversations.py", "conversations.messages_after"),
    ("handle_request", "gunicorn/workers/base_async.py", "gunicorn handle_request"),
)


def markdown(shares: Shares, per_unit_us: float, unit: str, top: int = 25) -> str:
    """Three tables: by package, by function self, by function inclusive, with µs per unit."""

    def rows(counter: Counter[str], limit: int) -> list[str]:
        out = []
        for name, count in counter.most_common(limit):
            share = count / shares.total if shares.total else 0.0
            out.append(f"| {name} | {100 * share:.1f} % | {share * per_unit_us:.1f} |")
        return out

    head = f"| {{}} | share of busy CPU | µs per {unit} |\n|---|---:|---:|"
    parts = [
        head.format("activity (inclusive)"),
        *rows(shares.by_activity, 10),
        "",
    ]
    for func, file, label in BREAKDOWNS:
        below = shares.children(func, file)
        if sum(below.values()) >= 0.05 * shares.total:
            parts += [head.format(f"inside {label} (inclusive)"), *rows(below, 14), ""]
    parts += [
        head.format("package (self time)"),
        *rows(shares.self_by_category, 30),
        "",
        head.format("function (self time)"),
        *rows(shares.self_by_function, top),
        "",
        head.format("function (inclusive time)"),
        *rows(shares.inclusive_by_function, top + 15),
    ]
    return "\n".join(parts) + "\n"


async def profile(
    shape: str,
    n: int,
    rate: float,
    seconds: float,
    stack: str,
    output: Path,
    run_id: str,
    log: Callable[[str], None],
    idle: bool = False,
    source: Source | None = None,
    gc_log: bool = False,
) -> dict[str, Any]:
    """Run one steady load against devtone under py-spy; return the measurements.

    `idle` keeps the samples of a worker that is not on the CPU (waiting in epoll, or
    blocked in a system call such as SQLite's fsync); by default they are dropped.
    """
    py_spy = shutil.which("py-spy") or str(BIN / "py-spy")
    if not Path(py_spy).exists():
        raise SystemExit("py-spy is not installed: pip install -e '.[bench]'")
    plan = Plan(n=n, posters=32)
    workdir = output.parent / f"profile-work-{run_id}"
    server = DevtoneServer(workdir, n + 2000, stack, run_id, source)
    if gc_log:
        server.gc_log = workdir / "gc"
        server.gc_log.mkdir(parents=True, exist_ok=True)
    await asyncio.to_thread(server.start)
    streams: list[Any] = []
    tasks: list[asyncio.Task] = []
    posters: Posters | None = None
    try:
        adapter = adapter_for("devtone", HOST, server.port, run_id)
        channels = await load.create_channels(adapter, 1 if shape == "broadcast" else n // 2)
        assignment = [channels[0]] * n if shape == "broadcast" else [c for c in channels] * 2
        posters = Posters(adapter, plan.posters)
        if shape == "longpoll":
            loops = [phases.LongPollLoop(i, c, adapter, 25) for i, c in enumerate(assignment)]
            streams = loops
            tasks = [asyncio.create_task(loop.run()) for loop in loops]
            await asyncio.sleep(plan.settle_seconds)
        else:
            streams = await load.open_streams(server, adapter, assignment, plan, log)
        await load.warm_up(posters, streams, plan.warmup_timeout, log)
        ledger = Ledger()
        load.attach(ledger, streams)
        worker = server.worker_pid()
        raw = output.with_suffix(".txt")
        spy = await asyncio.create_subprocess_exec(
            py_spy,
            "record",
            "--pid",
            str(worker),
            "--duration",
            str(round(seconds)),
            "--rate",
            "200",
            "--format",
            "raw",
            *(["--idle"] if idle else []),
            "--output",
            str(raw),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        await asyncio.sleep(1.0)  # py-spy attaches
        load_started = time.time()
        meter = CpuMeter(server)
        pick = random.Random(1)
        live = [c for c in channels if any(s.channel.key == c.key and s.ready for s in streams)]
        stats = await posters.at_rate(
            rate,
            seconds - 2,
            lambda: pick.choice(live),
            lambda ch, key, sent: ledger.sent(ch.key, key, sent),
        )
        cpu = meter.read()
        load_ended = time.time()
        _, err = await asyncio.wait_for(spy.communicate(), timeout=seconds + 30)
        await load.drain(ledger, plan)
        summary = ledger.summary()
        worker_pct = cpu["per_process_pct"].get(str(worker), cpu["server_pct"])
        busy_seconds = worker_pct / 100 * cpu["seconds"]
        shares = Shares.of(parse_collapsed(raw.read_text().splitlines()))
        per_message = 1e6 * busy_seconds / max(1, stats.acked)
        per_delivery = 1e6 * busy_seconds / max(1, summary.delivered)
        return {
            "devtone": server.label,
            "shape": shape,
            "idle_samples": idle,
            "n": n,
            "rate": rate,
            "achieved_rate": stats.achieved_rate,
            "deliveries": summary.delivered,
            "latency_ms": summary.latency.__dict__,
            "faults": summary.faults,
            "worker_cpu_pct": worker_pct,
            "us_per_message": per_message,
            "us_per_delivery": per_delivery,
            "samples": shares.total,
            "py_spy_stderr": err.decode(errors="replace")[-500:],
            "raw": str(raw),
            "gc": gc_pauses(server.gc_log, worker, load_started, load_ended)
            if server.gc_log
            else None,
            "markdown": markdown(
                shares,
                per_delivery if shape == "broadcast" else per_message,
                "delivery" if shape == "broadcast" else "message",
            ),
        }
    finally:
        for stream in streams:
            stream.stop() if isinstance(stream, phases.LongPollLoop) else stream.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if posters is not None:
            posters.close()
        await asyncio.to_thread(server.stop)
        shutil.rmtree(workdir, ignore_errors=True)


def gc_pauses(folder: Path, pid: int | None, start: float, end: float) -> dict[str, Any]:
    """The worker's collections of generation 2 during the load, from bench/gclog."""
    path = folder / f"gc-{pid}.log"
    pauses: list[float] = []
    if path.exists():
        for line in path.read_text().splitlines():
            at, generation, ms = line.split()
            if start <= float(at) <= end and generation == "2":
                pauses.append(float(ms))
    return {
        "gen2_count": len(pauses),
        "gen2_max_ms": max(pauses, default=0.0),
        "gen2_median_ms": statistics.median(pauses) if pauses else 0.0,
        "gen2_total_ms": sum(pauses),
        "seconds": end - start,
    }


def _gc_line(gc: dict[str, Any] | None) -> str:
    if not gc:
        return ""
    return (
        f"- garbage collector, generation 2: {gc['gen2_count']} collections in"
        f" {gc['seconds']:.0f} s, median {gc['gen2_median_ms']:.0f} ms,"
        f" longest {gc['gen2_max_ms']:.0f} ms (the worker runs nothing else meanwhile)\n"
    )


def main_summary(result: dict[str, Any]) -> str:
    """The human-readable report of one profile run."""
    lat = result["latency_ms"]
    kind = "samples (idle included)" if result["idle_samples"] else "busy samples"
    return (
        f"## {result['devtone']} under py-spy: {result['shape']}, N = {result['n']:,},"
        f" {result['rate']:g} msg/s\n\n"
        f"- achieved {result['achieved_rate']:.0f} msg/s, {result['deliveries']:,} deliveries,"
        f" p50 {lat['p50']:.1f} ms, p99 {lat['p99']:.1f} ms, faults {result['faults']}\n"
        f"- worker CPU {result['worker_cpu_pct']:.0f} % of one core:"
        f" {result['us_per_message']:.0f} µs per message,"
        f" {result['us_per_delivery']:.1f} µs per delivery\n"
        f"- {result['samples']:,} {kind}"
        f" at 200 Hz; raw stacks: {result['raw']}\n"
        + _gc_line(result.get("gc"))
        + "\n"
        + result["markdown"]
    )


if __name__ == "__main__":  # pragma: no cover - use `python -m bench profile`
    sys.exit("use: python -m bench profile --help")
