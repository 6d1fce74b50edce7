"""What the benchmark reports: each figure, where its number sits in a phase record, its target.

Shared by the tables (bench/report.py) and the charts (bench/charts.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Record = dict[str, Any]


def get(record: Record | None, *path: str) -> Any:
    """The value at `path` in a nested record, or None."""
    value: Any = record
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


@dataclass(frozen=True)
class Figure:
    """One row of the table: where its number comes from and how it reads."""

    name: str
    phase: tuple[str, str]  # (transport, shape)
    path: tuple[str, ...]
    unit: str
    better: str  # "higher" or "lower"
    target: str
    meets: Callable[[float, int], bool] | None = None  # (value, n) -> target met?
    digits: int = 1

    def value(self, record: Record | None) -> float | None:
        """The figure in one phase record, or None."""
        value = get(record, *self.path)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return None
        return float(value)


FIGURES: tuple[Figure, ...] = (
    Figure(
        "open SSE streams held, all receiving",
        ("sse", "pairs"),
        ("streams", "ready"),
        "",
        "higher",
        "all N (10,000)",
        lambda v, n: v >= n,
        0,
    ),
    Figure(
        "server memory per open stream (PSS, incl. Redis)",
        ("sse", "pairs"),
        ("memory", "per_stream_kib"),
        " KiB",
        "lower",
        "≤ 20 KB",
        lambda v, n: v <= 20,
    ),
    Figure(
        "pairs, N/2 conversations, 500 msg/s: achieved rate",
        ("sse", "pairs"),
        ("pairs", "posts", "achieved_rate"),
        " msg/s",
        "higher",
        "500",
        lambda v, n: v >= 490,
        0,
    ),
    Figure(
        "pairs latency p50",
        ("sse", "pairs"),
        ("pairs", "delivery", "latency", "p50"),
        " ms",
        "lower",
        "≤ 5 ms",
        lambda v, n: v <= 5,
        2,
    ),
    Figure(
        "pairs latency p99",
        ("sse", "pairs"),
        ("pairs", "delivery", "latency", "p99"),
        " ms",
        "lower",
        "≤ 25 ms",
        lambda v, n: v <= 25,
        2,
    ),
    Figure(
        "server CPU during pairs (% of one core)",
        ("sse", "pairs"),
        ("pairs", "cpu", "server_pct"),
        " %",
        "lower",
        "",
        None,
        0,
    ),
    Figure(
        "broadcast fan-out ceiling",
        ("sse", "broadcast"),
        ("ceiling_deliveries_per_s",),
        " deliveries/s",
        "higher",
        "≥ 25k",
        lambda v, n: v >= 25_000,
        0,
    ),
    Figure(
        "long-poll pairs, 500 msg/s: achieved rate",
        ("longpoll", "pairs"),
        ("pairs", "posts", "achieved_rate"),
        " msg/s",
        "higher",
        "500",
        lambda v, n: v >= 490,
        0,
    ),
    Figure(
        "long-poll pairs latency p99",
        ("longpoll", "pairs"),
        ("pairs", "delivery", "latency", "p99"),
        " ms",
        "lower",
        "≤ 30 ms",
        lambda v, n: v <= 30,
        2,
    ),
    Figure(
        "server memory per waiting long-poll (PSS)",
        ("longpoll", "pairs"),
        ("memory", "per_stream_kib"),
        " KiB",
        "lower",
        "≤ 15 KB",
        lambda v, n: v <= 15,
    ),
    Figure(
        "idle CPU between heartbeats, N idle streams (median 1 s sample)",
        ("sse", "pairs"),
        ("idle", "median_pct"),
        " %",
        "lower",
        "≤ 5 %",
        lambda v, n: v <= 5,
        2,
    ),
    Figure(
        "idle CPU averaged over a heartbeat period",
        ("sse", "pairs"),
        ("idle", "mean_pct"),
        " %",
        "lower",
        "",
        None,
        2,
    ),
)

# The few-publishers shape (bench/paced.py); targets from issue 20.
PACED_FIGURES: tuple[Figure, ...] = (
    Figure(
        "few publishers, pairs, 500 msg/s wanted: achieved",
        ("sse", "paced_pairs"),
        ("posts", "achieved_rate"),
        " msg/s",
        "higher",
        "500",
        lambda v, n: v >= 490,
        0,
    ),
    Figure(
        "few publishers, pairs: delivery p50",
        ("sse", "paced_pairs"),
        ("delivery", "latency", "p50"),
        " ms",
        "lower",
        "",
        None,
        2,
    ),
    Figure(
        "few publishers, pairs: delivery p99",
        ("sse", "paced_pairs"),
        ("delivery", "latency", "p99"),
        " ms",
        "lower",
        "≤ 25 ms",
        lambda v, n: v <= 25,
        2,
    ),
    Figure(
        "few publishers, pairs: server CPU (% of one core)",
        ("sse", "paced_pairs"),
        ("cpu", "server_pct"),
        " %",
        "lower",
        "≤ 70 %",
        lambda v, n: v <= 70,
        0,
    ),
    Figure(
        "few publishers, pairs: Redis CPU (% of one core; a cluster's six nodes summed)",
        ("sse", "paced_pairs"),
        ("cpu", "shared_pct"),
        " %",
        "lower",
        "",
        None,
        0,
    ),
    Figure(
        "few publishers, broadcast, 50 msg/s wanted (10 at 5,000): achieved",
        ("sse", "paced_broadcast"),
        ("posts", "achieved_rate"),
        " msg/s",
        "higher",
        "50 (10 at 5,000)",
        lambda v, n: v >= 0.98 * min(50.0, 50_000 / max(1, n)),
        1,
    ),
    Figure(
        "few publishers, broadcast: first-reader p50",
        ("sse", "paced_broadcast"),
        ("first_reader", "p50"),
        " ms",
        "lower",
        "≤ 5 ms",
        lambda v, n: v <= 5,
        2,
    ),
    Figure(
        "few publishers, broadcast: delivery p50",
        ("sse", "paced_broadcast"),
        ("delivery", "latency", "p50"),
        " ms",
        "lower",
        "",
        None,
        2,
    ),
    Figure(
        "few publishers, broadcast: delivery p99",
        ("sse", "paced_broadcast"),
        ("delivery", "latency", "p99"),
        " ms",
        "lower",
        "≤ 100 ms (250 at 5,000)",
        lambda v, n: v <= (100 if n <= 1_000 else 250),
        2,
    ),
    Figure(
        "few publishers, broadcast: deliveries/s",
        ("sse", "paced_broadcast"),
        ("deliveries_per_s",),
        " /s",
        "higher",
        "",
        None,
        0,
    ),
    Figure(
        "few publishers, long-poll pairs, 500 msg/s wanted: achieved",
        ("longpoll", "paced_pairs"),
        ("posts", "achieved_rate"),
        " msg/s",
        "higher",
        "500",
        lambda v, n: v >= 490,
        0,
    ),
    Figure(
        "few publishers, long-poll pairs: delivery p99",
        ("longpoll", "paced_pairs"),
        ("delivery", "latency", "p99"),
        " ms",
        "lower",
        "≤ 50 ms",
        lambda v, n: v <= 50,
        2,
    ),
)

FAULT_KINDS = ("missing", "duplicate", "out_of_order")


def faults(record: Record) -> dict[str, int]:
    """Missing / duplicate / out-of-order (and unexpected) over every measured delivery."""
    totals = dict.fromkeys((*FAULT_KINDS, "unexpected"), 0)
    deliveries = [get(record, "pairs", "delivery"), get(record, "delivery")]
    for delivery in deliveries:
        if isinstance(delivery, dict):
            for kind in totals:
                totals[kind] += int(delivery.get(kind) or 0)
    return totals
