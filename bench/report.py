"""Results: JSON lines in, Markdown tables out (devtone, the references, the ratios, targets).

One JSON line per phase (see bench/run.py). Several runs of the same profile are
summarised by the median of each figure over the runs. The references are flask-sse and
nchan; each row gives devtone ÷ each of them. devtone's stacks are labelled by their name,
`devtone (embedded)`, `devtone (postgres)`, `devtone (cluster)`, and listed in that order.
"""

from __future__ import annotations

import json
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from bench.figures import FAULT_KINDS, FIGURES, PACED_FIGURES, Figure, Record, faults, get
from bench.servers import STACKS

REFERENCES = ("flask-sse", "nchan")  # server kinds measured beside devtone, in column order
#: What the cluster rows' Redis figures count, said under every table that has one.
CLUSTER_NOTE = (
    "devtone (cluster) is devtone on PostgreSQL and a Redis Cluster of 3 masters and 3"
    " replicas on loopback (the sharded broker, one SSUBSCRIBE per conversation): its"
    " memory per stream counts the PSS of all six nodes, summed, beside its own processes',"
    " and its Redis CPU the six nodes' CPU, summed; the postgres rows count their one Redis."
)


def read_records(paths: Iterable[Path]) -> list[Record]:
    """Every record of the given JSON-lines files."""
    records = []
    for path in paths:
        for line in Path(path).read_text().splitlines():
            if line.strip():
                records.append(json.loads(line))
    return records


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
        """Server labels of one kind (devtone stacks in the order of STACKS, or a reference)."""
        stacks = {r["label"]: r.get("stack") for r in self.records if r["server"] == kind}

        def order(label: str) -> tuple[int, str]:
            stack = stacks[label]
            rank = STACKS.index(stack) if stack in STACKS else len(STACKS)
            return rank, label

        return sorted(stacks, key=order)

    def on_cluster(self, label: str) -> bool:
        """Whether `label`'s records ran on the Redis Cluster stack."""
        return any(r["label"] == label and r.get("stack") == "cluster" for r in self.records)

    def sizes(self) -> list[int]:
        """Every N measured."""
        return sorted({r["n"] for r in self.records})


def ratio(mine: float | None, theirs: float | None) -> str:
    """devtone ÷ reference, e.g. `2.31×`."""
    if mine is None or theirs is None or theirs == 0:
        return "–"
    return f"{mine / theirs:.2f}×"


def table(results: Results, devtone: str, references: Sequence[str | None], n: int) -> str:
    """The Markdown table of one devtone stack at one N, beside each reference (label or None).

    One column per reference kind (REFERENCES) whether it ran or not, then devtone ÷ each.
    """
    runs = results.repeats
    names = [label or kind for label, kind in zip(references, REFERENCES, strict=True)]
    header = (
        f"| figure (N = {n:,}) | {devtone} | "
        + " | ".join(names)
        + " | "
        + " | ".join(f"devtone ÷ {kind}" for kind in REFERENCES)
        + " | target | met |"
    )
    lines = [header, "|---|" + "---:|" * (1 + 2 * len(REFERENCES)) + "---|:-:|"]
    held_figure = FIGURES[0]
    short: dict[str, float] = {}  # servers that held fewer than N streams
    for label in (devtone, *references):
        held = results.figure(held_figure, label, n) if label else None
        if label and held is not None and held < n:
            short[label] = held
    for figure in (*FIGURES, *PACED_FIGURES):
        mine = results.figure(figure, devtone, n)
        theirs = [results.figure(figure, label, n) if label else None for label in references]
        if mine is None and all(t is None for t in theirs):
            continue  # a phase this run did not measure
        arrow = "↑" if figure.better == "higher" else "↓"
        met = ""
        if figure.meets is not None and mine is not None:
            met = "✅" if figure.meets(mine, n) else "❌"
        cells = []
        for label, value in ((devtone, mine), *zip(references, theirs, strict=True)):
            if figure.path == ("streams", "ready"):
                cells.append(_held(results, label, n, value))
                continue
            text = _fmt(value, figure.digits, figure.unit)
            if figure.phase == ("sse", "pairs") and label in short and value is not None:
                text += " †"
            cells.append(text)
        ratios = [ratio(mine, value) for value in theirs]
        lines.append(
            f"| {figure.name} {arrow} | "
            + " | ".join(cells + ratios)
            + f" | {figure.target} | {met} |"
        )
    mine_faults = results.fault_counts(devtone, n)
    theirs_faults = [results.fault_counts(label, n) if label else {} for label in references]
    clean = mine_faults and all(v == 0 for v in mine_faults.values())
    lines.append(
        "| missing / duplicate / out of order (all phases) | "
        + " | ".join(_faults_text(f) for f in (mine_faults, *theirs_faults))
        + " | –" * len(REFERENCES)
        + f" | 0 / 0 / 0 | {'✅' if clean else '❌'} |"
    )
    note = f"median of {runs} runs" if runs > 1 else "one run"
    footnotes = "".join(
        f"\n† {label} held only {held:,.0f} of {n:,} streams: its SSE figures are over those"
        " (its memory per stream also counts what the failed ones left behind)."
        for label, held in short.items()
    )
    if results.on_cluster(devtone):
        footnotes += f"\n{CLUSTER_NOTE}"
    return (
        "\n".join(lines)
        + f"\n\n({note}; ↑ higher is better, so a ratio above 1× is devtone ahead; ↓ lower is"
        f" better, so a ratio below 1× is devtone ahead; – not measured){footnotes}\n"
    )


def _held(results: Results, label: str | None, n: int, ready: float | None) -> str:
    if label is None or ready is None:
        return "–"
    return f"{ready:,.0f} / {n:,}"


def _faults_text(counts: dict[str, float]) -> str:
    if not counts:
        return "–"
    return " / ".join(f"{counts[k]:g}" for k in FAULT_KINDS)


def markdown(records: Iterable[Record]) -> str:
    """Every table the records allow: one per devtone stack and N, beside the references."""
    results = Results(records)
    references = [next(iter(results.labels(kind)), None) for kind in REFERENCES]
    parts = []
    for label in results.labels("devtone"):
        for n in results.sizes():
            if any(r["label"] == label and r["n"] == n for r in results.records):
                parts.append(table(results, label, references, n))
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
                f" | {_fmt(get(step, 'delivery', 'latency', 'p99'), 1)}"
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
    labels = results.labels("devtone") + [x for k in REFERENCES for x in results.labels(k)]
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
    if any(results.on_cluster(label) for label in labels):
        lines.append(f"\n{CLUSTER_NOTE}")
    return "\n".join(lines) + "\n"
