"""What the phases measure on the server: memory per stream, CPU, stream health."""

from __future__ import annotations

import asyncio
import math
import statistics
from collections import Counter
from collections.abc import Sequence
from typing import Any

from bench.accounting import Latency
from bench.client import SseStream
from bench.procs import CpuSample, client_cpu_seconds, pss_kib
from bench.servers import Server


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
    """Server tree and client CPU over a span, as % of one core; and apart, the shared
    processes' (Redis: one server, or the six nodes of a cluster, summed)."""

    def __init__(self, server: Server):
        self.server = server
        self.shared = server.shared_pids()  # read once: finding Redis's PID asks Redis
        self.start = CpuSample.take(server.tree())
        self.shared_start = CpuSample.take(self.shared)
        self.client_start = client_cpu_seconds()

    def read(self) -> dict[str, Any]:
        """CPU since the meter started."""
        end = CpuSample.take(self.server.tree())
        per_pid = end.percent_since(self.start)
        wall = end.at - self.start.at
        client = 100.0 * (client_cpu_seconds() - self.client_start) / wall if wall > 0 else 0.0
        shared = CpuSample.take(self.shared).percent_since(self.shared_start)
        return {
            "seconds": wall,
            "server_pct": sum(per_pid.values()),
            "per_process_pct": {str(pid): pct for pid, pct in per_pid.items()},
            "client_pct": client,
            # None without shared processes (embedded, nchan): not 0 %, not measured.
            "shared_pct": sum(shared.values()) if self.shared else None,
            "shared_per_process_pct": {str(pid): pct for pid, pct in shared.items()},
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


def latency_dict(latency: Latency) -> dict[str, float]:
    """A latency summary, JSON-ready."""
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
