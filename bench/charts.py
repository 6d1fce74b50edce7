"""PNG charts of benchmark results: per shape, latency percentiles and achieved rate.

One picture per shape (and N, when the records hold several): on the left the delivery
latency p50 / p90 / p99 of every server (log scale: nchan's fractions of a millisecond
and a saturated worker's hundreds sit on one axis), on the right the rate each achieved
against the rate wanted. devtone stacks come first, then flask-sse, then nchan; the
values are medians over the runs the records hold, as in the tables.

`chart_data` is pure (records in, numbers out); `draw` needs matplotlib (the `bench`
extra) and uses its Agg backend, so no display is needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.figures import Figure, Record
from bench.report import REFERENCES, Results

PERCENTILES = ("p50", "p90", "p99")
COLOURS = {"devtone": "#2563eb", "flask-sse": "#f59e0b", "nchan": "#10b981"}
#: devtone's stacks in shades of its blue, so each bar's legend entry tells them apart.
STACK_COLOURS = {"embedded": "#2563eb", "postgres": "#1e3a8a", "cluster": "#7c3aed"}


@dataclass(frozen=True)
class Shape:
    """One chart: which phase records it reads and where their numbers sit."""

    name: str  # the file name, e.g. paced_pairs.png
    title: str
    phase: tuple[str, str]  # (transport, shape) as the records name it
    latency: tuple[str, ...]  # path to the latency summary (p50, p90, p99 in ms)
    rate: tuple[str, ...]  # path to the achieved rate
    wanted: tuple[str, ...] | None  # path to the rate wanted, if there is one
    unit: str


SHAPES: tuple[Shape, ...] = (
    Shape(
        "sse_pairs",
        "SSE pairs, 32 publisher connections",
        ("sse", "pairs"),
        ("pairs", "delivery", "latency"),
        ("pairs", "posts", "achieved_rate"),
        ("pairs", "posts", "target_rate"),
        "msg/s",
    ),
    Shape(
        "sse_broadcast",
        "SSE broadcast ramp, 32 publisher connections",
        ("sse", "broadcast"),
        ("delivery", "latency"),
        ("ceiling_deliveries_per_s",),
        None,
        "deliveries/s (ceiling)",
    ),
    Shape(
        "longpoll_pairs",
        "Long-poll pairs, 32 publisher connections",
        ("longpoll", "pairs"),
        ("pairs", "delivery", "latency"),
        ("pairs", "posts", "achieved_rate"),
        ("pairs", "posts", "target_rate"),
        "msg/s",
    ),
    Shape(
        "paced_pairs",
        "SSE pairs, 4 publishers, one post in flight per conversation",
        ("sse", "paced_pairs"),
        ("delivery", "latency"),
        ("posts", "achieved_rate"),
        ("posts", "target_rate"),
        "msg/s",
    ),
    Shape(
        "paced_broadcast",
        "SSE broadcast, 4 publishers, one post in flight",
        ("sse", "paced_broadcast"),
        ("delivery", "latency"),
        ("posts", "achieved_rate"),
        ("posts", "target_rate"),
        "msg/s",
    ),
    Shape(
        "paced_longpoll",
        "Long-poll pairs, 4 publishers, one post in flight per conversation",
        ("longpoll", "paced_pairs"),
        ("delivery", "latency"),
        ("posts", "achieved_rate"),
        ("posts", "target_rate"),
        "msg/s",
    ),
)


@dataclass(frozen=True)
class Bar:
    """One server's numbers on one chart (None where it has none)."""

    label: str
    kind: str  # devtone, flask-sse, nchan: its colour
    latency_ms: dict[str, float | None]
    rate: float | None
    wanted: float | None
    colour: str = "#888888"


def _median(
    results: Results, path: tuple[str, ...], shape: Shape, label: str, n: int
) -> float | None:
    figure = Figure(shape.name, shape.phase, path, "", "lower", "")
    return results.figure(figure, label, n)


