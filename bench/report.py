"""Results: JSON lines in, Markdown tables out (devtone, the reference, the ratio, the target).

One JSON line per phase (see bench/run.py). Several runs of the same profile are
summarised by the median of each figure over the runs.
"""

from __future__ import annotations

import json
import math
import statistics
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Record = dict[str, Any]


def read_records(paths: Iterable[Path]) -> list[Record]:
    """Every record of the given JSON-lines files."""
    records = []
    for path in paths:
        for line in Path(path).read_text().splitlines():
            if line.strip():
                records.append(json.loads(line))
    return records


def _get(record: Record | None, *path: str) -> Any:
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
        value = _get(record, *self.path)
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

FAULT_KINDS = ("missing", "duplicate", "out_of_order")


def faults(record: Record) -> dict[str, int]:
    """Missing / duplicate / out-of-order (and unexpected) over every measured delivery."""
    totals = dict.fromkeys((*FAULT_KINDS, "unexpected"), 0)
    deliveries = [_get(record, "pairs", "delivery"), _get(record, "delivery")]
    for delivery in deliveries:
        if isinstance(delivery, dict):
            for kind in totals:
                totals[kind] += int(delivery.get(kind) or 0)
    return totals


def _fmt(value: float | None, digits: int, unit: str = "") -> str:
    if value is None:
        return "–"
    if abs(value) >= 1000 and digits <= 1:
        return f"{value:,.0f}{unit}"
    return f"{value:,.{digits}f}{unit}"


def median_or_none(values: Sequence[float | None]) -> float | None:
    """The median of the values that exist."""
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


class Results:
    """Records grouped by (server label, n, transport, shape), one list entry per run."""

    def __init__(self, records: Iterable[Record]):
        self.records = [r for r in records if r.get("kind") == "phase"]
        self.runs = sorted({r["run"] for r in self.records})
        counts = Counter(
            (r["label"], r["n"], r.get("transport"), r.get("shape")) for r in self.records
        )
        self.repeats = max(counts.values(), default=0)  # runs of the most repeated phase

    def group(self, label: str, n: int, transport: str, shape: str) -> list[Record]:
        """The records of one phase, one per run."""
        return [
            r
            for r in self.records
            if r["label"] == label
            and r["n"] == n
            and r.get("transport") == transport
            and r.get("shape") == shape
        ]

    def figure(self, figure: Figure, label: str, n: int) -> float | None:
        """A figure's median over the runs."""
        return median_or_none([figure.value(r) for r in self.group(label, n, *figure.phase)])

    def fault_counts(self, label: str, n: int) -> dict[str, float]:
        """Each fault kind's median over runs of the total over the server's phases."""
        per_run: dict[str, dict[str, int]] = {}
        for record in self.records:
            if record["label"] == label and record["n"] == n:
                totals = per_run.setdefault(record["run"], dict.fromkeys(FAULT_KINDS, 0))
                for kind, count in faults(record).items():
                    if kind in totals:
                        totals[kind] += count
        if not per_run:
            return {}
        return {k: statistics.median(t[k] for t in per_run.values()) for k in FAULT_KINDS}

    def labels(self, kind: str) -> list[str]:
        """Server labels of one kind (devtone stacks, or the reference)."""
        return sorted({r["label"] for r in self.records if r["server"] == kind})

    def sizes(self) -> list[int]:
        """Every N measured."""
        return sorted({r["n"] for r in self.records})


def ratio(mine: float | None, theirs: float | None) -> str:
    """devtone ÷ reference, e.g. `2.31×`."""
    if mine is None or theirs is None or theirs == 0:
        return "–"
    return f"{mine / theirs:.2f}×"


def table(results: Results, devtone: str, reference: str | None, n: int) -> str:
    """The Markdown table of one devtone stack against the reference at one N."""
    runs = results.repeats
    ref_name = reference or "reference"
    header = (
        f"| figure (N = {n:,}) | {devtone} | {ref_name} | devtone ÷ {ref_name.split(' ')[0]}"
        " | target | met |"
    )
    lines = [header, "|---|---:|---:|---:|---|:-:|"]
    held_figure = FIGURES[0]
    short: dict[str, float] = {}  # servers that held fewer than N streams
    for label in (devtone, reference):
        held = results.figure(held_figure, label, n) if label else None
        if held is not None and held < n:
            short[label] = held
    for figure in FIGURES:
        mine = results.figure(figure, devtone, n)
        theirs = results.figure(figure, reference, n) if reference else None
        if figure.phase == ("longpoll", "pairs") and reference:
            theirs = None  # the reference has no long-poll tier
        arrow = "↑" if figure.better == "higher" else "↓"
        met = ""
        if figure.meets is not None and mine is not None:
            met = "✅" if figure.meets(mine, n) else "❌"
        mine_text = _fmt(mine, figure.digits, figure.unit)
        theirs_text = _fmt(theirs, figure.digits, figure.unit)
        if figure.path == ("streams", "ready"):
            mine_text = _held(results, devtone, n, mine)
            theirs_text = _held(results, reference, n, theirs) if reference else "–"
        elif figure.phase[0] == "sse":
            mine_text += " †" if devtone in short and mine is not None else ""
            theirs_text += " †" if reference in short and theirs is not None else ""
        lines.append(
            f"| {figure.name} {arrow} | {mine_text} | {theirs_text} | {ratio(mine, theirs)}"
            f" | {figure.target} | {met} |"
        )
    mine_faults = results.fault_counts(devtone, n)
    theirs_faults = results.fault_counts(reference, n) if reference else {}
    clean = mine_faults and all(v == 0 for v in mine_faults.values())
    lines.append(
        f"| missing / duplicate / out of order (all phases) | {_faults_text(mine_faults)}"
        f" | {_faults_text(theirs_faults)} | – | 0 / 0 / 0 | {'✅' if clean else '❌'} |"
    )
    note = f"median of {runs} runs" if runs > 1 else "one run"
    footnotes = "".join(
        f"\n† {label} held only {held:,.0f} of {n:,} streams: its SSE figures are over those"
        " (its memory per stream also counts what the failed ones left behind)."
        for label, held in short.items()
    )
    return "\n".join(lines) + f"\n\n({note}; ↑ higher is better, ↓ lower is better){footnotes}\n"