def chart_data(records: list[Record]) -> dict[tuple[str, int], list[Bar]]:
    """For each (shape name, N) measured, one Bar per server: devtone first, then references."""
    results = Results(records)
    labels = [(label, "devtone") for label in results.labels("devtone")]
    labels += [(label, kind) for kind in REFERENCES for label in results.labels(kind)]
    stacks = {r["label"]: r.get("stack") for r in results.records}
    charts: dict[tuple[str, int], list[Bar]] = {}
    for shape in SHAPES:
        for n in results.sizes():
            bars = []
            for label, kind in labels:
                if not results.group(label, n, *shape.phase):
                    continue
                latency = {
                    p: _median(results, (*shape.latency, p), shape, label, n) for p in PERCENTILES
                }
                rate = _median(results, shape.rate, shape, label, n)
                wanted = _median(results, shape.wanted, shape, label, n) if shape.wanted else None
                colour = COLOURS.get(kind, "#888888")
                if kind == "devtone":
                    colour = STACK_COLOURS.get(stacks.get(label) or "", colour)
                bars.append(Bar(label, kind, latency, rate, wanted, colour))
            if bars:
                charts[(shape.name, n)] = bars
    return charts


def draw(records: list[Record], folder: Path) -> list[Path]:
    """Write one PNG per shape (and N) into `folder`; the paths written."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    charts = chart_data(records)
    sizes = {n for _, n in charts}
    shapes = {s.name: s for s in SHAPES}
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for (name, n), bars in charts.items():
        path = folder / (f"{name}.png" if len(sizes) == 1 else f"{name}-n{n}.png")
        figure = _figure(pyplot, shapes[name], n, bars)
        figure.tight_layout()
        figure.savefig(path, dpi=80)
        pyplot.close(figure)
        written.append(path)
    return written


def _figure(pyplot: Any, shape: Shape, n: int, bars: list[Bar]) -> Any:
    from matplotlib import ticker

    figure, (left, right) = pyplot.subplots(
        1, 2, figsize=(10, 3.4), gridspec_kw={"width_ratios": [3, 2]}
    )
    figure.suptitle(f"{shape.title}, N = {n:,}", fontsize=11)
    width = 0.8 / max(1, len(bars))
    for i, bar in enumerate(bars):
        xs = [j + (i - (len(bars) - 1) / 2) * width for j in range(len(PERCENTILES))]
        values = [bar.latency_ms[p] or 0.0 for p in PERCENTILES]
        drawn = left.bar(xs, values, width, label=bar.label, color=bar.colour)
        left.bar_label(
            drawn, labels=[_short(bar.latency_ms[p]) for p in PERCENTILES], fontsize=7, padding=1
        )
    left.set_yscale("log")
    left.set_xticks(range(len(PERCENTILES)), PERCENTILES)
    left.set_ylabel("delivery latency, ms (log)")
    top = max((v for b in bars for v in b.latency_ms.values() if v), default=1.0)
    left.set_ylim(top=top * 4)  # room for the value labels
    left.legend(fontsize=8, loc="upper left", ncol=len(bars), frameon=False)
    left.grid(axis="y", alpha=0.3)
    names = [bar.label for bar in bars]
    rates = [bar.rate or 0.0 for bar in bars]
    drawn = right.barh(names, rates, color=[bar.colour for bar in bars])
    right.bar_label(drawn, labels=[_short(bar.rate) for bar in bars], fontsize=8, padding=2)
    wanted = [bar.wanted for bar in bars if bar.wanted]
    if wanted:
        right.axvline(max(wanted), color="#444444", linestyle="--", linewidth=1)
        right.text(max(wanted), -0.5, " wanted", fontsize=8, va="top")
    right.xaxis.set_major_locator(ticker.MaxNLocator(nbins=5))
    right.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: _thousands(v)))
    right.set_xlabel(f"achieved, {shape.unit}")
    right.set_xlim(0, max([*rates, *wanted, 1.0]) * 1.25)
    right.grid(axis="x", alpha=0.3)
    right.set_ylim(len(bars) - 0.5, -0.7)
    return figure


def _thousands(value: float) -> str:
    return f"{value / 1000:g}k" if abs(value) >= 1000 else f"{value:g}"


def _short(value: float | None) -> str:
    if value is None:
        return "–"
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"