def _held(results: Results, label: str | None, n: int, ready: float | None) -> str:
    if label is None or ready is None:
        return "–"
    return f"{ready:,.0f} / {n:,}"


def _faults_text(counts: dict[str, float]) -> str:
    if not counts:
        return "–"
    return " / ".join(f"{counts[k]:g}" for k in FAULT_KINDS)


def markdown(records: Iterable[Record]) -> str:
    """Every table the records allow: one per devtone stack and N, against the reference."""
    results = Results(records)
    references = results.labels("flask-sse")
    reference = references[0] if references else None
    parts = []
    for label in results.labels("devtone"):
        for n in results.sizes():
            if results.group(label, n, "sse", "pairs") or results.group(
                label, n, "longpoll", "pairs"
            ):
                parts.append(table(results, label, reference, n))
    return "\n".join(parts) if parts else "(no results)\n"


def broadcast_steps(records: Iterable[Record]) -> str:
    """The broadcast ramps, step by step (first run of each), for the curious."""
    lines = [
        "| server | N | target deliveries/s | achieved | p99 ms | server CPU | client CPU |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    seen = set()
    for record in records:
        if record.get("kind") != "phase" or record.get("shape") != "broadcast":
            continue
        key = (record["label"], record["n"])
        if key in seen:
            continue
        seen.add(key)
        for step in record.get("steps") or []:
            lines.append(
                f"| {record['label']} | {record['n']:,} | {step['target_deliveries_per_s']:,}"
                f" | {step['deliveries_per_s']:,.0f}{' (behind)' if step['behind'] else ''}"
                f" | {_fmt(_get(step, 'delivery', 'latency', 'p99'), 1)}"
                f" | {step['cpu']['server_pct']:.0f} % | {step['cpu']['client_pct']:.0f} % |"
            )
    return "\n".join(lines) + "\n"


OVERVIEW: tuple[tuple[str, int], ...] = (
    ("open SSE streams held, all receiving", 0),
    ("server memory per open stream (PSS, incl. Redis)", 1),
    ("pairs, N/2 conversations, 500 msg/s: achieved rate", 0),
    ("pairs latency p50", 1),
    ("pairs latency p99", 0),
    ("broadcast fan-out ceiling", 0),
    ("long-poll pairs latency p99", 0),
    ("idle CPU between heartbeats, N idle streams (median 1 s sample)", 1),
    ("idle CPU averaged over a heartbeat period", 1),
)
SHORT = (
    "held",
    "PSS/stream KiB",
    "pairs msg/s",
    "pairs p50 ms",
    "pairs p99 ms",
    "fan-out/s",
    "long-poll p99 ms",
    "idle CPU %",
    "idle CPU % (mean)",
)


def overview(records: Iterable[Record]) -> str:
    """One row per server and N: the main figures side by side (medians over runs)."""
    results = Results(records)
    figures = {f.name: f for f in FIGURES}
    lines = [
        "| server | N | " + " | ".join(SHORT) + " | missing / dup / out of order |",
        "|---|---:|" + "---:|" * len(SHORT) + ":-:|",
    ]
    labels = results.labels("devtone") + results.labels("flask-sse")
    for label in labels:
        for n in results.sizes():
            if not any(r["label"] == label and r["n"] == n for r in results.records):
                continue
            cells = []
            for name, digits in OVERVIEW:
                value = results.figure(figures[name], label, n)
                if name.startswith("open SSE") and value is not None:
                    cells.append(f"{value:,.0f}")
                else:
                    cells.append(_fmt(value, digits))
            faults_text = _faults_text(results.fault_counts(label, n))
            lines.append(f"| {label} | {n:,} | " + " | ".join(cells) + f" | {faults_text} |")
    return "\n".join(lines) + "\n"
